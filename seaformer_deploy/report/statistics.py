"""The latency decision statistics: one-sided Mann-Whitney U on per-launch medians, the change of the median
with a bootstrap confidence interval, and the smallest change the baseline's own noise lets us call real.

Each launch is one sample (its median): runs inside one launch share a process, caches and a thermal state,
so they are not independent; launches are.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seaformer_deploy.errors import UsageError

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class DecisionRule:
    """When a change counts.

    Attributes:
        threshold: smallest relative change of the median that matters (0.05 = 5%).
        alpha: significance level of each one-sided Mann-Whitney U test.
        min_launches: fewer launches on a side make the comparison inconclusive.
        noise_factor: a change must also reach this many times the baseline's CV between launches.
        max_miou_drop: an mIoU drop (percentage points) beyond this is a regression too; None = not checked.
    """

    threshold: float = 0.05
    alpha: float = 0.01
    min_launches: int = 6
    noise_factor: float = 2.0
    max_miou_drop: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise UsageError(f"alpha must be between 0 and 1, got {self.alpha}")
        if self.threshold < 0:
            raise UsageError(f"threshold must be >= 0, got {self.threshold}")
        if self.max_miou_drop is not None and self.max_miou_drop < 0:
            raise UsageError(f"max mIoU drop must be >= 0, got {self.max_miou_drop}")


@dataclass(frozen=True)
class LatencyTest:
    """Baseline vs current launch medians. ``change`` is median(current) / median(baseline) - 1."""

    baseline_launches: int
    current_launches: int
    baseline_median_ms: float
    current_median_ms: float
    change: float
    ci_low: float
    ci_high: float
    p_slower: float
    p_faster: float
    baseline_cv: float
    current_cv: float
    min_effect: float

    def decisive(self, rule: DecisionRule) -> bool:
        """Whether the change is beyond the noise of both sides: significant, at least ``noise_factor`` x the
        larger CV between launches, and with its whole 95% interval beyond the threshold. What lets a verdict
        stand when a side is unstable."""
        slower = self.p_slower < rule.alpha and self.ci_low >= rule.threshold
        faster = self.p_faster < rule.alpha and self.ci_high <= -rule.threshold
        return (slower or faster) and abs(self.change) >= rule.noise_factor * max(self.baseline_cv, self.current_cv)

    def change_text(self) -> str:
        """``+7.3% [+5.1%, +9.8%]``: the change of the median and its 95% interval."""
        return f"{self.change:+.1%} [{self.ci_low:+.1%}, {self.ci_high:+.1%}]"


def cv(values: Sequence[float]) -> float:
    """Coefficient of variation (sample standard deviation over mean); 0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean > 0 else 0.0


def median_ratio_interval(denominator: Sequence[float], numerator: Sequence[float], *,
                          paired: bool = False) -> tuple[float, float]:
    """The bootstrap confidence interval (``CONFIDENCE``, percentile) of ``median(numerator) /
    median(denominator)``. ``paired`` resamples index-aligned samples together (runs interleaved round by
    round, where one slow round slows both sides); otherwise the two sides are resampled independently."""
    from scipy import stats

    den = np.asarray(denominator, dtype=float)
    num = np.asarray(numerator, dtype=float)

    def median_ratio(d: np.ndarray, n: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(n, axis=axis) / np.median(d, axis=axis)

    if np.ptp(den) == 0 and np.ptp(num) == 0:
        # Identical samples: every resample gives the same ratio and the interval is that point.
        point = float(median_ratio(den, num))
        return point, point
    interval = stats.bootstrap((den, num), median_ratio, paired=paired, confidence_level=CONFIDENCE,
                               n_resamples=BOOTSTRAP_RESAMPLES, method="percentile", vectorized=True,
                               rng=np.random.default_rng(BOOTSTRAP_SEED)).confidence_interval
    return float(interval.low), float(interval.high)


def compare_latency(baseline_ms: Sequence[float], current_ms: Sequence[float], rule: DecisionRule) -> LatencyTest:
    """Compare two sets of launch medians (each side needs at least two launches)."""
    from scipy import stats

    base = np.asarray(baseline_ms, dtype=float)
    cur = np.asarray(current_ms, dtype=float)
    if base.size < 2 or cur.size < 2:
        raise ValueError("a latency test needs at least two launches per side")
    p_slower = float(stats.mannwhitneyu(cur, base, alternative="greater").pvalue)
    p_faster = float(stats.mannwhitneyu(cur, base, alternative="less").pvalue)

    low, high = (bound - 1.0 for bound in median_ratio_interval(base, cur))
    baseline_cv = cv(base.tolist())
    return LatencyTest(
        baseline_launches=int(base.size), current_launches=int(cur.size),
        baseline_median_ms=float(np.median(base)), current_median_ms=float(np.median(cur)),
        change=float(np.median(cur) / np.median(base) - 1.0), ci_low=low, ci_high=high, p_slower=p_slower,
        p_faster=p_faster,
        baseline_cv=baseline_cv, current_cv=cv(cur.tolist()),
        min_effect=max(rule.threshold, rule.noise_factor * baseline_cv))

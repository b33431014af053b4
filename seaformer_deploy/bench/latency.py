"""Latency launches and their summary: each launch is an independent process or session; we keep each
launch's centre (median, else mean) and judge stability across launches.

Stability rule (DESIGN.md section 6): a coefficient of variation of the launch centres >= 10%, or any launch
still throttled after its retries, makes the measurement inconclusive.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from seaformer_deploy.bench.bm_log import RunStats

UNSTABLE_CV = 0.10


@dataclass
class Launch:
    """One independent launch: statistics of its measured runs (microseconds) and its conditions."""

    index: int
    stats: RunStats
    per_run_us: list[float] = field(default_factory=list)
    source: str = "host timer"
    thermal_before: dict[str, Any] | None = None
    thermal_after: dict[str, Any] | None = None
    throttled: bool = False
    retries: int = 0
    duration_s: float | None = None
    memory: dict[str, Any] | None = None

    @property
    def centre_us(self) -> float | None:
        return self.stats.median_us if self.stats.median_us is not None else self.stats.avg_us

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "source": self.source,
            "stats_us": self.stats.to_dict(),
            "centre_ms": None if self.centre_us is None else self.centre_us / 1e3,
            "per_run_us": self.per_run_us,
            "thermal_before": self.thermal_before,
            "thermal_after": self.thermal_after,
            "throttled": self.throttled,
            "retries": self.retries,
            "duration_s": self.duration_s,
            "memory": self.memory,
        }


def summarize(launches: list[Launch]) -> dict[str, Any]:
    """Median of launch centres, spread across launches and the stability verdict, in milliseconds."""
    centres = [launch.centre_us for launch in launches if launch.centre_us is not None]
    if not centres:
        return {"launches": 0, "median_ms": None, "stable": False, "reasons": ["no launch produced timings"]}
    mean = statistics.fmean(centres)
    cv = statistics.stdev(centres) / mean if len(centres) > 1 and mean > 0 else 0.0
    all_runs = sorted(v for launch in launches for v in launch.per_run_us)
    reasons = []
    if cv >= UNSTABLE_CV:
        reasons.append(f"launch-to-launch CV {cv:.1%} >= {UNSTABLE_CV:.0%}")
    throttled = [launch.index for launch in launches if launch.throttled]
    if throttled:
        reasons.append(f"launches {throttled} ran throttled")
    return {
        "launches": len(centres),
        "median_ms": statistics.median(centres) / 1e3,
        "mean_ms": mean / 1e3,
        "min_ms": min(launch.stats.min_us for launch in launches if launch.stats.min_us is not None) / 1e3,
        "max_ms": max(launch.stats.max_us for launch in launches if launch.stats.max_us is not None) / 1e3,
        "p90_ms": all_runs[len(all_runs) * 90 // 100] / 1e3 if all_runs else None,
        "cv_between_launches": cv,
        "runs_per_launch": [launch.stats.count for launch in launches],
        "stable": not reasons,
        "reasons": reasons,
    }

"""The performance targets, their verdicts, and how far this host lets a graph go towards each one.

A ratio target (our fp32 / the plain conversion, int8 / our fp32) has a floor on this host. The convolutions
(CONV_2D and DEPTHWISE_CONV_2D) are the same multiply-adds in every graph form of the model and run on the same
kernels, so a graph whose other ops all took no time would still take the convolutions' share of the latency:
the floor is the measured ratio times that share, read from the LiteRT op profile of the numerator's model at
1 thread. A thread speed-up target has a ceiling: what the runtime's best case on this host, the 1x1-conv-only
peak model, gains from the same threads. A target beyond its floor or ceiling cannot be met by rewriting the
graph around the convolutions as they run here; its verdict says so and names the lever below the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seaformer_deploy.models.label_methods import DEFAULT_LABELS_METHOD
from seaformer_deploy.report.statistics import median_ratio_interval

CONVOLUTIONS = ("CONV_2D", "DEPTHWISE_CONV_2D")
FP32_LEVER = ("faster convolutions, below the graph: a runtime that fuses the inverted-residual expand -> "
              "depthwise -> project chain")
INT8_LEVER = ("int8 convolution kernels that gain more over fp32 than this host's (an ARM phone's NEON "
              "dot-product kernels: seaformer-bench --device adb:SERIAL)")
THREAD_LEVER = ("cores that scale better than this host's: a phone's big cores, seaformer-bench --device "
                "adb:SERIAL --threads 2 and 4")

Row = dict[str, object]


@dataclass(frozen=True)
class Bound:
    """How far this host lets any graph go: a ``floor`` for an upper-limit target, a ``ceiling`` for a
    lower-limit one, what it is made of (``basis``) and what would move it (``lever``)."""

    kind: Literal["floor", "ceiling"]
    value: float
    basis: str
    lever: str

    def excludes(self, limit: float) -> bool:
        """True when no graph can meet ``limit`` on this host: the floor lies above it, or the ceiling below."""
        return self.value > limit if self.kind == "floor" else self.value < limit


@dataclass(frozen=True)
class Verdict:
    """One target: its name, the measured value as text, whether it is met, this host's bound on it, and whether
    that bound puts the target out of reach of any graph here."""

    target: str
    measured: str
    met: bool
    bound: Bound | None = None
    out_of_reach: bool = False

    def line(self) -> str:
        text = f"{'PASS' if self.met else 'MISS'}  {self.target}: {self.measured}"
        if self.bound is not None:
            text += f"; {self.bound.kind} on this host {self.bound.value:.3f} ({self.bound.basis})"
        if self.out_of_reach:
            text += f": out of reach here, lever: {self.bound.lever}"  # type: ignore[union-attr]
        return text

    def as_json(self) -> dict[str, object]:
        bound = None if self.bound is None else {
            "kind": self.bound.kind, "value": self.bound.value, "basis": self.bound.basis, "lever": self.bound.lever}
        return {"target": self.target, "measured": self.measured, "met": self.met, "bound": bound,
                "out_of_reach": self.out_of_reach}


def at_most(target: str, measured: str, value: float, limit: float, floor: Bound | None = None) -> Verdict:
    """The verdict of ``value <= limit``, out of reach when ``floor`` lies above the limit."""
    return Verdict(target, measured, value <= limit, floor,
                   value > limit and floor is not None and floor.excludes(limit))


def at_least(target: str, measured: str, value: float, limit: float, ceiling: Bound | None = None) -> Verdict:
    """The verdict of ``value >= limit``, out of reach when ``ceiling`` lies below the limit."""
    return Verdict(target, measured, value >= limit, ceiling,
                   value < limit and ceiling is not None and ceiling.excludes(limit))


def convolution_share(op_times: dict[str, float]) -> float:
    """The share of the op time (us per op type, one profile) spent in convolutions."""
    total = sum(op_times.values())
    return sum(op_times.get(op, 0.0) for op in CONVOLUTIONS) / total if total else 0.0


def ratio_floor(ratio: float, numerator_op_times: dict[str, float] | None, lever: str) -> Bound | None:
    """The lowest ``ratio`` a graph could reach keeping the numerator's convolutions as they run: the ratio
    times their share of the numerator's op time (None without a profile)."""
    if not numerator_op_times:
        return None
    share = convolution_share(numerator_op_times)
    return Bound("floor", ratio * share, f"the convolutions alone, {share:.0%} of its op time", lever)


def thread_ceiling(peak_speedup: float | None) -> Bound | None:
    """The speed-up the host's peak model gains from 2 threads (None when not measured)."""
    if peak_speedup is None:
        return None
    return Bound("ceiling", peak_speedup, "the 1x1-conv peak model's 2-thread speed-up", THREAD_LEVER)


def _ratio(numerator: Row, denominator: Row, *, paired: bool) -> tuple[float, str]:
    """The ratio of two rows' medians, and its text with the 95% bootstrap interval: ``paired`` for rows timed
    in the same interleaved rounds, independent samples otherwise (different thread counts)."""
    ratio = numerator["median_ms"] / denominator["median_ms"]  # type: ignore[operator]
    low, high = median_ratio_interval(denominator["times_ms"], numerator["times_ms"], paired=paired)  # type: ignore[arg-type]
    return ratio, f"{ratio:.3f} [95% CI {low:.3f}, {high:.3f}]"


def verdicts(rows: list[Row], export_cost: dict[str, float], op_types: dict[str, dict[str, dict[str, float]]],
             peak_speedup: float | None) -> list[Verdict]:
    """Every target's verdict. ``op_types`` maps variant -> profiled config -> us per op type (1 thread);
    ``peak_speedup`` is the peak model's 2-thread speed-up over 1 thread (None when not measured)."""
    get = {(r["variant"], r["threads"], r["config"]): r for r in rows}
    found: list[Verdict] = []
    for variant in sorted({str(r["variant"]) for r in rows}):
        profiles = op_types.get(variant, {})
        fp32 = get.get((variant, 1, "fp32"))
        plain = get.get((variant, 1, "plain fp32"))
        if fp32:
            found.append(at_most(f"{variant} fp32 TRANSPOSE <= 10", str(fp32["transposes"]),
                                 fp32["transposes"], 10))  # type: ignore[arg-type]
            found.append(Verdict(f"{variant} fp32 one XNNPACK partition", str(fp32["partitions"]),
                                 fp32["partitions"] == 1))
        if fp32 and plain:
            ratio, text = _ratio(fp32, plain, paired=True)
            found.append(at_most(f"{variant} fp32 / plain <= 0.90 (1 thread)", text, ratio, 0.90,
                                 ratio_floor(ratio, profiles.get("fp32"), FP32_LEVER)))
        for config in ("int8", "int8 float-stem", "int8 int8-io"):
            quantized = get.get((variant, 1, config))
            if fp32 and quantized:
                ratio, text = _ratio(quantized, fp32, paired=True)
                found.append(at_most(f"{variant} {config} / fp32 <= 0.50 (1 thread)", text, ratio, 0.50,
                                     ratio_floor(ratio, profiles.get(config), INT8_LEVER)))
                found.append(Verdict(f"{variant} {config} one XNNPACK partition", str(quantized["partitions"]),
                                     quantized["partitions"] == 1))
        labels = get.get((variant, 1, f"labels {DEFAULT_LABELS_METHOD}"))
        if fp32 and labels:
            ratio, text = _ratio(labels, fp32, paired=True)
            found.append(at_most(f"{variant} labels ({DEFAULT_LABELS_METHOD}) / logits <= 1.6", text, ratio, 1.6))
        for config in ("fp32", "int8", "int8 int8-io"):
            one, two = get.get((variant, 1, config)), get.get((variant, 2, config))
            if one and two:
                speedup, text = _ratio(one, two, paired=False)
                found.append(at_least(f"{variant} {config} 2-thread speedup >= 1.9", text, speedup, 1.9,
                                      thread_ceiling(peak_speedup)))
    if export_cost:
        found.append(at_most(f"{export_cost['variant']} fp32 TFLite export <= 30 s",
                             f"{export_cost['wall_seconds']:.1f} s", export_cost["wall_seconds"], 30))
        found.append(Verdict(f"{export_cost['variant']} export peak memory < 2 GB",
                             f"{export_cost['peak_rss_mb']:.0f} MB", export_cost["peak_rss_mb"] < 2048))
    return found

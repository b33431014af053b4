"""What every device measures, in engine-neutral types: run statistics, launches and per-op profiles.

A ``Launch`` is one independent process or session (a fresh interpreter on this host, one benchmark_model
process on a phone); we keep each launch's centre (median, else mean) and judge stability across launches:
a coefficient of variation of the launch centres >= ``UNSTABLE_CV``, or any launch still throttled after its
retries, makes the measurement inconclusive.

An ``OpProfile`` holds one event per operator execution of the measured runs (warm-up runs are never
included) and the wall-clock end-to-end time of each of those runs, so the share of the latency that the
per-op numbers do not explain (``e2e - sum of ops``) is always visible.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from seaformer_deploy.errors import DeviceError, UsageError

UNSTABLE_CV = 0.10

LaunchProgress = Callable[[int, int], None]
"""Called with (launches done, launches planned) while a device measures."""


def _jsonable(value: Any) -> Any:
    # JSON has no NaN/inf; benchmark_model prints "nan" for empty statistics.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


class JsonRecord:
    """Mixin for dataclasses whose ``to_dict`` is strict JSON (nested dataclasses included)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of builtins; non-finite floats become None."""
        return _jsonable(dataclasses.asdict(self))  # type: ignore[call-overload]


@dataclass(frozen=True)
class RunStats(JsonRecord):
    """Statistics of the measured runs of one launch, in microseconds. ``count == 0`` leaves every value None."""

    count: int
    first_us: float | None
    curr_us: float | None
    min_us: float | None
    max_us: float | None
    avg_us: float | None
    std_us: float | None
    median_us: float | None = None
    p90_us: float | None = None
    p5_us: float | None = None
    p95_us: float | None = None

    @classmethod
    def from_samples(cls, samples_us: Sequence[float]) -> RunStats:
        """Statistics the way benchmark_model computes them: population std, nearest-rank percentiles."""
        values = [float(v) for v in samples_us]
        if not values:
            return cls(0, None, None, None, None, None, None)
        n = len(values)
        avg = sum(values) / n
        std = math.sqrt(max(sum(v * v for v in values) / n - avg * avg, 0.0))
        ordered = sorted(values)

        def rank(p: int) -> float:
            return ordered[n * p // 100]

        return cls(n, values[0], values[-1], ordered[0], ordered[-1], avg, std,
                   median_us=rank(50), p90_us=rank(90), p5_us=rank(5), p95_us=rank(95))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunStats:
        return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})


@dataclass(frozen=True)
class ThermalReading(JsonRecord):
    """A phone's thermal state at one moment, in degC.

    ``status`` is the thermal service's (0 none, > 0 throttling; None when unreadable); ``hottest_c`` is what
    the cooldown gate compares: the hottest CPU zone, else the hottest zone, else the CPU temperatures the
    thermal HAL reports, else the battery.
    """

    status: int | None
    zones_c: dict[str, float]
    battery_c: float | None
    hottest_c: float | None

    @property
    def throttled(self) -> bool:
        return (self.status or 0) > 0

    def is_cool(self, cool_temp_c: float) -> bool:
        """Not throttled and the hottest temperature (when readable) below ``cool_temp_c``."""
        return not self.throttled and (self.hottest_c is None or self.hottest_c < cool_temp_c)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThermalReading:
        return cls(status=data["status"], zones_c=dict(data["zones_c"]), battery_c=data["battery_c"],
                   hottest_c=data["hottest_c"])


def _thermal_or_none(data: dict[str, Any] | None) -> ThermalReading | None:
    return None if data is None else ThermalReading.from_dict(data)


@dataclass(frozen=True)
class PhoneProcess:
    """What one benchmark_model process on a phone left behind besides its statistics (not reported).

    ``stdout`` is benchmark_model's own output (runner marker lines removed); ``output_files`` maps
    ``"outputs"`` (raw output tensors, concatenated in model output order) and ``"op_profile"`` (CSV) to the
    pulled host files when they were asked for; ``cooldown_wait_s`` is the cooldown gate's wait, ``pinned``
    whether taskset pinned the process to ``cpu_mask``.
    """

    stdout: str
    output_files: dict[str, Path] = field(default_factory=dict)
    cooldown_wait_s: float = 0.0
    pinned: bool | None = None
    cpu_mask: str | None = None


@dataclass
class Launch:
    """One independent launch: statistics of its measured runs (microseconds) and its conditions.

    ``thermal_before`` is the cooldown gate's last reading and ``thermal_after`` the reading right after the
    process ended (phones only); ``retries`` counts the throttled runs of this launch that were thrown away and
    ``cooldown_wait_s`` the seconds the cooldown gate waited before it (retries included; None off phones).
    ``process`` is the phone process's raw output; it is not part of the report.
    """

    index: int
    stats: RunStats
    per_run_us: list[float] = field(default_factory=list)
    source: str = "host timer"
    thermal_before: ThermalReading | None = None
    thermal_after: ThermalReading | None = None
    throttled: bool = False
    retries: int = 0
    duration_s: float | None = None
    memory: dict[str, Any] | None = None
    cooldown_wait_s: float | None = None
    process: PhoneProcess | None = field(default=None, compare=False, repr=False)

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
            "thermal_before": None if self.thermal_before is None else self.thermal_before.to_dict(),
            "thermal_after": None if self.thermal_after is None else self.thermal_after.to_dict(),
            "throttled": self.throttled,
            "retries": self.retries,
            "cooldown_wait_s": self.cooldown_wait_s,
            "duration_s": self.duration_s,
            "memory": self.memory,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Launch:
        return cls(index=data["index"], stats=RunStats.from_dict(data["stats_us"]),
                   per_run_us=list(data["per_run_us"]), source=data["source"],
                   thermal_before=_thermal_or_none(data["thermal_before"]),
                   thermal_after=_thermal_or_none(data["thermal_after"]),
                   throttled=data["throttled"], retries=data["retries"], duration_s=data["duration_s"],
                   memory=data["memory"], cooldown_wait_s=data.get("cooldown_wait_s"))


class PartialMeasurementError(DeviceError):
    """A device failed after some launches finished; ``launches`` holds those (exit 2)."""

    def __init__(self, message: str, launches: Sequence[Launch]) -> None:
        super().__init__(message)
        self.launches: list[Launch] = list(launches)


@dataclass(frozen=True)
class LatencySummary:
    """The latency verdict over all launches, in milliseconds: median of launch centres, spread, stability.

    With no timed launch only ``launches``, ``median_ms``, ``stable`` and ``reasons`` are meaningful (and
    reported).
    """

    launches: int
    median_ms: float | None
    stable: bool
    reasons: list[str]
    mean_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    p90_ms: float | None = None
    cv_between_launches: float | None = None
    runs_per_launch: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        if self.launches == 0:
            return {"launches": 0, "median_ms": None, "stable": self.stable, "reasons": list(self.reasons)}
        return {"launches": self.launches, "median_ms": self.median_ms, "mean_ms": self.mean_ms,
                "min_ms": self.min_ms, "max_ms": self.max_ms, "p90_ms": self.p90_ms,
                "cv_between_launches": self.cv_between_launches, "runs_per_launch": list(self.runs_per_launch),
                "stable": self.stable, "reasons": list(self.reasons)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencySummary:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


def _ms(us: float | None) -> float | None:
    return None if us is None else us / 1e3


def summarize(launches: list[Launch]) -> LatencySummary:
    """Median of launch centres, spread across launches and the stability verdict."""
    centres = [launch.centre_us for launch in launches if launch.centre_us is not None]
    if not centres:
        return LatencySummary(launches=0, median_ms=None, stable=False, reasons=["no launch produced timings"])
    mean = statistics.fmean(centres)
    cv = statistics.stdev(centres) / mean if len(centres) > 1 and mean > 0 else 0.0
    all_runs = sorted(v for launch in launches for v in launch.per_run_us)
    reasons = []
    if cv >= UNSTABLE_CV:
        reasons.append(f"launch-to-launch CV {cv:.1%} >= {UNSTABLE_CV:.0%}")
    throttled = [launch.index for launch in launches if launch.throttled]
    if throttled:
        reasons.append(f"launches {throttled} ran throttled")
    return LatencySummary(
        launches=len(centres),
        median_ms=statistics.median(centres) / 1e3,
        mean_ms=mean / 1e3,
        # A launch imported from a summary-only log knows its average alone.
        min_ms=_ms(min((launch.stats.min_us for launch in launches if launch.stats.min_us is not None),
                       default=None)),
        max_ms=_ms(max((launch.stats.max_us for launch in launches if launch.stats.max_us is not None),
                       default=None)),
        p90_ms=all_runs[len(all_runs) * 90 // 100] / 1e3 if all_runs else None,
        cv_between_launches=cv,
        runs_per_launch=[launch.stats.count for launch in launches],
        stable=not reasons,
        reasons=reasons,
    )


# --- per-op profiles ------------------------------------------------------------------------------------


def check_run_args(runs: int, warmup: int, num_threads: int) -> None:
    """Reject measurement settings no profiler can honour."""
    if runs < 1 or warmup < 0 or num_threads < 1:
        raise UsageError(
            f"need runs >= 1, warmup >= 0 and num_threads >= 1, got {runs}, {warmup}, {num_threads}"
        )


@dataclass(frozen=True)
class OpEvent:
    """One operator execution.

    Attributes:
        name: the runtime's label (TFLite op code such as ``CONV_2D``, an XNNPACK operator name, or an
            ONNX node name such as ``/backbone/smb1/layer1/conv/conv.0/c/Conv``).
        op_type: the graph op type (TFLite op code of the node, ONNX ``op_type``).
        node_index: index of the graph node the event belongs to, or None when it is not known.
        elapsed_us: time spent in the operator, microseconds.
        run: 0-based index of the measured run.
    """

    name: str
    op_type: str
    node_index: int | None
    elapsed_us: float
    run: int


@dataclass(frozen=True)
class OpTotal:
    """One op over all measured runs: ``avg_us`` its mean time per run, ``pct`` its share of the ops.

    ``median_us`` is the median over runs of the op's time in each run, which one preempted run cannot move
    the way it moves the mean; None in tables read from reports written before it existed.
    """

    name: str
    op_type: str
    node_index: int | None
    count: int
    avg_us: float
    pct: float
    median_us: float | None = None


@dataclass
class OpProfile:
    """Per-op events and end-to-end times of ``len(e2e_us)`` measured runs of one model on one engine.

    ``node_names`` maps a node index to the name that carries its PyTorch module path, when the engine
    knows it (TFLite: the node's output tensor name; ONNX: the node name, resolved through the optimised
    graph for nodes ONNX Runtime created). Attribution uses it; it is empty when unknown.
    ``runs_are_averages`` is True when the one "run" holds per-op averages over runs the tool did not report
    one by one (benchmark_model), so no statistic over runs can be taken.
    """

    engine: str
    kernel_mode: str
    events: list[OpEvent]
    e2e_us: list[float]
    notes: list[str] = field(default_factory=list)
    node_names: dict[int, str] = field(default_factory=dict)
    runs_are_averages: bool = False

    @property
    def runs(self) -> int:
        return len(self.e2e_us)

    def sum_of_ops_us_per_run(self) -> list[float]:
        """Sum of all op times of each measured run, in run order."""
        totals = [0.0] * self.runs
        for event in self.events:
            totals[event.run] += event.elapsed_us
        return totals

    def per_op_table(self) -> list[OpTotal]:
        """Ops aggregated by (node index, name) in first-execution order; ``pct`` is of the sum of ops."""
        grouped: dict[tuple[int | None, str], list[OpEvent]] = {}
        for event in self.events:
            grouped.setdefault((event.node_index, event.name), []).append(event)
        grand_total = sum(event.elapsed_us for event in self.events)
        runs = max(self.runs, 1)
        rows = []
        for (node_index, name), events in grouped.items():
            total = sum(event.elapsed_us for event in events)
            per_run = [0.0] * runs
            for event in events:
                per_run[event.run] += event.elapsed_us
            rows.append(OpTotal(name=name, op_type=events[0].op_type, node_index=node_index, count=len(events),
                                avg_us=total / runs, pct=100.0 * total / grand_total if grand_total > 0 else 0.0,
                                median_us=statistics.median(per_run)))
        return rows

    def to_dict(self, *, include_events: bool = False) -> dict[str, Any]:
        """JSON-ready summary: run times, sum of ops per run, per-op table; optionally events and names."""
        payload: dict[str, Any] = {
            "engine": self.engine,
            "kernel_mode": self.kernel_mode,
            "runs": self.runs,
            "e2e_us": list(self.e2e_us),
            "sum_of_ops_us": self.sum_of_ops_us_per_run(),
            "notes": list(self.notes),
            "ops": [asdict(row) for row in self.per_op_table()],
        }
        if include_events:
            payload["events"] = [asdict(event) for event in self.events]
            payload["node_names"] = {str(index): name for index, name in self.node_names.items()}
        return payload


@dataclass(frozen=True)
class DeviceProfile:
    """A device's per-op profile: ``modules`` is the one attribution maps to modules; ``delegate_ops`` the
    delegate's own rows kept beside it when they cannot be attributed (XNNPACK on a phone), else None."""

    modules: OpProfile | None
    delegate_ops: OpProfile | None = None

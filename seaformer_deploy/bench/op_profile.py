"""Engine-neutral per-op latency records: what the LiteRT and ONNX Runtime profilers both produce.

An ``OpProfile`` holds one event per operator execution of the measured runs (warm-up runs are never
included) and the wall-clock end-to-end time of each of those runs, so the share of the latency that the
per-op numbers do not explain (``e2e - sum of ops``) is always visible.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from seaformer_deploy.errors import UsageError


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
class OpRow:
    """Aggregate of one op over all measured runs: ``avg_us`` is its mean time per run."""

    name: str
    op_type: str
    node_index: int | None
    count: int
    avg_us: float
    pct: float


@dataclass
class OpProfile:
    """Per-op events and end-to-end times of ``len(e2e_us)`` measured runs of one model on one engine.

    ``node_names`` maps a node index to the name that carries its PyTorch module path, when the engine
    knows it (TFLite: the node's output tensor name; ONNX: the node name, resolved through the optimised
    graph for nodes ONNX Runtime created). Attribution uses it; it is empty when unknown.
    """

    engine: str
    kernel_mode: str
    events: list[OpEvent]
    e2e_us: list[float]
    notes: list[str] = field(default_factory=list)
    node_names: dict[int, str] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.e2e_us)

    def sum_of_ops_us_per_run(self) -> list[float]:
        """Sum of all op times of each measured run, in run order."""
        totals = [0.0] * self.runs
        for event in self.events:
            totals[event.run] += event.elapsed_us
        return totals

    def per_op_table(self) -> list[OpRow]:
        """Ops aggregated by (node index, name) in first-execution order; ``pct`` is of the sum of ops."""
        grouped: dict[tuple[int | None, str], list[OpEvent]] = {}
        for event in self.events:
            grouped.setdefault((event.node_index, event.name), []).append(event)
        grand_total = sum(event.elapsed_us for event in self.events)
        runs = max(self.runs, 1)
        rows = []
        for (node_index, name), events in grouped.items():
            total = sum(event.elapsed_us for event in events)
            rows.append(
                OpRow(
                    name=name,
                    op_type=events[0].op_type,
                    node_index=node_index,
                    count=len(events),
                    avg_us=total / runs,
                    pct=100.0 * total / grand_total if grand_total > 0 else 0.0,
                )
            )
        return rows

    def to_dict(self, *, include_events: bool = False) -> dict[str, Any]:
        """JSON-ready summary: run times, sum of ops per run, per-op table; optionally events and names."""
        sums = self.sum_of_ops_us_per_run()
        payload: dict[str, Any] = {
            "engine": self.engine,
            "kernel_mode": self.kernel_mode,
            "runs": self.runs,
            "e2e_us": list(self.e2e_us),
            "sum_of_ops_us": sums,
            "notes": list(self.notes),
            "ops": [asdict(row) for row in self.per_op_table()],
        }
        if include_events:
            payload["events"] = [asdict(event) for event in self.events]
            payload["node_names"] = {str(index): name for index, name in self.node_names.items()}
        return payload

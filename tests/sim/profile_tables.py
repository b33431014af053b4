"""Statistics and profile tables as the simulated benchmark_model prints them (see fake_benchmark_model.py):
tsl::Stat, the per-node accumulators, XNNPACK's view of the nodes, and StatsCalculator's tables (stdout and CSV).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def cpp(value: float) -> str:
    """A double as C++ ``operator<<`` prints it by default (6 significant digits, %g style)."""
    return f"{value:.6g}"


@dataclass
class Stat:
    """tsl::Stat<int64_t>: the statistics benchmark_model prints."""

    values: list[int] = field(default_factory=list)

    def add(self, value: int) -> None:
        self.values.append(int(value))

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def total(self) -> int:
        return sum(self.values)

    @property
    def first(self) -> int:
        return self.values[0] if self.values else 0

    @property
    def avg(self) -> float:
        return self.total / self.count if self.values else math.nan

    def std(self) -> int:
        if self.count == 0 or min(self.values) == max(self.values):
            return 0
        # Population variance, then sqrt; both pass through int64 in tsl::Stat.
        variance = int(sum(v * v for v in self.values) / self.count - self.avg * self.avg)
        return int(math.sqrt(max(variance, 0)))

    def text(self) -> str:
        if not self.values:
            return "count=0"
        if min(self.values) == max(self.values):
            return f"count={self.count} curr={self.values[-1]}" + ("(all same)" if self.count > 1 else "")
        return (
            f"count={self.count} first={self.first} curr={self.values[-1]} min={min(self.values)} "
            f"max={max(self.values)} avg={cpp(self.avg)} std={self.std()}"
        )


@dataclass
class Node:
    name: str
    type: str
    run_order: int
    elapsed: Stat = field(default_factory=Stat)
    mem_kb: float = 0.0


# --------------------------------------------------------------------------- profile tables

# How XNNPACK names the operator a TFLite node becomes; None: the node disappears inside XNNPACK.
XNNPACK_NAMES = {
    "CONV_2D": "Convolution (NHWC, F32) IGEMM",
    "DEPTHWISE_CONV_2D": "Convolution (NHWC, F32) DWConv",
    "FULLY_CONNECTED": "Fully Connected (NC, F32) GEMM",
    "ADD": "Add (ND, F32)",
    "MUL": "Multiply (ND, F32)",
    "MEAN": "Mean (ND, F32)",
    "TRANSPOSE": "Transpose (ND, X32)",
    "BATCH_MATMUL": "Batch Matrix Multiply (NC, F32)",
    "SOFTMAX": "Softmax (NC, F32)",
    "RELU6": "Clamp (NC, F32)",
    "CONCATENATION": "Concatenate (ND, X32)",
    "RESIZE_BILINEAR": "Resize Bilinear (NHWC, F32)",
    "RESHAPE": None,
    "PAD": None,
}


def xnnpack_rows(nodes: list[Node], per_operator: bool = False) -> list[Node]:
    """The delegate's view of ``nodes``: one row per XNNPACK operator name, in first-use order (with
    ``per_operator``, as LiteRT 2.x prints them: one row per operator, ``Delegate/<name>:<operator index>``).

    A node XNNPACK elides (reshape, pad) costs nothing of its own: its share of each run goes to the next
    operator (a pad is folded into the convolution after it), the last ones' to the operator before.
    """
    rows: dict[str, Node] = {}
    pending = [0] * (nodes[0].elapsed.count if nodes else 0)
    last: Node | None = None
    for node in nodes:
        name = XNNPACK_NAMES.get(node.type, f"{node.type.title()} (ND, F32)")
        if name is None:
            pending = [p + v for p, v in zip(pending, node.elapsed.values, strict=True)]
            continue
        key = f"{name}#{len(rows)}" if per_operator else name
        row = rows.setdefault(key, Node(f"Delegate/{name}:{len(rows)}", name, len(rows)))
        for run, value in enumerate(node.elapsed.values):
            row.elapsed.add(value + pending[run])
        pending = [0] * len(pending)
        last = row
    if last is not None and any(pending):
        # Fold what trails the last operator into that operator's calls (its values were appended last).
        offset = last.elapsed.count - len(pending)
        for run, value in enumerate(pending):
            last.elapsed.values[offset + run] += value
    return list(rows.values())


def _field(text: str, width: int) -> str:
    return "\t" + text.rjust(width)


def _table(title: str, nodes: list[Node], run_total: Stat, csv: bool, start: bool = False) -> str:
    """One table; ``start`` adds the [start] column of 2018 builds (the run-order offset of each node)."""
    lines = [f"============================== {title} =============================="]
    if csv:
        lines.append("node type, first, avg_ms, %, cdf%, mem KB, times called, name")
    else:
        lines.append(
            _field("[node type]", 40)
            + (_field("[start]", 9) if start else "")
            + _field("[first]", 9)
            + _field("[avg ms]", 9)
            + _field("[%]", 8)
            + _field("[cdf%]", 8)
            + _field("[mem KB]", 10)
            + _field("[times called]", 9)
            + "\t[Name]"
        )
    cumulative = 0
    offset_ms = 0.0
    for node in nodes:
        start_ms, offset_ms = offset_ms, offset_ms + node.elapsed.avg / 1000.0
        cumulative += node.elapsed.total
        first_ms, avg_ms = node.elapsed.first / 1000.0, node.elapsed.avg / 1000.0
        pct = node.elapsed.total * 100.0 / run_total.total
        cdf = cumulative * 100.0 / run_total.total
        times_called = node.elapsed.count // run_total.count
        if csv:
            name = node.name.replace(",", "\t")
            lines.append(
                f"{node.type}, {cpp(first_ms)}, {cpp(avg_ms)}, {cpp(pct)}%, {cpp(cdf)}%, "
                f"{cpp(node.mem_kb)}, {times_called}, {name}"
            )
        else:
            lines.append(
                _field(node.type, 40)
                + (_field(f"{start_ms:.3f}", 9) if start else "")
                + _field(f"{first_ms:.3f}", 9)
                + _field(f"{avg_ms:.3f}", 9)
                + _field(f"{pct:.3f}", 7)
                + "%"
                + _field(f"{cdf:.3f}", 7)
                + "%"
                + _field(f"{node.mem_kb:.3f}", 10)
                + _field(str(times_called), 9)
                + "\t"
                + node.name
            )
    return "\n".join(lines) + "\n\n"


def _by_node_type(nodes: list[Node], run_total: Stat, csv: bool) -> str:
    import numpy as np

    count: dict[str, int] = {}
    time_us: dict[str, int] = {}
    called: dict[str, int] = {}
    for node in nodes:
        count[node.type] = count.get(node.type, 0) + 1
        time_us[node.type] = time_us.get(node.type, 0) + int(node.elapsed.total / run_total.count)
        called[node.type] = called.get(node.type, 0) + node.elapsed.count // run_total.count
    accumulated = sum(time_us.values())
    lines = [
        f"Number of nodes executed: {len(nodes)}",
        "============================== Summary by node type ==============================",
    ]
    if csv:
        lines.append("node type, count, avg_ms, avg %, cdf %, mem KB, times called")
    else:
        lines.append(
            _field("[Node type]", 40)
            + _field("[count]", 9)
            + _field("[avg ms]", 10)
            + _field("[avg %]", 11)
            + _field("[cdf %]", 11)
            + _field("[mem KB]", 10)
            + _field("[times called]", 10)
        )
    cdf = np.float32(0.0)
    # std::priority_queue<pair<time, pair<type, mem>>>: largest time first, ties by larger type name.
    for node_type in sorted(time_us, key=lambda t: (time_us[t], t), reverse=True):
        ms = np.float32(time_us[node_type] / 1000.0)
        pct = (
            np.float32(time_us[node_type] / np.float32(accumulated) * 100.0) if accumulated else np.float32(0)
        )
        cdf = np.float32(cdf + pct)
        if csv:
            lines.append(
                f"{node_type}, {count[node_type]}, {cpp(float(ms))}, {cpp(float(pct))}%, "
                f"{cpp(float(cdf))}%, 0, {called[node_type]}"
            )
        else:
            lines.append(
                _field(node_type, 40)
                + _field(str(count[node_type]), 9)
                + _field(f"{ms:.3f}", 10)
                + _field(f"{pct:.3f}", 10)
                + "%"
                + _field(f"{cdf:.3f}", 10)
                + "%"
                + _field(f"{0.0:.3f}", 10)
                + _field(str(called[node_type]), 9)
            )
    return "\n".join(lines) + "\n\n"


def profile_report(nodes: list[Node], run_total: Stat, csv: bool, start: bool = False) -> str:
    """ProfileSummaryDefaultFormatter::GetOutputString for the primary graph (memory tables off)."""
    by_order = sorted(nodes, key=lambda n: n.run_order)
    by_time = sorted(nodes, key=lambda n: n.elapsed.avg, reverse=True)[:10]
    return (
        _table("Run Order", by_order, run_total, csv, start)
        + _table("Top by Computation Time", by_time, run_total, csv, start)
        + _by_node_type(nodes, run_total, csv)
        + f"Timings (microseconds): {run_total.text()}\nMemory (bytes): count=0\n"
        + f"{len(nodes)} nodes observed\n\n"
    )


# --------------------------------------------------------------------------- the benchmark


def litert_rows(nodes: list[Node]) -> list[Node]:
    """LiteRT 2.x's run rows: its buffer bookkeeping around one row per XNNPACK operator."""
    operators = xnnpack_rows(nodes, per_operator=True)
    runs = operators[0].elapsed.count if operators else 0
    around = []
    for tag, order in (("LiteRT::Run[buffer registration]", -1), ("LiteRT::Run[Buffer sync]", len(operators))):
        node = Node(f"{tag}/0", tag, order)
        for _ in range(runs):
            node.elapsed.add(2)
        around.append(node)
    return [around[0], *operators, around[1]]

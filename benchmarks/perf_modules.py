"""Per-module time and achieved GMAC/s of one fp32 TFLite model against this host's measured peak, and time per
op type (to compare int8 with fp32 kernel by kernel).

Times come from the LiteRT op profiler (XNNPACK operators mapped back to graph nodes), MACs from the node
shapes in the file (convolutions, fully connected, batch matmul); nodes are grouped by the SeaFormer module
their tensor names carry.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from seaformer_deploy.bench.attribution import GAP, UNATTRIBUTED, attribute, module_of
from seaformer_deploy.bench.litert.nodes import tflite_node_names
from seaformer_deploy.bench.litert.profiler import profile_tflite
from seaformer_deploy.bench.measures import OpProfile
from seaformer_deploy.export.graph import Graph, Node, load_tflite_graph


def node_macs(graph: Graph, node: Node) -> int:
    """Multiply-accumulates of one TFLite node (0 for ops without a weight contraction)."""
    shape = graph.tensors[node.outputs[0]].shape or ()
    if node.op_type in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(shape) == 4:
        weight = graph.tensors[node.inputs[1]].shape or ()
        per_output = weight[1] * weight[2] * (weight[3] if node.op_type == "CONV_2D" else 1)
        return int(np.prod(shape)) * per_output
    if node.op_type in ("FULLY_CONNECTED", "BATCH_MATMUL"):
        lhs = graph.tensors[node.inputs[0]].shape or ()
        return int(np.prod(shape)) * (lhs[-1] if lhs else 0)
    return 0


def profile_model(path: Path, *, runs: int, warmup: int, threads: int = 1) -> OpProfile:
    """The LiteRT op profile of a TFLite model on a random input (cast to an int8 input's type: the timings,
    not the values, are what it is for)."""
    graph = load_tflite_graph(path)
    shape = graph.tensors[graph.inputs[0]].shape
    return profile_tflite(path, [np.random.default_rng(0).standard_normal(shape).astype(np.float32)],
                          runs=runs, warmup=warmup, num_threads=threads)


def op_type_times(profile: OpProfile) -> dict[str, float]:
    """Median over the runs of ``profile`` of the us each TFLite op type took in a run (one run the host
    interrupted moves a median, unlike a mean, very little), largest first."""
    per_run: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(max(profile.runs, 1)))
    for event in profile.events:
        per_run[event.op_type or event.name][event.run] += event.elapsed_us
    times = {op_type: float(np.median(totals)) for op_type, totals in per_run.items()}
    return dict(sorted(times.items(), key=lambda item: -item[1]))


def module_times(path: Path, profile: OpProfile) -> dict[str, float]:
    """Median us per run of each SeaFormer module in ``profile`` of the model at ``path`` (the bench's own
    attribution; the end-to-end gap and an empty ``unattributed`` row left out)."""
    table = attribute(profile, tflite_node_names(path))
    return {row.module: row.us_per_run for row in table.rows
            if row.module != GAP and not (row.module == UNATTRIBUTED and row.op_count == 0)}


def module_rates(path: Path, profile: OpProfile, *, peak_gmacs: float) -> list[dict[str, object]]:
    """Rows of module, median us per run (from ``profile`` of the model at ``path``), MMACs, GMAC/s and share of
    peak, slowest first."""
    graph = load_tflite_graph(path)
    names = tflite_node_names(path)
    macs: dict[str, int] = defaultdict(int)
    for node in graph.nodes:
        macs[module_of(names.get(node.index, node.name), node.op_type)] += node_macs(graph, node)
    rows = []
    for module, us in sorted(module_times(path, profile).items(), key=lambda item: -item[1]):
        rate = macs[module] / us / 1e3 if us > 0 else 0.0
        rows.append({"module": module, "us": us, "mmacs": macs[module] / 1e6, "gmacs_per_s": rate,
                     "pct_of_peak": 100.0 * rate / peak_gmacs if peak_gmacs else 0.0})
    return rows


def module_scaling(path: Path, one: OpProfile, many: OpProfile, threads: int) -> list[dict[str, object]]:
    """Where a thread count's speed-up is lost: per module, us at 1 thread (``one``) and at ``threads``
    (``many``), the speed-up, and the us it takes beyond a perfect split, largest loss first."""
    single, multi = module_times(path, one), module_times(path, many)
    rows = [{"module": module, "us_1": us, "us_n": multi.get(module, 0.0),
             "speedup": us / multi[module] if multi.get(module) else None,
             "lost_us": multi.get(module, 0.0) - us / threads} for module, us in single.items()]
    return sorted(rows, key=lambda row: -row["lost_us"])  # type: ignore[operator]

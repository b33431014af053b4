"""Per-op latency of an ONNX model on this host from ONNX Runtime's built-in profiler.

``SessionOptions.enable_profiling`` makes ONNX Runtime write a Chrome-trace JSON file. Each executed node
yields a ``cat == "Node"`` entry named ``<node name>_kernel_time`` with ``dur`` (microseconds),
``args.op_name`` (op type) and ``args.node_index``; each ``InferenceSession.run`` yields a ``model_run``
entry spanning its nodes. Warm-up and measured runs share one session; a node event belongs to the
``model_run`` window that contains its start, and only the windows of the measured runs are kept.

Node names and indices are those of the graph ONNX Runtime executes after its own optimisations, not the
exported graph's: fused ``Conv``+``Clip`` nodes become ``..._output_0_nchwc`` (the module path survives),
but inserted layout nodes get generated names (``ReorderInput_token_12``) and a fused node can be named
after its output tensor (``1533_nchwc``). So the profiled session also saves its optimised graph, and
``OpProfile.node_names`` gives every node a module-bearing name: its own name if it has a path, else the
original node that produced one of its output tensors, else the nearest named node downstream (the layout
change serves its consumer), else upstream. End-to-end time is wall clock around ``session.run``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seaformer_deploy.bench.measures import OpEvent, OpProfile, check_run_args
from seaformer_deploy.errors import UsageError, first_line
from seaformer_deploy.runtime import ONNX_PROVIDER

_KERNEL_SUFFIX = "_kernel_time"
_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


def _open_session(model_path: Path, num_threads: int, work_dir: str) -> Any:
    import onnxruntime as ort
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

    options = ort.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(work_dir, "ort_profile")
    options.optimized_model_filepath = os.path.join(work_dir, "optimized.onnx")
    options.log_severity_level = 3  # the optimised-model dump warns that it is hardware specific; we know
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    try:
        return ort.InferenceSession(str(model_path), options, providers=[ONNX_PROVIDER])
    except (
        ort_errors.InvalidProtobuf,
        ort_errors.InvalidGraph,
        ort_errors.Fail,
        ort_errors.NoSuchFile,
        ort_errors.NotImplemented,
        ort_errors.InvalidArgument,
        ort_errors.RuntimeException,
    ) as exc:
        raise UsageError(f"ONNX Runtime cannot load {model_path}: {first_line(exc)[:200]}") from None


def _feed(session: Any, inputs: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    specs = session.get_inputs()
    if len(inputs) != len(specs):
        raise UsageError(f"the model takes {len(specs)} input(s), got {len(inputs)}")
    feed = {}
    for spec, array in zip(specs, inputs, strict=True):
        array = np.asarray(array)
        expected = tuple(spec.shape)
        fixed = all(isinstance(dim, int) for dim in expected)
        if fixed and tuple(array.shape) != expected:
            raise UsageError(f"input {spec.name!r} has shape {array.shape}, the model expects {expected}")
        dtype = _ORT_DTYPES.get(spec.type)
        if dtype is None:
            raise UsageError(f"input {spec.name!r} has type {spec.type}, not supported")
        feed[spec.name] = np.ascontiguousarray(array, dtype=dtype)
    return feed


def _has_path(name: str) -> bool:
    return name.startswith("/")


def resolve_node_names(original: Any, optimized: Any) -> dict[str, str]:
    """Optimised-graph node name -> a name carrying the module path (see the module docstring)."""
    original_producer = {
        output: node.name for node in original.graph.node if _has_path(node.name) for output in node.output
    }
    constants = {init.name for init in optimized.graph.initializer}
    producer: dict[str, Any] = {}
    consumers: dict[str, list[Any]] = {}
    for node in optimized.graph.node:
        for output in node.output:
            producer[output] = node
        for tensor in node.input:
            consumers.setdefault(tensor, []).append(node)

    def from_tensor(tensor: str) -> str | None:
        if tensor in original_producer:
            return original_producer[tensor]
        return tensor if _has_path(tensor) else None

    def search(start: Any, forward: bool) -> str | None:
        frontier, seen = [start], {start.name}
        for _ in range(4):  # a few hops cover Reorder -> Conv -> Reorder chains
            following = []
            for node in frontier:
                if node is not start and _has_path(node.name):
                    return node.name
                tensors = node.output if forward else [t for t in node.input if t and t not in constants]
                for tensor in tensors:
                    found = from_tensor(tensor)
                    if found:
                        return found
                    if forward:
                        neighbours = consumers.get(tensor, [])
                    else:
                        neighbours = [producer[tensor]] if tensor in producer else []
                    following.extend(n for n in neighbours if n.name not in seen)
                    seen.update(n.name for n in neighbours)
            frontier = following
        return None

    resolved = {}
    for node in optimized.graph.node:
        if _has_path(node.name):
            resolved[node.name] = node.name
        else:
            resolved[node.name] = search(node, forward=True) or search(node, forward=False) or node.name
    return resolved


def parse_ort_trace(trace: list[dict[str, Any]], *, skip_runs: int) -> tuple[list[OpEvent], list[float]]:
    """Node events and ``model_run`` durations (us) of the runs after the first ``skip_runs``."""
    windows = sorted(
        (int(entry["ts"]), int(entry["ts"]) + int(entry["dur"]))
        for entry in trace
        if entry.get("cat") == "Session" and entry.get("name") == "model_run"
    )
    measured = windows[skip_runs:]
    events: list[OpEvent] = []
    for entry in trace:
        name = str(entry.get("name", ""))
        if entry.get("cat") != "Node" or not name.endswith(_KERNEL_SUFFIX):
            continue
        start = int(entry["ts"])
        run = next((index for index, (begin, end) in enumerate(measured) if begin <= start <= end), None)
        if run is None:
            continue
        args = entry.get("args", {})
        node_index = args.get("node_index")
        events.append(
            OpEvent(
                name=name[: -len(_KERNEL_SUFFIX)],
                op_type=str(args.get("op_name", "")),
                node_index=int(node_index) if node_index is not None else None,
                elapsed_us=float(entry["dur"]),
                run=run,
            )
        )
    events.sort(key=lambda event: event.run)  # stable: keeps execution order within a run
    return events, [float(end - begin) for begin, end in measured]


def profile_onnx(
    model_path: str | os.PathLike[str],
    inputs: list[np.ndarray],
    *,
    num_threads: int = 1,
    runs: int = 10,
    warmup: int = 2,
) -> OpProfile:
    """Profile ``runs`` inferences of an ONNX model on ONNX Runtime's CPU provider, node by node.

    Args:
        model_path: the ``.onnx`` file.
        inputs: one array per graph input, in graph order.
        num_threads: intra-op threads.
        runs: measured runs.
        warmup: runs before measuring (their events are discarded).
    """
    check_run_args(runs, warmup, num_threads)
    path = Path(model_path)
    if not path.is_file():
        raise UsageError(f"ONNX model {path} does not exist")
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="seaformer-ort-profile-") as work_dir:
        session = _open_session(path, num_threads, work_dir)
        feed = _feed(session, inputs)
        for _ in range(warmup):
            session.run(None, feed)
        e2e_us = []
        for _ in range(runs):
            start = time.perf_counter_ns()
            session.run(None, feed)
            e2e_us.append((time.perf_counter_ns() - start) / 1000.0)
        trace_path = session.end_profiling()
        trace = json.loads(Path(trace_path).read_text())
        names = resolve_node_names(
            onnx.load(str(path), load_external_data=False),
            onnx.load(os.path.join(work_dir, "optimized.onnx"), load_external_data=False),
        )
    events, model_run_us = parse_ort_trace(trace, skip_runs=warmup)
    notes = [
        (
            f"engine onnxruntime {ort.__version__} {ONNX_PROVIDER}, {num_threads} intra-op thread(s), "
            "default graph optimisations (node names are those of the optimised graph)"
        ),
        f"model_run per run (inside ORT): {np.mean(model_run_us):.0f} us; e2e: wall clock around session.run",
    ]
    node_names = {
        event.node_index: names.get(event.name, event.name)
        for event in events
        if event.node_index is not None
    }
    return OpProfile(
        engine="onnxruntime",
        kernel_mode="cpu",
        events=events,
        e2e_us=e2e_us,
        notes=notes,
        node_names=node_names,
    )

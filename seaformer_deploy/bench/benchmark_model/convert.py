"""benchmark_model output -> our ``Launch`` and ``OpProfile`` (shared by the phone path and ``import_log``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from seaformer_deploy.bench.benchmark_model.log import BenchmarkLog, NodeRow
from seaformer_deploy.bench.measures import Launch, OpEvent, OpProfile
from seaformer_deploy.errors import UsageError

_ROW_NAME = re.compile(r"^\[(?P<name>.*)\]:(?P<index>\d+)$")


def launch_from_log(index: int, log: BenchmarkLog, **conditions: Any) -> Launch:
    """One launch from one parsed log: the regular runs' statistics, memory lines and launch conditions
    (``Launch`` fields such as ``thermal_before``, ``throttled`` or ``process``)."""
    if log.inference is None or log.inference.count == 0:
        raise UsageError("the benchmark_model log has no regular-run statistics")
    return Launch(index=index, stats=log.inference, per_run_us=list(log.per_run_us), source="benchmark_model",
                  memory=log.memory.to_dict() if log.memory else None, **conditions)


def profile_from_rows(rows: list[NodeRow], e2e_us: float, *, kernel_mode: str,
                      node_names: dict[int, str] | None = None) -> OpProfile:
    """An ``OpProfile`` of one averaged run from benchmark_model's Run Order rows.

    benchmark_model names a row ``[output tensor names]:node index``. Rows of nodes on the builtin kernels thus
    give their node index, and ``node_names`` (the model's own names, which carry the module path even for the
    renamed graph outputs) attributes them. XNNPACK rows are aggregated by operator type
    (``Delegate/Convolution (NHWC, F32) IGEMM:0``), which attribution reports as unattributed rather than
    guessing. A row's ``avg ms`` is per call, so its time per run is ``avg ms x times called``.
    """
    events = []
    for row in rows:
        if row.times_called <= 0:
            continue
        match = _ROW_NAME.match(row.name)
        name, index = (match["name"], int(match["index"])) if match else (row.name, None)
        events.append(OpEvent(name=name, op_type=row.node_type, node_index=index,
                              elapsed_us=row.avg_ms * 1e3 * row.times_called, run=0))
    notes = [f"from benchmark_model Run Order ({len(rows)} rows, averages over the profiled runs)"]
    return OpProfile(engine="benchmark_model", kernel_mode=kernel_mode, events=events, e2e_us=[e2e_us],
                     notes=notes, node_names=dict(node_names or {}))


def profile_from_log(log: BenchmarkLog, *, kernel_mode: str, csv_rows: list[NodeRow] | None = None,
                     model_path: str | Path | None = None) -> OpProfile | None:
    """The regular-run op profile of ``log`` (or of its CSV file), if any, named after ``model_path``'s nodes."""
    rows = csv_rows if csv_rows is not None else (log.op_profile.run_order if log.op_profile else [])
    if not rows or log.inference is None or log.inference.avg_us is None:
        return None
    node_names = None
    if model_path is not None:
        from seaformer_deploy.bench.litert.nodes import tflite_node_names

        node_names = tflite_node_names(model_path)
    return profile_from_rows(rows, log.inference.avg_us, kernel_mode=kernel_mode, node_names=node_names)

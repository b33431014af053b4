"""benchmark_model output -> our ``Launch`` and ``OpProfile`` (shared by the phone path and ``import_log``)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seaformer_deploy.bench.benchmark_model.log import BenchmarkLog, NodeRow
from seaformer_deploy.bench.measures import Launch, OpEvent, OpProfile
from seaformer_deploy.errors import UsageError

if TYPE_CHECKING:
    from seaformer_deploy.bench.litert.nodes import TfliteNode

_ROW_NAME = re.compile(r"^\[(?P<name>.*)\]:(?P<index>\d+)$")
_DELEGATE_ROW = re.compile(r"^Delegate/(?P<operator>.+):(?P<position>\d+)$")


def launch_from_log(index: int, log: BenchmarkLog, **conditions: Any) -> Launch:
    """One launch from one parsed log: the regular runs' statistics, memory lines and launch conditions
    (``Launch`` fields such as ``thermal_before``, ``throttled`` or ``process``)."""
    if log.inference is None or log.inference.avg_us is None:
        raise UsageError("the benchmark_model log has no regular-run statistics")
    return Launch(index=index, stats=log.inference, per_run_us=list(log.per_run_us), source="benchmark_model",
                  memory=log.memory.to_dict() if log.memory else None, **conditions)


def profile_from_rows(rows: list[NodeRow], e2e_us: float, *, kernel_mode: str,
                      node_names: dict[int, str] | None = None) -> OpProfile:
    """An ``OpProfile`` of one averaged run from benchmark_model's Run Order rows.

    benchmark_model names a row ``[output tensor names]:node index``. Rows of nodes on the builtin kernels thus
    give their node index, and ``node_names`` (the model's own names, which carry the module path even for the
    renamed graph outputs) attributes them. XNNPACK rows name XNNPACK operators
    (``Delegate/Convolution (NHWC, F32) IGEMM:0``), not nodes: they stay unattributed here (see
    ``align_delegate_rows``). A row's ``avg ms`` is per call, so its time per run is ``avg ms x times
    called``; rows never called during the runs (LiteRT's ``AllocateTensors``) are left out, except that some
    2020 builds print 0 in every row of the table, which then means one call each.
    """
    uncounted = bool(rows) and all(row.times_called == 0 for row in rows)
    events = []
    for row in rows:
        calls = 1 if uncounted else row.times_called
        if calls <= 0:
            continue
        match = _ROW_NAME.match(row.name)
        name, index = (match["name"], int(match["index"])) if match else (row.name, None)
        events.append(OpEvent(name=name, op_type=row.node_type, node_index=index,
                              elapsed_us=row.avg_ms * 1e3 * calls, run=0))
    notes = [f"from benchmark_model Run Order ({len(rows)} rows, averages over the profiled runs)"]
    if uncounted:
        notes.append("every row has 'times called' 0 (a build that did not count calls): one call per row assumed")
    return OpProfile(engine="benchmark_model", kernel_mode=kernel_mode, events=events, e2e_us=[e2e_us],
                     notes=notes, node_names=dict(node_names or {}), runs_are_averages=True)


def align_delegate_rows(profile: OpProfile, nodes: list[TfliteNode]) -> OpProfile:
    """``profile`` with its XNNPACK operator rows mapped to the model's nodes, when the rows are one per operator.

    Builds that print one row per XNNPACK operator (``Delegate/<operator>:<position>``, positions 0, 1, 2 ...,
    each called once per run: current TFLite builds and the LiteRT 2.x tool) list them in execution order, so
    they align to the delegated nodes as the host profiler aligns XNNPACK's events
    (``litert.xnnpack_alignment``): exact for unambiguous sequences, at worst a neighbouring node of the same
    module. The caller checks the rows were called once each: rows aggregated by operator type (one row standing
    for several operators) cannot be aligned.
    """
    from seaformer_deploy.bench.litert.xnnpack_alignment import align_xnnpack_operators

    delegated = [(i, _DELEGATE_ROW.match(e.name)) for i, e in enumerate(profile.events) if e.node_index is None]
    delegated = [(i, match) for i, match in delegated if match]
    positions = [int(match["position"]) for _, match in delegated]
    if not delegated or positions != list(range(len(positions))):
        return profile
    builtin = {event.node_index for event in profile.events if event.node_index is not None}
    candidates = [node for node in nodes if node.index not in builtin]
    mapping = align_xnnpack_operators([match["operator"] for _, match in delegated], candidates)
    op_codes = {node.index: node.op_code for node in nodes}
    events = list(profile.events)
    for (i, _), node_index in zip(delegated, mapping, strict=True):
        events[i] = replace(events[i], node_index=node_index,
                            op_type=op_codes.get(node_index, events[i].op_type) if node_index is not None
                            else events[i].op_type)
    note = f"{len(delegated)} XNNPACK operator rows aligned to the model's nodes in execution order"
    return replace(profile, events=events, notes=[*profile.notes, note])


def profile_from_log(log: BenchmarkLog, *, kernel_mode: str, csv_rows: list[NodeRow] | None = None,
                     model_path: str | Path | None = None) -> OpProfile | None:
    """The regular-run op profile of ``log`` (or of its CSV file), if any, named after ``model_path``'s nodes.

    Its end-to-end time is the regular runs' average; in an excerpt of the profile without one, the op
    profiler's own "Timings (microseconds)" average (runs with profiling on), and the profile's notes say so.
    """
    rows = csv_rows if csv_rows is not None else (log.op_profile.run_order if log.op_profile else [])
    e2e_us = log.inference.avg_us if log.inference is not None else None
    note = None
    if e2e_us is None and log.op_profile is not None and log.op_profile.timing_summary is not None:
        e2e_us = log.op_profile.timing_summary.avg_us
        note = "end-to-end time from the op profiler's own 'Timings' line: the log has no run statistics"
    if not rows or e2e_us is None:
        return None
    nodes = None
    if model_path is not None:
        from seaformer_deploy.bench.litert.nodes import read_tflite_nodes

        nodes = read_tflite_nodes(model_path)
    profile = profile_from_rows(rows, e2e_us, kernel_mode=kernel_mode,
                                node_names={node.index: node.name for node in nodes} if nodes else None)
    if note:
        profile.notes.append(note)
    once_each = all(row.times_called == 1 for row in rows if _DELEGATE_ROW.match(row.name))
    return align_delegate_rows(profile, nodes) if nodes and once_each else profile

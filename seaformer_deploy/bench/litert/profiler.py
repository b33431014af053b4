"""Per-op latency of a ``.tflite`` model on this host: the LiteRT profiler's events as an ``OpProfile``.

Profiler event types (``LiteRtProfilerEventType`` in ``litert_profiler_event.h``) and what we keep:

- ``OPERATOR_INVOKE_EVENT`` (2): a TFLite node ran on the interpreter's own kernels; ``event_metadata1``
  is the node index. Kept. (A delegate kernel node would carry an index past the model's nodes; such
  events are dropped because their time is already in the delegate's per-operator events.)
- ``DELEGATE_PROFILED_OPERATOR_INVOKE_EVENT`` (8): one XNNPACK operator; the tag is the XNNPACK operator
  name (e.g. ``Fully Connected (NC, F32) GEMM``) and ``event_metadata1`` its index inside its delegate
  partition, not a TFLite node index. Kept and mapped to nodes (``xnnpack_alignment``).
- ``DELEGATE_OPERATOR_INVOKE_EVENT`` (4): a delegate-internal breakdown of a delegate node; dropped to
  avoid double counting (XNNPACK does not emit it).
- ``DEFAULT`` (1): runtime scopes such as ``Invoke`` (the whole interpreter invocation) and
  ``LiteRT::Run[buffer registration]`` / ``[Buffer sync]``; not ops, summarised in ``OpProfile.notes``.
- ``GENERAL_RUNTIME_INSTRUMENTATION_EVENT`` (16) and ``TELEMETRY_*`` (32 and up): status records whose
  "elapsed" field holds status codes, never times; dropped.

Timer resolution is 1 us: operators shorter than that report 0. Warm-up runs happen with the profiler
stopped. ``kernel_mode="builtin"`` runs TFLite's builtin kernels instead and gives exact node indices, but
those kernels are several times slower than XNNPACK: its numbers are labelled ``builtin`` and must not be
read as the shipping latency.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seaformer_deploy.bench.litert import capi
from seaformer_deploy.bench.litert.capi import (
    EVENT_DEFAULT,
    EVENT_DELEGATE_PROFILED_OPERATOR_INVOKE,
    EVENT_OPERATOR_INVOKE,
    CompiledSession,
    RawEvent,
)
from seaformer_deploy.bench.litert.nodes import TfliteNode, read_tflite_nodes
from seaformer_deploy.bench.litert.xnnpack_alignment import align_xnnpack_operators, is_helper, xnn_compatible
from seaformer_deploy.bench.measures import OpEvent, OpProfile, check_run_args
from seaformer_deploy.errors import UsageError
from seaformer_deploy.runtime import KernelMode


def _prepare_inputs(inputs: Sequence[np.ndarray], types: Sequence[capi.RankedTensorType]) -> list[np.ndarray]:
    if len(inputs) != len(types):
        raise UsageError(f"the model takes {len(types)} input(s), got {len(inputs)}")
    prepared = []
    for index, (array, tensor_type) in enumerate(zip(inputs, types, strict=True)):
        expected_shape = capi.tensor_shape(tensor_type)
        dtype = capi.NUMPY_DTYPES.get(tensor_type.element_type)
        if dtype is None:
            raise UsageError(f"input {index} has unsupported LiteRT element type {tensor_type.element_type}")
        array = np.asarray(array)
        if tuple(array.shape) != expected_shape:
            raise UsageError(f"input {index} has shape {array.shape}, the model expects {expected_shape}")
        prepared.append(np.ascontiguousarray(array, dtype=dtype))
    return prepared




def _op_events(
    raw: Sequence[RawEvent],
    run: int,
    nodes: Sequence[TfliteNode],
    alignment_cache: dict[tuple[object, ...], list[int | None]],
) -> tuple[list[OpEvent], int, int]:
    """Operator events of one run; returns them with (#XNNPACK operators, #matched to compatible node)."""
    num_nodes = len(nodes)
    # Split the run into segments: a builtin node event, or a block of consecutive delegate operators (a
    # new block also starts when the per-partition operator index restarts at 0).
    segments: list[tuple[str, list[RawEvent]]] = []
    for event in raw:
        if event.event_type == EVENT_OPERATOR_INVOKE:
            if event.metadata1 < num_nodes:
                segments.append(("node", [event]))
        elif event.event_type == EVENT_DELEGATE_PROFILED_OPERATOR_INVOKE:
            if segments and segments[-1][0] == "delegate" and event.metadata1 != 0:
                segments[-1][1].append(event)
            else:
                segments.append(("delegate", [event]))
    builtin = {seg[1][0].metadata1 for seg in segments if seg[0] == "node"}
    op_events: list[OpEvent] = []
    delegated_total = matched = 0
    for position, (kind, events) in enumerate(segments):
        if kind == "node":
            event = events[0]
            node = nodes[event.metadata1]
            op_events.append(OpEvent(event.tag, node.op_code, node.index, float(event.elapsed_us), run))
            continue
        before = [seg[1][0].metadata1 for seg in segments[:position] if seg[0] == "node"]
        after = [seg[1][0].metadata1 for seg in segments[position + 1 :] if seg[0] == "node"]
        previous = before[-1] if before else -1
        following = after[0] if after else num_nodes
        candidates = [node for node in nodes[previous + 1 : following] if node.index not in builtin]
        names = [event.tag for event in events]
        key = (previous, following, *names)
        if key not in alignment_cache:
            alignment_cache[key] = align_xnnpack_operators(names, candidates)
        mapping = alignment_cache[key]
        for event, node_index in zip(events, mapping, strict=True):
            op_code = nodes[node_index].op_code if node_index is not None else ""
            delegated_total += 1
            fits = xnn_compatible(event.tag, op_code) or is_helper(event.tag)
            matched += node_index is not None and fits
            op_events.append(OpEvent(event.tag, op_code, node_index, float(event.elapsed_us), run))
    return op_events, delegated_total, matched


def profile_tflite(
    model_path: str | os.PathLike[str],
    inputs: list[np.ndarray],
    *,
    num_threads: int = 1,
    runs: int = 10,
    warmup: int = 2,
    kernel_mode: KernelMode = "xnnpack",
) -> OpProfile:
    """Profile ``runs`` inferences of a ``.tflite`` model on this host's CPU, op by op.

    Args:
        model_path: the ``.tflite`` file.
        inputs: one array per signature input, in signature order, with the model's exact shapes.
        num_threads: CPU threads for the kernels.
        runs: measured runs; each yields its op events and its wall-clock end-to-end time.
        warmup: runs before measuring, with the profiler stopped.
        kernel_mode: ``"xnnpack"`` (what ships) or ``"builtin"`` (TFLite kernels, exact node indices).

    Returns:
        An ``OpProfile`` whose events are operator executions only (see the module docstring).
    """
    if kernel_mode not in ("xnnpack", "builtin"):
        raise UsageError(f"unknown kernel_mode {kernel_mode!r}: choose 'xnnpack' or 'builtin'")
    check_run_args(runs, warmup, num_threads)
    capi.check_litert_abi()
    path = Path(model_path)
    nodes = read_tflite_nodes(path)
    session = CompiledSession(path, num_threads, kernel_mode)
    try:
        session.write_inputs(_prepare_inputs(inputs, session.input_types))
        for _ in range(warmup):
            session.run()
        events: list[OpEvent] = []
        e2e_us: list[float] = []
        scopes: dict[str, float] = {}
        cache: dict[tuple[object, ...], list[int | None]] = {}
        delegated = matched = 0
        for run in range(runs):
            wall_us, raw = session.profiled_run()
            run_events, run_delegated, run_matched = _op_events(raw, run, nodes, cache)
            events.extend(run_events)
            e2e_us.append(wall_us)
            delegated += run_delegated
            matched += run_matched
            for event in raw:
                if event.event_type == EVENT_DEFAULT:
                    scopes[event.tag] = scopes.get(event.tag, 0.0) + event.elapsed_us / runs
    finally:
        session.close()
    notes = [
        (
            f"engine LiteRT {capi.VERIFIED_LITERT_VERSION} C API, CPU, {num_threads} thread(s), "
            f"kernel_mode={kernel_mode}, disable_delegate_clustering=true; timer resolution 1 us"
        ),
        "runtime scopes per run (not ops): "
        + ", ".join(f"{tag} {value:.0f} us" for tag, value in sorted(scopes.items())),
    ]
    if kernel_mode == "builtin":
        notes.append("builtin kernels are far slower than XNNPACK: exact node mapping, not shipped latency")
    elif delegated:
        notes.append(
            f"XNNPACK operators mapped to TFLite nodes by in-partition order alignment: "
            f"{matched / delegated:.1%} landed on a node of a compatible op type (or are helpers like Clamp)"
        )
    return OpProfile(
        engine="litert",
        kernel_mode=kernel_mode,
        events=events,
        e2e_us=e2e_us,
        notes=notes,
        node_names={node.index: node.name for node in nodes},
    )

"""Per-op latency of a ``.tflite`` model on this host through the LiteRT C API of ``libLiteRt.so``.

The Python ``Interpreter`` of ai-edge-litert has no op profiler, but the ``libLiteRt.so`` shipped inside the
wheel exports the LiteRT C API (``litert/c/*.h`` in google-ai-edge/LiteRT), which we call through ctypes:
environment -> model -> options (CPU, plus two opaque TOML payloads: ``runtime_options_string`` with
``enable_profiling = true`` and ``xnnpack`` with ``kernel_mode`` / ``num_threads``) -> compiled model ->
its profiler, started and stopped around each measured run. Warm-up runs happen with the profiler stopped.

Profiler event types (``LiteRtProfilerEventType`` in ``litert_profiler_event.h``) and what we keep:

- ``OPERATOR_INVOKE_EVENT`` (2): a TFLite node ran on the interpreter's own kernels; ``event_metadata1``
  is the node index. Kept. (A delegate kernel node would carry an index past the model's nodes; such
  events are dropped because their time is already in the delegate's per-operator events.)
- ``DELEGATE_PROFILED_OPERATOR_INVOKE_EVENT`` (8): one XNNPACK operator; the tag is the XNNPACK operator
  name (e.g. ``Fully Connected (NC, F32) GEMM``) and ``event_metadata1`` its index inside its delegate
  partition, not a TFLite node index. Kept and mapped to nodes (below).
- ``DELEGATE_OPERATOR_INVOKE_EVENT`` (4): a delegate-internal breakdown of a delegate node; dropped to
  avoid double counting (XNNPACK does not emit it).
- ``DEFAULT`` (1): runtime scopes such as ``Invoke`` (the whole interpreter invocation) and
  ``LiteRT::Run[buffer registration]`` / ``[Buffer sync]``; not ops, summarised in ``OpProfile.notes``.
- ``GENERAL_RUNTIME_INSTRUMENTATION_EVENT`` (16) and ``TELEMETRY_*`` (32 and up): status records whose
  "elapsed" field holds status codes, never times; dropped.

Timer resolution is 1 us: operators shorter than that report 0.

XNNPACK-to-node mapping (the chosen approach): XNNPACK fuses and rewrites nodes (a 1x1 CONV_2D becomes
``Fully Connected``, PAD folds into the next convolution, RESHAPEs vanish, a fused RELU6 becomes a
``Clamp``), so its operators carry no TFLite node index. We profile with ``disable_delegate_clustering``
so every delegate partition covers the contiguous run of delegated nodes between two nodes left on the
builtin kernels (those still report their node index). XNNPACK creates its operators in node order, so
within each partition the operators are aligned to the partition's nodes by a monotone dynamic program
that rewards op-type compatibility (``Convolution``/``Fully Connected`` <-> ``CONV_2D``/
``DEPTHWISE_CONV_2D``, ``Mean`` <-> ``MEAN``, ...) and lets helper operators (``Clamp``, ``Transpose``,
``Copy``) share the node before them. The result is exact for unambiguous sequences and at worst off by a
neighbouring node of the same module; ``notes`` says how many operators matched a compatible node.
``kernel_mode="builtin"`` runs TFLite's builtin kernels instead and gives exact node indices, but those
kernels are several times slower than XNNPACK: its numbers are labelled ``builtin`` and must not be
read as the shipping latency.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
import os
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from seaformer_deploy.bench.measures import OpEvent, OpProfile, check_run_args
from seaformer_deploy.errors import SeaformerError, UsageError

VERIFIED_LITERT_VERSION = "2.3.0"
"""The ai-edge-litert release whose ``libLiteRt.so`` ABI (struct layouts, option keys) was checked."""

PROFILED_EVENT_SIZE = 104
"""``sizeof(ProfiledEventData)`` on x86-64 for the verified release."""

KernelMode = Literal["xnnpack", "builtin"]

# LiteRtProfilerEventType values (litert_profiler_event.h).
EVENT_DEFAULT = 1
EVENT_OPERATOR_INVOKE = 2
EVENT_DELEGATE_PROFILED_OPERATOR_INVOKE = 8

# The compiled model's profiler keeps at most this many events (LiteRtProfilerT default) and then wraps.
_PROFILER_CAPACITY = 1024 * 10
_STATUS_OK = 0
_HW_ACCELERATOR_CPU = 1
_TENSOR_BUFFER_HOST_MEMORY = 1
_LOCK_WRITE = 1
_NUMPY_DTYPES = {
    1: np.float32,
    2: np.int32,
    3: np.uint8,
    4: np.int64,
    6: np.bool_,
    7: np.int16,
    9: np.int8,
    10: np.float16,
}


class LiteRtVersionError(UsageError):
    """The installed ai-edge-litert is not the release this ctypes binding was verified against."""


class LiteRtCallError(SeaformerError):
    """A LiteRT C API call returned an error status."""


class _Layout(ctypes.Structure):
    # rank (7 bits) and has_strides (1 bit) share the first 32-bit word.
    _fields_ = [
        ("rank_and_flags", ctypes.c_uint32),
        ("dimensions", ctypes.c_int32 * 8),
        ("strides", ctypes.c_uint32 * 8),
    ]


class _RankedTensorType(ctypes.Structure):
    _fields_ = [("element_type", ctypes.c_int32), ("layout", _Layout)]


class _MemoryUsage(ctypes.Structure):
    _fields_ = [
        ("total_allocated_bytes", ctypes.c_size_t),
        ("in_use_allocated_bytes", ctypes.c_size_t),
        ("private_footprint_bytes", ctypes.c_size_t),
    ]


class _ProfiledEventData(ctypes.Structure):
    _fields_ = [
        ("tag", ctypes.c_char_p),
        ("event_type", ctypes.c_int),
        ("start_timestamp_us", ctypes.c_uint64),
        ("elapsed_time_us", ctypes.c_uint64),
        ("begin_mem_usage", _MemoryUsage),
        ("end_mem_usage", _MemoryUsage),
        ("event_metadata1", ctypes.c_uint64),
        ("event_metadata2", ctypes.c_uint64),
        ("event_source", ctypes.c_int),
    ]


_P = ctypes.c_void_p
_PP = ctypes.POINTER(ctypes.c_void_p)
_SIZE = ctypes.c_size_t
# name -> argtypes; every function returns LiteRtStatus except those listed in _VOID_FUNCTIONS.
_PROTOTYPES: dict[str, list[type]] = {
    "LiteRtCreateEnvironment": [ctypes.c_int, _P, _PP],
    "LiteRtDestroyEnvironment": [_P],
    "LiteRtCreateModelFromFile": [_P, ctypes.c_char_p, _PP],
    "LiteRtDestroyModel": [_P],
    "LiteRtGetModelSignature": [_P, _SIZE, _PP],
    "LiteRtGetNumSignatureInputs": [_P, ctypes.POINTER(_SIZE)],
    "LiteRtGetNumSignatureOutputs": [_P, ctypes.POINTER(_SIZE)],
    "LiteRtGetSignatureInputTensorByIndex": [_P, _SIZE, _PP],
    "LiteRtGetSignatureOutputTensorByIndex": [_P, _SIZE, _PP],
    "LiteRtGetRankedTensorType": [_P, ctypes.POINTER(_RankedTensorType)],
    "LiteRtCreateOptions": [_PP],
    "LiteRtDestroyOptions": [_P],
    "LiteRtSetOptionsHardwareAccelerators": [_P, ctypes.c_int],
    "LiteRtCreateOpaqueOptions": [ctypes.c_char_p, _P, _P, _PP],
    "LiteRtDestroyOpaqueOptions": [_P],
    "LiteRtAddOpaqueOptions": [_P, _P],
    "LiteRtCreateCompiledModel": [_P, _P, _P, _PP],
    "LiteRtDestroyCompiledModel": [_P],
    "LiteRtRunCompiledModel": [_P, _SIZE, _SIZE, _PP, _SIZE, _PP],
    "LiteRtCreateManagedTensorBuffer": [_P, ctypes.c_int, ctypes.POINTER(_RankedTensorType), _SIZE, _PP],
    "LiteRtDestroyTensorBuffer": [_P],
    "LiteRtLockTensorBuffer": [_P, _PP, ctypes.c_int],
    "LiteRtUnlockTensorBuffer": [_P],
    "LiteRtCompiledModelGetProfiler": [_P, _PP],
    "LiteRtStartProfiler": [_P],
    "LiteRtStopProfiler": [_P],
    "LiteRtGetNumProfilerEvents": [_P, ctypes.POINTER(ctypes.c_int)],
    "LiteRtGetProfilerEvents": [_P, ctypes.c_int, ctypes.POINTER(_ProfiledEventData)],
}
_VOID_FUNCTIONS = frozenset(
    {
        "LiteRtDestroyEnvironment",
        "LiteRtDestroyModel",
        "LiteRtDestroyOptions",
        "LiteRtDestroyOpaqueOptions",
        "LiteRtDestroyCompiledModel",
        "LiteRtDestroyTensorBuffer",
    }
)


def installed_litert_version() -> str:
    """Version of the installed ai-edge-litert distribution."""
    try:
        return importlib.metadata.version("ai-edge-litert")
    except importlib.metadata.PackageNotFoundError:
        raise UsageError("ai-edge-litert is not installed: the TFLite profiler needs it") from None


def check_litert_abi() -> None:
    """Refuse to read profiler structs from a LiteRT build whose layout was not verified."""
    installed = installed_litert_version()
    if installed != VERIFIED_LITERT_VERSION:
        raise LiteRtVersionError(
            f"ai-edge-litert {installed} is installed but the LiteRT profiler binding was verified only "
            f"against {VERIFIED_LITERT_VERSION}; install ai-edge-litert=={VERIFIED_LITERT_VERSION}"
        )
    size = ctypes.sizeof(_ProfiledEventData)
    if size != PROFILED_EVENT_SIZE:
        raise LiteRtVersionError(
            f"ProfiledEventData is {size} bytes on this platform, "
            f"expected {PROFILED_EVENT_SIZE} (x86-64 layout)"
        )


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL:
    spec = importlib.util.find_spec("ai_edge_litert")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("ai-edge-litert is not installed: the TFLite profiler needs it")
    path = Path(next(iter(spec.submodule_search_locations))) / "libLiteRt.so"
    if not path.is_file():
        raise LiteRtVersionError(f"{path} not found: this ai-edge-litert wheel ships no LiteRT C API library")
    lib = ctypes.CDLL(str(path))
    for name, argtypes in _PROTOTYPES.items():
        function = getattr(lib, name)
        function.argtypes = argtypes
        function.restype = None if name in _VOID_FUNCTIONS else ctypes.c_int
    return lib


def _call(name: str, *args: object) -> None:
    status = getattr(_library(), name)(*args)
    if status != _STATUS_OK:
        raise LiteRtCallError(f"LiteRT call {name} failed with status {status}")


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    return libc


# ---------------------------------------------------------------------------------------------------------
# Graph: op codes and output tensor names of the main subgraph's nodes (node index = operator index).


@dataclass(frozen=True)
class TfliteNode:
    """One operator of the main subgraph: node index, op code name and a tensor name carrying its module path.

    litert-torch names tensors after the nn.Module path (``pkg.Class_attr/...``). The name is the node's
    output tensor's, except for a graph output, which is renamed after the signature
    (``serving_default_output_0``): then the first weight of the node carrying a module path (weights keep
    their owner's path), if any.
    """

    index: int
    op_code: str
    name: str


def read_tflite_nodes(model_path: str | os.PathLike[str]) -> list[TfliteNode]:
    """The nodes of subgraph 0 of a ``.tflite`` file, in execution (index) order."""
    from ai_edge_litert import schema_py_generated as schema

    path = Path(model_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read TFLite model {path}: {exc.strerror}") from None
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise UsageError(f"{path} is not a TFLite flatbuffer (missing TFL3 identifier)")
    code_names = {
        value: key for key, value in vars(schema.BuiltinOperator).items() if not key.startswith("_")
    }
    try:
        model = schema.Model.GetRootAs(data, 0)
        subgraph = model.Subgraphs(0)
        operators = [subgraph.Operators(index) for index in range(subgraph.OperatorsLength())]
        graph_outputs = {subgraph.Outputs(i) for i in range(subgraph.OutputsLength())}
        computed = {subgraph.Inputs(i) for i in range(subgraph.InputsLength())}
        computed.update(op.Outputs(i) for op in operators for i in range(op.OutputsLength()))

        def tensor_name(tensor: int) -> str:
            raw = subgraph.Tensors(tensor).Name()
            return raw.decode(errors="replace") if raw else ""

        nodes = []
        for index, operator in enumerate(operators):
            code = model.OperatorCodes(operator.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            op_code = code_names.get(builtin, str(builtin))
            if op_code == "CUSTOM" and code.CustomCode():
                op_code = code.CustomCode().decode()
            output = operator.Outputs(0) if operator.OutputsLength() else -1
            name = tensor_name(output) if output >= 0 else ""
            if output in graph_outputs:
                inputs = [operator.Inputs(i) for i in range(operator.InputsLength())]
                weights = [tensor_name(t) for t in inputs if t >= 0 and t not in computed]
                name = next((weight for weight in weights if "/" in weight), name)
            nodes.append(TfliteNode(index, op_code, name))
    except (IndexError, TypeError, ValueError, AttributeError, struct.error):
        # A damaged flatbuffer fails anywhere in the generated accessors with one of these.
        raise UsageError(f"{path} is a damaged TFLite flatbuffer (truncated or corrupt)") from None
    return nodes


def tflite_node_names(model_path: str | os.PathLike[str]) -> dict[int, str]:
    """Node index -> first output tensor name (litert-torch writes the nn.Module path there)."""
    return {node.index: node.name for node in read_tflite_nodes(model_path)}


# ---------------------------------------------------------------------------------------------------------
# XNNPACK operator -> TFLite node alignment.

# Keyword in a lower-cased XNNPACK operator name -> TFLite op codes it can implement. First match wins, so
# specific phrases precede generic ones.
_XNN_COMPATIBLE: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (keyword, frozenset(codes.split()))
    for keyword, codes in (
        ("batch matrix multiply", "BATCH_MATMUL FULLY_CONNECTED"),
        ("fully connected", "CONV_2D FULLY_CONNECTED BATCH_MATMUL"),
        ("deconvolution", "TRANSPOSE_CONV"),
        ("convolution", "CONV_2D DEPTHWISE_CONV_2D"),
        ("global average pooling", "MEAN AVERAGE_POOL_2D SUM"),
        ("average pooling", "AVERAGE_POOL_2D"),
        ("max pooling", "MAX_POOL_2D"),
        ("argmax pooling", "ARG_MAX"),
        ("mean", "MEAN SUM"),
        ("reduce", "MEAN SUM REDUCE_MAX REDUCE_MIN REDUCE_PROD"),
        ("transpose", "TRANSPOSE"),
        ("reshape", "RESHAPE SQUEEZE EXPAND_DIMS"),
        ("copy", "RESHAPE SQUEEZE EXPAND_DIMS CONCATENATION PACK"),
        ("concatenate", "CONCATENATION PACK"),
        ("slice", "SLICE STRIDED_SLICE SPLIT SPLIT_V UNPACK"),
        ("split", "SPLIT SPLIT_V UNPACK"),
        ("constant pad", "PAD PADV2"),
        ("softmax", "SOFTMAX"),
        ("sigmoid", "LOGISTIC"),
        ("clamp", "RELU RELU6 RELU_N1_TO_1 RELU_0_TO_1"),
        ("hardswish", "HARD_SWISH"),
        ("leaky relu", "LEAKY_RELU"),
        ("tanh", "TANH"),
        ("gelu", "GELU"),
        ("elu", "ELU"),
        ("multiply", "MUL"),
        ("add", "ADD ADD_N"),
        ("subtract", "SUB"),
        ("squared difference", "SQUARED_DIFFERENCE"),
        ("divide", "DIV"),
        ("maximum", "MAXIMUM"),
        ("minimum", "MINIMUM"),
        ("resize", "RESIZE_BILINEAR RESIZE_NEAREST_NEIGHBOR"),
        ("depth to space", "DEPTH_TO_SPACE"),
        ("space to depth", "SPACE_TO_DEPTH"),
        ("reciprocal square root", "RSQRT"),
        ("square root", "SQRT"),
        ("square", "SQUARE"),
        ("convert", "DEQUANTIZE QUANTIZE CAST"),
        ("negate", "NEG"),
        ("abs", "ABS"),
        ("floor", "FLOOR"),
        ("ceiling", "CEIL"),
        ("exp", "EXP"),
        ("log", "LOG"),
    )
)
# XNNPACK operators that XNNPACK adds around a node (fused activation, layout changes, concat pieces).
_XNN_HELPERS = ("clamp", "transpose", "copy", "reshape", "convert")
_MATCH, _MISMATCH, _HELPER_STAY, _BAD_STAY = 3.0, -2.0, 1.0, -3.0


def _xnn_compatible(xnn_name: str, op_code: str) -> bool:
    lowered = xnn_name.lower()
    for keyword, codes in _XNN_COMPATIBLE:
        if keyword in lowered:
            return op_code in codes
    # Unknown XNNPACK operator: compare its leading words with the op code.
    head = "".join(ch for ch in lowered.split("(")[0] if ch.isalnum())
    return bool(head) and head.startswith(op_code.lower().replace("_", "")[:5])


def _is_helper(xnn_name: str) -> bool:
    lowered = xnn_name.lower()
    return any(word in lowered for word in _XNN_HELPERS)


def align_xnnpack_operators(xnn_names: Sequence[str], candidates: Sequence[TfliteNode]) -> list[int | None]:
    """Map each XNNPACK operator of one partition to one of the partition's nodes (monotone in order).

    Maximises the number of operators that land on a node of a compatible op type; an operator may share
    the previous operator's node (scored well only for helpers such as ``Clamp`` or ``Transpose``), and
    nodes may get no operator at all (elided reshapes, pads folded into convolutions).
    """
    if not xnn_names or not candidates:
        return [None] * len(xnn_names)
    num_nodes = len(candidates)
    compatible = [[_xnn_compatible(name, node.op_code) for node in candidates] for name in xnn_names]
    helper = [_is_helper(name) for name in xnn_names]
    score = [_MATCH if ok else _MISMATCH for ok in compatible[0]]
    back: list[list[int]] = []
    for i in range(1, len(xnn_names)):
        prefix_best, prefix_arg = float("-inf"), -1
        new_score, choice = [0.0] * num_nodes, [0] * num_nodes
        for j in range(num_nodes):
            stay = score[j] + (_HELPER_STAY if helper[i] or compatible[i][j] else _BAD_STAY)
            start = prefix_best + (_MATCH if compatible[i][j] else _MISMATCH)
            if start > stay:
                new_score[j], choice[j] = start, prefix_arg
            else:
                new_score[j], choice[j] = stay, j
            if score[j] > prefix_best:
                prefix_best, prefix_arg = score[j], j
        score = new_score
        back.append(choice)
    j = max(range(num_nodes), key=score.__getitem__)
    path = [j]
    for choice in reversed(back):
        j = choice[j]
        path.append(j)
    path.reverse()
    return [candidates[j].index for j in path]


# ---------------------------------------------------------------------------------------------------------
# Compiled model session.


@dataclass(frozen=True)
class _RawEvent:
    tag: str
    event_type: int
    elapsed_us: int
    metadata1: int


class _CompiledSession:
    """Environment, model, compiled model and I/O buffers; everything is released by ``close``."""

    def __init__(self, model_path: Path, num_threads: int, kernel_mode: KernelMode) -> None:
        self._handles: list[tuple[str, ctypes.c_void_p]] = []
        try:
            self._open(model_path, num_threads, kernel_mode)
        except BaseException:
            self.close()
            raise

    def _new(self, create: str, destroy: str | None, *args: object) -> ctypes.c_void_p:
        handle = ctypes.c_void_p()
        _call(create, *args, ctypes.byref(handle))
        if destroy is not None:
            self._handles.append((destroy, handle))
        return handle

    def _open(self, model_path: Path, num_threads: int, kernel_mode: KernelMode) -> None:
        self.env = self._new("LiteRtCreateEnvironment", "LiteRtDestroyEnvironment", 0, None)
        try:
            self.model = self._new(
                "LiteRtCreateModelFromFile", "LiteRtDestroyModel", self.env, bytes(model_path)
            )
        except LiteRtCallError:
            raise UsageError(f"LiteRT cannot load {model_path}: not a valid TFLite model") from None
        options = self._new("LiteRtCreateOptions", "LiteRtDestroyOptions")
        _call("LiteRtSetOptionsHardwareAccelerators", options, _HW_ACCELERATOR_CPU)
        # disable_delegate_clustering keeps each XNNPACK partition a contiguous run of nodes (module doc).
        self._add_opaque(
            options, "runtime_options_string", "enable_profiling = true\ndisable_delegate_clustering = true\n"
        )
        mode = "delegate" if kernel_mode == "xnnpack" else "builtin"
        self._add_opaque(options, "xnnpack", f'kernel_mode = "{mode}"\nnum_threads = {num_threads}\n')
        self.compiled = self._new(
            "LiteRtCreateCompiledModel", "LiteRtDestroyCompiledModel", self.env, self.model, options
        )
        signature = ctypes.c_void_p()
        _call("LiteRtGetModelSignature", self.model, 0, ctypes.byref(signature))
        self.input_types = self._io_types(signature, "Input")
        output_types = self._io_types(signature, "Output")
        self.inputs = [self._buffer(tensor_type) for tensor_type in self.input_types]
        self.outputs = [self._buffer(tensor_type) for tensor_type in output_types]
        self._input_array = (ctypes.c_void_p * len(self.inputs))(*self.inputs)
        self._output_array = (ctypes.c_void_p * len(self.outputs))(*self.outputs)
        self.profiler = ctypes.c_void_p()  # owned by the compiled model
        _call("LiteRtCompiledModelGetProfiler", self.compiled, ctypes.byref(self.profiler))

    def _add_opaque(self, options: ctypes.c_void_p, identifier: str, toml: str) -> None:
        # The runtime frees the payload with the destructor we pass, so it must come from malloc.
        data = toml.encode() + b"\0"
        payload = _libc().malloc(len(data))
        ctypes.memmove(payload, data, len(data))
        free = ctypes.cast(_libc().free, ctypes.c_void_p)
        opaque = ctypes.c_void_p()
        _call("LiteRtCreateOpaqueOptions", identifier.encode(), payload, free, ctypes.byref(opaque))
        _call("LiteRtAddOpaqueOptions", options, opaque)  # ownership moves to ``options``

    @staticmethod
    def _io_types(signature: ctypes.c_void_p, kind: str) -> list[_RankedTensorType]:
        count = ctypes.c_size_t()
        _call(f"LiteRtGetNumSignature{kind}s", signature, ctypes.byref(count))
        types = []
        for index in range(count.value):
            tensor = ctypes.c_void_p()
            _call(f"LiteRtGetSignature{kind}TensorByIndex", signature, index, ctypes.byref(tensor))
            tensor_type = _RankedTensorType()
            _call("LiteRtGetRankedTensorType", tensor, ctypes.byref(tensor_type))
            types.append(tensor_type)
        return types

    def _buffer(self, tensor_type: _RankedTensorType) -> ctypes.c_void_p:
        dtype = np.dtype(_NUMPY_DTYPES.get(tensor_type.element_type, np.uint8))
        size = int(np.prod(_shape(tensor_type), dtype=np.int64)) * dtype.itemsize
        return self._new(
            "LiteRtCreateManagedTensorBuffer",
            "LiteRtDestroyTensorBuffer",
            self.env,
            _TENSOR_BUFFER_HOST_MEMORY,
            ctypes.byref(tensor_type),
            size,
        )

    def write_inputs(self, arrays: Sequence[np.ndarray]) -> None:
        for buffer, array in zip(self.inputs, arrays, strict=True):
            address = ctypes.c_void_p()
            _call("LiteRtLockTensorBuffer", buffer, ctypes.byref(address), _LOCK_WRITE)
            try:
                ctypes.memmove(address, array.ctypes.data, array.nbytes)
            finally:
                _call("LiteRtUnlockTensorBuffer", buffer)

    def run(self) -> float:
        """One inference; returns its wall-clock time in microseconds."""
        start = time.perf_counter_ns()
        _call(
            "LiteRtRunCompiledModel",
            self.compiled,
            0,
            len(self.inputs),
            self._input_array,
            len(self.outputs),
            self._output_array,
        )
        return (time.perf_counter_ns() - start) / 1000.0

    def profiled_run(self) -> tuple[float, list[_RawEvent]]:
        """One inference with the profiler recording; returns wall time (us) and the run's events."""
        _call("LiteRtStartProfiler", self.profiler)  # also clears the previous run's events
        try:
            e2e_us = self.run()
        finally:
            _call("LiteRtStopProfiler", self.profiler)
        count = ctypes.c_int()
        _call("LiteRtGetNumProfilerEvents", self.profiler, ctypes.byref(count))
        if count.value >= _PROFILER_CAPACITY:
            raise LiteRtCallError(
                f"one run produced {count.value} profiler events, the buffer's capacity: events were lost"
            )
        if count.value == 0:
            raise LiteRtCallError("the LiteRT profiler recorded no events (profiling option not honoured)")
        raw = (_ProfiledEventData * count.value)()
        _call("LiteRtGetProfilerEvents", self.profiler, count.value, raw)
        events = [
            _RawEvent(
                (item.tag or b"").decode(errors="replace"),
                item.event_type,
                int(item.elapsed_time_us),
                int(item.event_metadata1),
            )
            for item in raw
        ]
        return e2e_us, events

    def close(self) -> None:
        while self._handles:
            destroy, handle = self._handles.pop()
            if handle.value:
                getattr(_library(), destroy)(handle)


def _shape(tensor_type: _RankedTensorType) -> tuple[int, ...]:
    rank = tensor_type.layout.rank_and_flags & 0x7F
    return tuple(int(tensor_type.layout.dimensions[axis]) for axis in range(rank))


def _prepare_inputs(inputs: Sequence[np.ndarray], types: Sequence[_RankedTensorType]) -> list[np.ndarray]:
    if len(inputs) != len(types):
        raise UsageError(f"the model takes {len(types)} input(s), got {len(inputs)}")
    prepared = []
    for index, (array, tensor_type) in enumerate(zip(inputs, types, strict=True)):
        expected_shape = _shape(tensor_type)
        dtype = _NUMPY_DTYPES.get(tensor_type.element_type)
        if dtype is None:
            raise UsageError(f"input {index} has unsupported LiteRT element type {tensor_type.element_type}")
        array = np.asarray(array)
        if tuple(array.shape) != expected_shape:
            raise UsageError(f"input {index} has shape {array.shape}, the model expects {expected_shape}")
        prepared.append(np.ascontiguousarray(array, dtype=dtype))
    return prepared


# ---------------------------------------------------------------------------------------------------------
# Event decoding.


def _op_events(
    raw: Sequence[_RawEvent],
    run: int,
    nodes: Sequence[TfliteNode],
    alignment_cache: dict[tuple[object, ...], list[int | None]],
) -> tuple[list[OpEvent], int, int]:
    """Operator events of one run; returns them with (#XNNPACK operators, #matched to compatible node)."""
    num_nodes = len(nodes)
    # Split the run into segments: a builtin node event, or a block of consecutive delegate operators (a
    # new block also starts when the per-partition operator index restarts at 0).
    segments: list[tuple[str, list[_RawEvent]]] = []
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
            fits = _xnn_compatible(event.tag, op_code) or _is_helper(event.tag)
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
    check_litert_abi()
    path = Path(model_path)
    nodes = read_tflite_nodes(path)
    session = _CompiledSession(path, num_threads, kernel_mode)
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
            f"engine LiteRT {VERIFIED_LITERT_VERSION} C API, CPU, {num_threads} thread(s), "
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

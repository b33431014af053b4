"""The LiteRT C API of ``libLiteRt.so`` through ctypes: version guard, struct layouts, one compiled session.

The Python ``Interpreter`` of ai-edge-litert has no op profiler, but the ``libLiteRt.so`` shipped inside the
wheel exports the LiteRT C API (``litert/c/*.h`` in google-ai-edge/LiteRT), which we call through ctypes:
environment -> model -> options (CPU, plus two opaque TOML payloads: ``runtime_options_string`` with
``enable_profiling = true`` and ``xnnpack`` with ``kernel_mode`` / ``num_threads``) -> compiled model ->
its profiler, started and stopped around each measured run. Struct layouts and option keys were checked for
one ai-edge-litert release (``VERIFIED_LITERT_VERSION``); any other release is refused.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from seaformer_deploy.errors import SeaformerError, UsageError
from seaformer_deploy.runtime import KernelMode

VERIFIED_LITERT_VERSION = "2.3.0"
"""The ai-edge-litert release whose ``libLiteRt.so`` ABI (struct layouts, option keys) was checked."""

PROFILED_EVENT_SIZE = 104
"""``sizeof(ProfiledEventData)`` on x86-64 for the verified release."""

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
NUMPY_DTYPES = {
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


class RankedTensorType(ctypes.Structure):
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
    "LiteRtGetRankedTensorType": [_P, ctypes.POINTER(RankedTensorType)],
    "LiteRtCreateOptions": [_PP],
    "LiteRtDestroyOptions": [_P],
    "LiteRtSetOptionsHardwareAccelerators": [_P, ctypes.c_int],
    "LiteRtCreateOpaqueOptions": [ctypes.c_char_p, _P, _P, _PP],
    "LiteRtDestroyOpaqueOptions": [_P],
    "LiteRtAddOpaqueOptions": [_P, _P],
    "LiteRtCreateCompiledModel": [_P, _P, _P, _PP],
    "LiteRtDestroyCompiledModel": [_P],
    "LiteRtRunCompiledModel": [_P, _SIZE, _SIZE, _PP, _SIZE, _PP],
    "LiteRtCreateManagedTensorBuffer": [_P, ctypes.c_int, ctypes.POINTER(RankedTensorType), _SIZE, _PP],
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



@dataclass(frozen=True)
class RawEvent:
    tag: str
    event_type: int
    elapsed_us: int
    metadata1: int


class CompiledSession:
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
    def _io_types(signature: ctypes.c_void_p, kind: str) -> list[RankedTensorType]:
        count = ctypes.c_size_t()
        _call(f"LiteRtGetNumSignature{kind}s", signature, ctypes.byref(count))
        types = []
        for index in range(count.value):
            tensor = ctypes.c_void_p()
            _call(f"LiteRtGetSignature{kind}TensorByIndex", signature, index, ctypes.byref(tensor))
            tensor_type = RankedTensorType()
            _call("LiteRtGetRankedTensorType", tensor, ctypes.byref(tensor_type))
            types.append(tensor_type)
        return types

    def _buffer(self, tensor_type: RankedTensorType) -> ctypes.c_void_p:
        dtype = np.dtype(NUMPY_DTYPES.get(tensor_type.element_type, np.uint8))
        size = int(np.prod(tensor_shape(tensor_type), dtype=np.int64)) * dtype.itemsize
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

    def profiled_run(self) -> tuple[float, list[RawEvent]]:
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
            RawEvent(
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


def tensor_shape(tensor_type: RankedTensorType) -> tuple[int, ...]:
    rank = tensor_type.layout.rank_and_flags & 0x7F
    return tuple(int(tensor_type.layout.dimensions[axis]) for axis in range(rank))


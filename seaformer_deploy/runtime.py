"""Run an exported model (.tflite through ai-edge-litert, .onnx through onnxruntime) on this host.

Export parity, local benchmarking and host-side accuracy all call this, so "the exported model's output" means
the same thing everywhere. Integer I/O (int8 models exported without float I/O) is quantized and dequantized
here with the tensor's own scale and zero point, so callers always pass and receive float32.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from seaformer_deploy.errors import UsageError, first_line

MODEL_SUFFIXES = (".tflite", ".onnx")

KernelMode = Literal["xnnpack", "builtin"]
"""The kernels a .tflite model runs on: XNNPACK (TFLite's default CPU delegate, what ships) or TFLite's builtin
kernels with no delegate at all (``--delegate cpu``)."""

ONNX_PROVIDER = "CPUExecutionProvider"
"""The onnxruntime execution provider every ONNX model runs on here (no XNNPACK or other provider is used)."""


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape, dtype and (for integer tensors) quantization of one model input or output."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float = 0.0
    zero_point: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                **({"scale": self.scale, "zero_point": self.zero_point} if self.scale else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(str(data["name"]), tuple(int(d) for d in data["shape"]), str(data["dtype"]),
                   float(data.get("scale", 0.0)), int(data.get("zero_point", 0)))


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - start) / 1e3


def _to_input(spec: TensorSpec, array: np.ndarray) -> np.ndarray:
    if tuple(array.shape) != spec.shape:
        raise UsageError(f"input {spec.name} expects shape {list(spec.shape)}, got {list(array.shape)}")
    if spec.dtype in ("int8", "uint8"):
        info = np.iinfo(spec.dtype)
        return np.clip(np.round(array / spec.scale) + spec.zero_point, info.min, info.max).astype(spec.dtype)
    return np.ascontiguousarray(array, dtype=spec.dtype)


def _from_output(spec: TensorSpec, array: np.ndarray) -> np.ndarray:
    if spec.dtype in ("int8", "uint8") and spec.scale:
        return (array.astype(np.float32) - spec.zero_point) * spec.scale
    return array


class ExportedModel(ABC):
    """A loaded exported model with one input; ``run`` maps a float array to the first output."""

    path: Path
    engine: str
    input: TensorSpec
    output: TensorSpec

    @abstractmethod
    def run(self, array: np.ndarray) -> np.ndarray:
        """Run one inference on ``array`` (float32, the model's input shape) and return the first output."""

    @abstractmethod
    def time_invocations(self, array: np.ndarray, *, warmup: int, runs: int) -> list[float]:
        """Set ``array`` as input once, then time ``runs`` inferences after ``warmup`` (microseconds each).

        Only the inference call is timed, as benchmark_model times ``Invoke``: no input copy, no output copy.
        """


class TFLiteModel(ExportedModel):
    """A .tflite model on ai-edge-litert's Interpreter: XNNPACK applied (the default, as on a phone's CPU) or,
    with ``kernels="builtin"``, the builtin kernels with the default delegates turned off."""

    engine = "litert"

    def __init__(self, path: Path, num_threads: int = 1, kernels: KernelMode = "xnnpack") -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        resolvers = {"xnnpack": OpResolverType.AUTO, "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
        if kernels not in resolvers:
            raise UsageError(f"unknown TFLite kernels {kernels!r}: choose {' or '.join(resolvers)}")
        self.path = path
        self.kernels = kernels
        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads,
                                            experimental_op_resolver_type=resolvers[kernels])
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise UsageError(f"{path} is not a valid TFLite model: {first_line(exc)}") from None
        self.input = self._spec(self._interpreter.get_input_details()[0])
        self.output = self._spec(self._interpreter.get_output_details()[0])

    @staticmethod
    def _spec(detail: dict[str, Any]) -> TensorSpec:
        scale, zero_point = detail.get("quantization", (0.0, 0))
        return TensorSpec(detail["name"], tuple(int(d) for d in detail["shape"]), np.dtype(detail["dtype"]).name,
                          float(scale), int(zero_point))

    def _set_input(self, array: np.ndarray) -> None:
        details = self._interpreter.get_input_details()[0]
        self._interpreter.set_tensor(details["index"], _to_input(self.input, array))

    def run(self, array: np.ndarray) -> np.ndarray:
        self._set_input(array)
        self._interpreter.invoke()
        out_index = self._interpreter.get_output_details()[0]["index"]
        return _from_output(self.output, self._interpreter.get_tensor(out_index).copy())

    def time_invocations(self, array: np.ndarray, *, warmup: int, runs: int) -> list[float]:
        self._set_input(array)
        invoke = self._interpreter.invoke
        for _ in range(warmup):
            invoke()
        return [_timed(invoke) for _ in range(runs)]


class OnnxModel(ExportedModel):
    """An .onnx model on onnxruntime's CPU execution provider (``ONNX_PROVIDER``)."""

    engine = "onnxruntime"

    def __init__(self, path: Path, num_threads: int = 1) -> None:
        import onnxruntime as ort

        self.path = path
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(path), options, providers=[ONNX_PROVIDER])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors for bad files
            raise UsageError(f"{path} is not a valid ONNX model: {first_line(exc)}") from None
        self.input = self._spec(self._session.get_inputs()[0])
        self.output = self._spec(self._session.get_outputs()[0])

    @staticmethod
    def _spec(arg: Any) -> TensorSpec:
        dtype = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int64)": "int64",
                 "tensor(int32)": "int32", "tensor(int8)": "int8", "tensor(uint8)": "uint8"}.get(arg.type, arg.type)
        return TensorSpec(arg.name, tuple(int(d) if isinstance(d, int) else -1 for d in arg.shape), dtype)

    def run(self, array: np.ndarray) -> np.ndarray:
        return self._session.run([self.output.name], {self.input.name: _to_input(self.input, array)})[0]

    def time_invocations(self, array: np.ndarray, *, warmup: int, runs: int) -> list[float]:
        import onnxruntime as ort

        # Bind input and output once so the timed call is the inference alone.
        binding = self._session.io_binding()
        binding.bind_ortvalue_input(self.input.name, ort.OrtValue.ortvalue_from_numpy(_to_input(self.input, array)))
        binding.bind_output(self.output.name)
        for _ in range(warmup):
            self._session.run_with_iobinding(binding)
        return [_timed(lambda: self._session.run_with_iobinding(binding)) for _ in range(runs)]


def load_exported(path: str | os.PathLike[str], *, num_threads: int = 1,
                  tflite_kernels: KernelMode = "xnnpack") -> ExportedModel:
    """Load ``path`` with the runtime its suffix names; a missing or corrupt file is one UsageError.

    ``tflite_kernels`` chooses XNNPACK or the builtin kernels for a .tflite model (ONNX has one provider).
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"model file {path} does not exist")
    if path.suffix == ".tflite":
        return TFLiteModel(path, num_threads, tflite_kernels)
    if path.suffix == ".onnx":
        return OnnxModel(path, num_threads)
    raise UsageError(f"model file {path} has an unknown type: expected one of {', '.join(MODEL_SUFFIXES)}")

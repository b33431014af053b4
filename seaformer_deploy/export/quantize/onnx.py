"""``quantize_onnx``: an fp32 ``.onnx`` -> int8 (QDQ), dynamic or fp16 ``.onnx`` with onnxruntime's tools."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seaformer_deploy.errors import CheckFailedError, first_line
from seaformer_deploy.export.graph import load_onnx_graph
from seaformer_deploy.export.quantize.common import (
    Progress,
    QuantizationInfo,
    QuantMode,
    check_calibration,
    check_mode,
    check_paths,
    no_progress,
    quiet_tool,
    single_float_input,
    tool_version,
)
from seaformer_deploy.fileio import atomic_path


def _calibration_reader(input_name: str, samples: list[np.ndarray]) -> Any:
    """An onnxruntime CalibrationDataReader over in-memory arrays (defined here: its base class lives in ORT)."""
    from onnxruntime.quantization import CalibrationDataReader

    class ArrayReader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter([{input_name: sample} for sample in samples])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    return ArrayReader()


def _check_onnx_result(path: Path, mode: str) -> None:
    """The quantized file loads in onnxruntime with float32 I/O and carries converted weights."""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # the QDQ pass leaves unused Clip bounds, which ORT reports as warnings
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own pybind exception types
        raise CheckFailedError(f"the quantized model does not load in onnxruntime: {first_line(exc)}") from exc
    for value in [*session.get_inputs(), *session.get_outputs()]:
        if value.type != "tensor(float)":
            raise CheckFailedError(f"quantized model I/O {value.name} is {value.type}, expected tensor(float)")
    model = onnx.load(str(path), load_external_data=False)
    wanted = onnx.TensorProto.FLOAT16 if mode == "fp16" else onnx.TensorProto.UINT8
    if not any(init.data_type == wanted for init in model.graph.initializer):
        raise CheckFailedError(
            f"onnxruntime left no {onnx.TensorProto.DataType.Name(wanted).lower()} weight in the {mode} model"
        )


def quantize_onnx(
    float_model: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    mode: QuantMode,
    calibration: Sequence[np.ndarray] | None = None,
    progress: Progress | None = None,
) -> QuantizationInfo:
    """Quantize an fp32 ``.onnx`` with onnxruntime's tools and write the result to ``output``.

    Args:
        float_model: the fp32 (simplified) model written by the ONNX exporter.
        output: where to write the quantized ``.onnx`` (atomically).
        mode: ``int8`` (static QDQ, per-channel, needs ``calibration``), ``dynamic`` (uint8 weights, activations
            quantized at run time) or ``fp16`` (float16 weights and compute, float32 I/O).
        calibration: preprocessed images, each exactly the model's input shape (int8 only).
        progress: called with a short step name as the work advances.

    Raises:
        UsageError: bad mode, paths, calibration data, or a float model that cannot be read.
        CheckFailedError: the quantizer failed, or its result is not what was asked for.
    """
    start = time.perf_counter()
    step = progress or no_progress
    check_mode(mode)
    source, target = check_paths(float_model, output, ".onnx")

    step("reading float model")
    graph = load_onnx_graph(source)
    input_name, input_shape = single_float_input(graph, source)
    if input_shape is None or any(dim < 0 for dim in input_shape):
        input_shape = None
    samples = check_calibration(mode, calibration, input_shape)
    tool = tool_version("onnxruntime")

    notes: list[str] = []
    summary: str | dict[str, Any]
    try:
        with atomic_path(target) as tmp:
            if mode == "int8":
                from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

                step(f"calibrating on {len(samples)} image(s) and quantizing")
                with quiet_tool():
                    quantize_static(
                        source, tmp, _calibration_reader(input_name, samples),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QUInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"CalibMovingAverage": False},
                    )
                summary = {"function": "quantize_static", "format": "QDQ", "weights": "uint8 per-channel",
                           "activations": "uint8 per-tensor", "calibration": "global min/max over all images"}
                notes.append(
                    "uint8 activations and weights (U8U8): onnxruntime's U8S8/S8S8 kernels saturate on x86 without "
                    "VNNI (SeaFormer-T 256 px: S8S8 agreement 0.905 vs 0.955 for U8U8)"
                )
            elif mode == "dynamic":
                from onnxruntime.quantization import QuantType, quantize_dynamic

                step("quantizing")
                with quiet_tool():
                    quantize_dynamic(source, tmp, weight_type=QuantType.QUInt8, per_channel=False)
                summary = {"function": "quantize_dynamic", "weights": "uint8 per-tensor"}
                notes.append(
                    "dynamic ONNX runs convolutions as ConvInteger, slower than fp32 on CPU for this network "
                    "(SeaFormer-T 256 px: ~3x); it mainly shrinks the file - use int8 for speed"
                )
            else:
                import onnx
                from onnxruntime.transformers.float16 import convert_float_to_float16

                step("converting to float16")
                with quiet_tool():
                    converted = convert_float_to_float16(onnx.load(str(source)), keep_io_types=True)
                    onnx.save(converted, str(tmp))
                tool += " (transformers.float16)"
                summary = {"function": "convert_float_to_float16", "keep_io_types": True}
                notes.append("weights and compute are float16 with float32 graph I/O (Cast nodes at the boundary)")
            step("checking quantized model")
            _check_onnx_result(tmp, mode)
    except CheckFailedError:
        raise
    except Exception as exc:  # onnxruntime's tools raise many exception types; all mean they failed on this model
        raise CheckFailedError(f"onnxruntime quantization failed ({mode}): {first_line(exc)}") from exc
    return QuantizationInfo(
        mode=mode,
        tool=tool,
        recipe=summary,
        calibration_count=len(samples),
        float_io=True,
        notes=notes,
        seconds=round(time.perf_counter() - start, 3),
    )

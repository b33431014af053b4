"""``quantize_tflite``: an fp32 ``.tflite`` -> fp16, int8 or dynamic-range ``.tflite`` with ai-edge-quantizer."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seaformer_deploy.errors import CheckFailedError, UsageError, first_line
from seaformer_deploy.export.graph import load_tflite_graph
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
from seaformer_deploy.export.quantize.tflite_recipes import tflite_recipe
from seaformer_deploy.fileio import atomic_path


def _widen_min_max(seen: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Merge one image's activation statistics: the range only ever grows."""
    return {**new, "min": np.minimum(seen["min"], new["min"]), "max": np.maximum(seen["max"], new["max"])}


def _tflite_signature(model_bytes: bytes, path: Path) -> tuple[str, str]:
    """(signature key, input name) of the model's only signature."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        signatures = Interpreter(model_content=model_bytes).get_signature_list()
    except (RuntimeError, ValueError) as exc:
        raise UsageError(f"{path}: LiteRT cannot load the model: {first_line(exc)}") from exc
    if len(signatures) != 1:
        raise UsageError(f"{path}: expected one signature, found {len(signatures)}")
    key, signature = next(iter(signatures.items()))
    if len(signature["inputs"]) != 1:
        raise UsageError(f"{path}: signature {key!r} has {len(signature['inputs'])} inputs, expected one")
    return key, signature["inputs"][0]


def _calibrate_tflite(
    model_bytes: bytes,
    recipe: list[dict[str, Any]],
    signature: tuple[str, str],
    samples: list[np.ndarray],
    step: Progress,
) -> dict[str, Any]:
    from ai_edge_quantizer import calibrator, recipe_manager

    manager = recipe_manager.RecipeManager()
    manager.load_quantization_recipe(recipe)
    key, input_name = signature
    with quiet_tool():
        calib = calibrator.Calibrator(model_bytes, num_threads=os.cpu_count() or 1, qsv_update_func=_widen_min_max)
    # One image per call: statistics accumulate across calls and progress can be reported between them.
    for index, sample in enumerate(samples, start=1):
        step(f"calibrating {index}/{len(samples)}")
        with quiet_tool():
            calib.calibrate({key: [{input_name: sample}]}, manager)
    return calib.get_model_qsvs()


def _check_tflite_result(path: Path, mode: str, float_io: bool) -> None:
    """The quantized file loads in LiteRT, has the requested I/O dtype and really carries converted weights."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        raise CheckFailedError(f"the quantized model does not load in LiteRT: {first_line(exc)}") from exc
    io_dtype = np.float32 if float_io else np.int8
    for kind, details in (("input", interpreter.get_input_details()), ("output", interpreter.get_output_details())):
        for detail in details:
            if detail["dtype"] != io_dtype:
                raise CheckFailedError(
                    f"quantized model {kind} {detail['name']} is {np.dtype(detail['dtype']).name}, "
                    f"expected {np.dtype(io_dtype).name}"
                )
    weight_dtype = "float16" if mode == "fp16" else "int8"
    graph = load_tflite_graph(path)
    if not any(t.is_constant and t.dtype == weight_dtype for t in graph.tensors.values()):
        raise CheckFailedError(f"the quantizer left no {weight_dtype} weight in the {mode} model")


def quantize_tflite(
    float_model: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    mode: QuantMode,
    calibration: Sequence[np.ndarray] | None = None,
    float_io: bool = True,
    float_stem: bool = False,
    progress: Progress | None = None,
) -> QuantizationInfo:
    """Quantize an fp32 ``.tflite`` with ai-edge-quantizer and write the result to ``output``.

    Args:
        float_model: the fp32 model written by the TFLite exporter.
        output: where to write the quantized ``.tflite`` (atomically).
        mode: ``fp16`` (float16 weights), ``int8`` (full-integer a8w8, needs ``calibration``) or ``dynamic``
            (int8 weights, activations quantized at run time).
        calibration: preprocessed images, each exactly the model's input shape (int8 only).
        float_io: int8 only: float32 input/output around the int8 body; False gives int8 input/output.
        float_stem: int8 with float I/O only: the image stem stays float and reads the float image.
        progress: called with a short step name as the work advances.

    Raises:
        UsageError: bad mode, options, paths, calibration data, or a float model that cannot be read.
        CheckFailedError: the quantizer failed, or its result is not what was asked for.
    """
    start = time.perf_counter()
    step = progress or no_progress
    check_mode(mode)
    if not float_io and mode != "int8":
        raise UsageError(f"float_io=False applies to mode 'int8' only; {mode} models compute in float")
    if float_stem and not (mode == "int8" and float_io):
        raise UsageError("float_stem applies to mode 'int8' with float I/O only")
    source, target = check_paths(float_model, output, ".tflite")

    step("reading float model")
    graph = load_tflite_graph(source)
    _, input_shape = single_float_input(graph, source)
    samples = check_calibration(mode, calibration, input_shape)
    model_bytes = source.read_bytes()
    signature = _tflite_signature(model_bytes, source)

    from ai_edge_quantizer import quantizer

    recipe, summary, notes = tflite_recipe(mode, graph, model_bytes, float_io, float_stem)
    try:
        qsvs = _calibrate_tflite(model_bytes, recipe, signature, samples, step) if samples else None
        step("quantizing")
        with quiet_tool():
            result = quantizer.Quantizer(model_bytes, recipe).quantize(
                qsvs, enable_progress_bar=False, enable_progress_report=False
            )
    except Exception as exc:  # the quantizer raises many exception types; all mean it failed on this model
        raise CheckFailedError(f"ai-edge-quantizer failed ({mode}): {first_line(exc)}") from exc
    if not result.quantized_model:
        raise CheckFailedError(f"ai-edge-quantizer produced no model ({mode})")

    step("checking quantized model")
    with atomic_path(target) as tmp:
        tmp.write_bytes(bytes(result.quantized_model))
        _check_tflite_result(tmp, mode, float_io)
    return QuantizationInfo(
        mode=mode,
        tool=tool_version("ai-edge-quantizer"),
        recipe=summary,
        calibration_count=len(samples),
        float_io=float_io,
        notes=notes,
        seconds=round(time.perf_counter() - start, 3),
    )

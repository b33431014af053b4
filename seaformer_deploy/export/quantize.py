"""Post-training quantization of exported SeaFormer models: TFLite with ai-edge-quantizer, ONNX with onnxruntime.

Both functions read the fp32 file an exporter wrote and write a quantized copy atomically; PyTorch is not involved.
litert-torch's own PT2E int8 path fails on SeaFormer in its layout pass (DESIGN.md section 4), so TFLite int8 is made
from the fp32 ``.tflite``.

How the TFLite int8 recipe was chosen. SeaFormer-T at 512x512 with seeded realistic weights, 16 demo images for
calibration, 12 other demo images for evaluation; agreement is the argmax agreement of the logits with the fp32
model; float32 I/O; partitions and CPU ops as seen by ai-edge-litert's XNNPACK delegate:

=======================================================  =========  ======  =====  ==========  =======
candidate                                                agreement  rel L2  Q/DQ   partitions  CPU ops
=======================================================  =========  ======  =====  ==========  =======
a8w8 everywhere                                            0.967    0.034   19/9       13         23
a8w8, attention core a16w8                                 0.967    0.034   43/9        5         80
a8w8, SOFTMAX float                                        0.966    0.034   27/17       9         15
a8w8, attention core float (chosen)                        0.967    0.034   19/25       1          0
  chosen, with ai-edge-quantizer's default calibration     0.961    0.056   20/25       1          0
  chosen, per-tensor weights                               0.958    0.040   19/25       1          0
  chosen, OCTAV weight ranges for convolutions             0.966    0.034   19/25       1          0
=======================================================  =========  ======  =====  ==========  =======

- Calibration ranges are the global min/max over all images. ai-edge-quantizer's default merges images with a 0.95
  moving average, which leaves the first image 0.95^(n-1) of the weight and makes the ranges depend on image order.
  On SeaFormer-B at 512 px the difference is larger: agreement 0.924 vs 0.891, rel L2 0.059 vs 0.087.
- The attention core stays float: BATCH_MATMUL -> scale MUL -> SOFTMAX -> BATCH_MATMUL, the reshapes between them and
  the ReLU6 right after. When these ops are int8, XNNPACK rejects the int8 SOFTMAX and the int8 BATCH_MATMUL of two
  activations. Those ops then run on reference kernels and split the graph: 13 partitions for T, 25 for B. The core
  tensors hold at most a few thousand values, so float costs nothing measurable. int16 does not help because
  XNNPACK has no int16 kernels.
- Weights are int8, symmetric, per output channel; activations are int8, asymmetric, per tensor (the a8w8 recipe).
  MSE weight ranges hurt: agreement 0.891 vs 0.960 at 256 px. Keeping any one op type float changes little, even
  every CONV_2D: on SeaFormer-B agreement moves from 0.924 to 0.934. The remaining error is spread over all
  activations.
- MSE-optimal activation ranges (each tensor's range shrunk to minimise its quantization error, from histograms
  over the calibration images) left SeaFormer-B's relative L2 error where it was (0.058-0.062 vs 0.058-0.059) and
  moved its agreement by +0.006 on the calibration images and +0.018 on 12 others: within the noise, not used.
- The weights matter more than any choice above. Random weights have nearly tied logits: on them SeaFormer-B
  reaches 0.92-0.93 agreement whatever the recipe. On the demo weights (``models/demo_weights.py``) the same
  recipe gives SeaFormer-B 0.993 and SeaFormer-T 0.991 on held-out scenes (worst relative L2 0.043 and 0.053),
  because their best class stands out (``export/parity.py``). ``benchmarks/int8_weights.py`` measures both.
- QUANTIZE ops left: the float input, the re-entry after each attention core, and int8->int8 rescales before
  CONCATENATION. DEQUANTIZE ops left: q/k/v into each attention core and the float output. XNNPACK runs all of them.

TFLite fp16 casts convolution weights to float16, adding one DEQUANTIZE per weight that XNNPACK folds (T 512 px:
agreement 0.999, one partition). Biases stay float32. TFLite dynamic stores int8 per-channel weights for CONV_2D
and FULLY_CONNECTED only. XNNPACK has no dynamic-range depthwise kernel: quantized depthwise layers ran on reference
kernels in 19 partitions, while float ones give a single partition.

ONNX int8 is QDQ, per-channel, min/max over all images, with uint8 activations and weights (U8U8). On x86 without
VNNI, onnxruntime's fused S8S8 and U8S8 kernels lose accuracy to saturating 16-bit intermediate sums. At 256 px, T
fused agreed at 0.905 (S8S8) and 0.896 (U8S8), against 0.959 for the same S8S8 model run unfused. U8U8 reached 0.955
(rel L2 0.033); 7-bit weights (reduce_range) reached 0.955 (rel L2 0.042). ONNX dynamic uses uint8 weights because
ConvInteger with int8 weights ran 3x slower. ONNX fp16 uses onnxruntime.transformers.float16 and keeps float32 I/O;
onnxconverter-common is not a dependency.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from seaformer_deploy.errors import CheckFailedError, UsageError, first_line
from seaformer_deploy.export.graph import Graph, Node, load_onnx_graph, load_tflite_graph
from seaformer_deploy.fileio import atomic_path, ensure_writable_dir

QuantMode = Literal["fp16", "int8", "dynamic"]
Progress = Callable[[str], None]

_MODES: tuple[str, ...] = get_args(QuantMode)

# Ops that sit between the two attention matmuls and the softmax in litert-torch's lowering of SeaFormer attention.
_ATTENTION_PASS_THROUGH = frozenset({"RESHAPE", "TRANSPOSE", "MUL"})
# ai-edge-quantizer 0.10.0 cannot quantize RELU6; one directly after an attention core joins the float island.
_ATTENTION_TRAILING = frozenset({"RELU6"})
# Weight-carrying TFLite ops that ai-edge-quantizer can cast to float16.
_FP16_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "CONV_2D_TRANSPOSE")
# Dynamic-range ops: XNNPACK has dynamic-range kernels for these but not for DEPTHWISE_CONV_2D.
_DYNAMIC_OPS = ("CONV_2D", "FULLY_CONNECTED")


@dataclass(frozen=True)
class QuantizationInfo:
    """What one quantization did: mode, tool and version, recipe summary, calibration size, I/O, notes, time."""

    mode: str
    tool: str
    recipe: str | dict[str, Any]
    calibration_count: int
    float_io: bool
    notes: list[str]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _no_progress(_: str) -> None:
    return None


def _tool(distribution: str) -> str:
    return f"{distribution} {metadata.version(distribution)}"


@contextlib.contextmanager
def _quiet_tool() -> Iterator[None]:
    """Silence a third-party tool: its tqdm bars, prints, Python warnings and log records.

    The caller's progress callback must not run inside this block, or its output would be swallowed too.
    """
    previous_disable = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous_disable)


def _check_mode(mode: str) -> None:
    if mode not in _MODES:
        raise UsageError(f"unknown quantization mode {mode!r}: expected one of {', '.join(_MODES)}")


def _check_paths(float_model: str | os.PathLike[str], output: str | os.PathLike[str], suffix: str) -> tuple[Path, Path]:
    source, target = Path(float_model), Path(output)
    if source.suffix.lower() != suffix:
        raise UsageError(f"float model {source} must be a {suffix} file")
    if target.suffix.lower() != suffix:
        raise UsageError(f"output {target} must end in {suffix}")
    if not source.is_file():
        raise UsageError(f"float model {source} not found")
    if target.resolve() == source.resolve():
        raise UsageError(f"output {target} would overwrite the float model")
    ensure_writable_dir(target.parent)
    return source, target


def _check_calibration(
    mode: str, calibration: Sequence[np.ndarray] | None, input_shape: tuple[int, ...] | None
) -> list[np.ndarray]:
    """Calibration arrays as float32, each exactly the model's input shape; only mode int8 takes them."""
    if mode != "int8":
        if calibration is not None:
            raise UsageError(f"mode {mode!r} takes no calibration images (only int8 does)")
        return []
    if calibration is None:
        raise UsageError("mode 'int8' needs calibration images (preprocessed arrays in the model's input layout)")
    try:
        samples = [np.asarray(sample, dtype=np.float32) for sample in calibration]
    except (TypeError, ValueError) as exc:
        raise UsageError(f"calibration images must be numeric arrays: {first_line(exc)}") from exc
    if not samples:
        raise UsageError("calibration is empty: give at least one preprocessed image")
    for index, sample in enumerate(samples):
        if input_shape is not None and sample.shape != input_shape:
            raise UsageError(f"calibration[{index}] has shape {sample.shape}, the model input is {input_shape}")
        if not np.isfinite(sample).all():
            raise UsageError(f"calibration[{index}] contains NaN or infinite values")
    return samples


def _single_float_input(graph: Graph, path: Path) -> tuple[str, tuple[int, ...] | None]:
    if len(graph.inputs) != 1:
        raise UsageError(f"{path}: expected one model input, found {len(graph.inputs)}")
    info = graph.tensors[graph.inputs[0]]
    # TFLite spells it float32, ONNX float.
    if info.dtype not in ("float32", "float"):
        raise UsageError(f"{path}: input is {info.dtype}; quantization needs a float32 model")
    return info.name, info.shape


# --------------------------------------------------------------------------------------------------------------------
# TFLite (ai-edge-quantizer)


def _data_input(graph: Graph, node: Node) -> str | None:
    """The first input of `node` that is computed, not a constant."""
    for name in node.inputs:
        if name and not graph.tensors[name].is_constant:
            return name
    return None


def _only_consumer(graph: Graph, node: Node) -> Node | None:
    consumers = graph.consumers(node.outputs[0]) if node.outputs and node.outputs[0] else []
    return consumers[0] if len(consumers) == 1 else None


def _walk_to_matmul(start: Node, step: Callable[[Node], Node | None]) -> list[Node] | None:
    """Nodes from `start` (exclusive) through pass-through ops to a BATCH_MATMUL (inclusive), or None."""
    path: list[Node] = []
    node = step(start)
    while node is not None and node.op_type in _ATTENTION_PASS_THROUGH:
        path.append(node)
        node = step(node)
    if node is None or node.op_type != "BATCH_MATMUL":
        return None
    return [*path, node]


def _attention_cores(graph: Graph) -> tuple[list[Node], int]:
    """Nodes of every matmul -> softmax -> matmul attention core (plus a ReLU6 right after), and softmaxes missed."""

    def upstream(node: Node) -> Node | None:
        name = _data_input(graph, node)
        return graph.producer(name) if name else None

    def downstream(node: Node) -> Node | None:
        return _only_consumer(graph, node)

    core: dict[int, Node] = {}
    missed = 0
    for softmax in (node for node in graph.nodes if node.op_type == "SOFTMAX"):
        before = _walk_to_matmul(softmax, upstream)
        after = _walk_to_matmul(softmax, downstream)
        if before is None or after is None:
            missed += 1
            continue
        nodes = [*before, softmax, *after]
        trailing = downstream(after[-1])
        if trailing is not None and trailing.op_type in _ATTENTION_TRAILING:
            nodes.append(trailing)
        core.update((node.index, node) for node in nodes)
    return [core[index] for index in sorted(core)], missed


def _op_scopes(model_bytes: bytes) -> list[str]:
    """The scope string ai-edge-quantizer matches recipe regexes against, per operator of subgraph 0."""
    from ai_edge_quantizer.utils import tfl_flatbuffer_utils

    model = tfl_flatbuffer_utils.read_model(model_bytes)
    subgraph = model.subgraphs[0]
    return [tfl_flatbuffer_utils.get_op_scope(op, subgraph.tensors) for op in subgraph.operators]


def _no_quantize(regex: str, operation: str) -> dict[str, Any]:
    return {"regex": regex, "operation": operation, "algorithm_key": "no_quantize"}


def _int8_recipe(
    graph: Graph, model_bytes: bytes, float_io: bool
) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """The int8 recipe, its summary for reports, and notes on the choices made."""
    from ai_edge_quantizer import recipe as aeq_recipe

    recipe = list(aeq_recipe.static_wi8_ai8())
    core, missed = _attention_cores(graph)
    scopes = _op_scopes(model_bytes)
    recipe += [_no_quantize(f"^{re.escape(scopes[node.index])}$", node.op_type) for node in core]
    if float_io:
        recipe += [_no_quantize(".*", "INPUT"), _no_quantize(".*", "OUTPUT")]
    float_ops = dict(sorted(Counter(node.op_type for node in core).items()))
    summary = {
        "base": "static_wi8_ai8",
        "weights": "int8 symmetric per-channel",
        "activations": "int8 asymmetric per-tensor",
        "calibration": "global min/max over all images",
        "float_ops": float_ops,
        "io": "float32" if float_io else "int8",
    }
    notes = [
        "int8 recipe: a8w8 with the attention cores (BATCH_MATMUL, SOFTMAX, scale MUL, reshapes, trailing RELU6) "
        "kept float: XNNPACK has no int8 SOFTMAX or activation x activation BATCH_MATMUL, so int8 cores fall back to "
        "reference kernels and split SeaFormer-T into 13 delegate partitions; float cores leave one, at equal accuracy",
        "calibration ranges are the global min/max over all images, not ai-edge-quantizer's 0.95 moving average "
        "(rel L2 0.034 vs 0.056 on SeaFormer-T at 512 px)",
    ]
    if missed:
        notes.append(f"{missed} SOFTMAX op(s) outside the matmul -> softmax -> matmul pattern were quantized as is")
    return recipe, summary, notes


def _fp16_recipe() -> list[dict[str, Any]]:
    op_config = {
        "weight_tensor_config": {"num_bits": 16, "dtype": "FLOAT", "symmetric": True, "granularity": "TENSORWISE"},
        "compute_precision": "FLOAT",
        "explicit_dequantize": True,
    }
    return [
        {"regex": ".*", "operation": op, "algorithm_key": "float_casting", "op_config": op_config} for op in _FP16_OPS
    ]


def _dynamic_recipe() -> list[dict[str, Any]]:
    from ai_edge_quantizer import qtyping, recipe_manager

    manager = recipe_manager.RecipeManager()
    for op in _DYNAMIC_OPS:
        manager.add_dynamic_config(".*", qtyping.TFLOperationName(op), num_bits=8)
    return manager.get_quantization_recipe()


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
    with _quiet_tool():
        calib = calibrator.Calibrator(model_bytes, num_threads=os.cpu_count() or 1, qsv_update_func=_widen_min_max)
    # One image per call: statistics accumulate across calls and progress can be reported between them.
    for index, sample in enumerate(samples, start=1):
        step(f"calibrating {index}/{len(samples)}")
        with _quiet_tool():
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
        progress: called with a short step name as the work advances.

    Raises:
        UsageError: bad mode, options, paths, calibration data, or a float model that cannot be read.
        CheckFailedError: the quantizer failed, or its result is not what was asked for.
    """
    start = time.perf_counter()
    step = progress or _no_progress
    _check_mode(mode)
    if not float_io and mode != "int8":
        raise UsageError(f"float_io=False applies to mode 'int8' only; {mode} models compute in float")
    source, target = _check_paths(float_model, output, ".tflite")

    step("reading float model")
    graph = load_tflite_graph(source)
    _, input_shape = _single_float_input(graph, source)
    samples = _check_calibration(mode, calibration, input_shape)
    model_bytes = source.read_bytes()
    signature = _tflite_signature(model_bytes, source)

    from ai_edge_quantizer import quantizer

    notes: list[str] = []
    summary: str | dict[str, Any]
    if mode == "int8":
        recipe, summary, notes = _int8_recipe(graph, model_bytes, float_io)
    elif mode == "fp16":
        recipe = _fp16_recipe()
        summary = {"algorithm": "float_casting", "weights": "float16", "ops": list(_FP16_OPS), "io": "float32"}
        notes.append("weights of convolution / fully-connected ops are float16; biases and activations stay float32")
    else:
        recipe = _dynamic_recipe()
        summary = {"base": "dynamic_wi8_afp32", "weights": "int8 symmetric per-channel", "ops": list(_DYNAMIC_OPS),
                   "io": "float32"}
        notes.append("DEPTHWISE_CONV_2D weights stay float32: XNNPACK has no dynamic-range depthwise kernel, and "
                     "quantizing them split SeaFormer-T into 19 delegate partitions")

    try:
        qsvs = _calibrate_tflite(model_bytes, recipe, signature, samples, step) if samples else None
        step("quantizing")
        with _quiet_tool():
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
        tool=_tool("ai-edge-quantizer"),
        recipe=summary,
        calibration_count=len(samples),
        float_io=float_io,
        notes=notes,
        seconds=round(time.perf_counter() - start, 3),
    )


# --------------------------------------------------------------------------------------------------------------------
# ONNX (onnxruntime)


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
    step = progress or _no_progress
    _check_mode(mode)
    source, target = _check_paths(float_model, output, ".onnx")

    step("reading float model")
    graph = load_onnx_graph(source)
    input_name, input_shape = _single_float_input(graph, source)
    if input_shape is None or any(dim < 0 for dim in input_shape):
        input_shape = None
    samples = _check_calibration(mode, calibration, input_shape)
    tool = _tool("onnxruntime")

    notes: list[str] = []
    summary: str | dict[str, Any]
    try:
        with atomic_path(target) as tmp:
            if mode == "int8":
                from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

                step(f"calibrating on {len(samples)} image(s) and quantizing")
                with _quiet_tool():
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
                with _quiet_tool():
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
                with _quiet_tool():
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

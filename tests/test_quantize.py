"""Quantization of exported SeaFormer models: TFLite fp16 / int8 / dynamic and ONNX int8 / dynamic / fp16.

One SeaFormer-T with seeded realistic weights is exported once per module at 128 px (TFLite NHWC, ONNX NCHW);
every quantized model is run in ai_edge_litert / onnxruntime on demo images and compared with its fp32 parent.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from helpers import randomize_weights

import seaformer_deploy as sd
from seaformer_deploy.data.demo import demo_image
from seaformer_deploy.data.preprocess import preprocess
from seaformer_deploy.errors import CheckFailedError, UsageError
from seaformer_deploy.export.convert import convert_to_onnx, convert_to_tflite
from seaformer_deploy.export.delegation import inspect_delegation
from seaformer_deploy.export.graph import load_tflite_graph, op_histogram
from seaformer_deploy.export.quantize import quantize_onnx, quantize_tflite
from seaformer_deploy.runtime import load_exported

SIZE = 128
CALIBRATION_SEEDS = range(100, 108)
EVALUATION_SEEDS = range(200, 206)


def _images(seeds: range, layout: str) -> list[np.ndarray]:
    return [preprocess(demo_image((SIZE, SIZE), seed=seed), (SIZE, SIZE), layout=layout) for seed in seeds]


def _deploy_model(layout: str) -> sd.DeployModel:
    model = randomize_weights(sd.build_model("T"), seed=0)
    return sd.prepare_for_deploy(model, SIZE, layout=layout)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """fp32 SeaFormer-T files written by the project's own converters (the quantizers' real input)."""
    root = tmp_path_factory.mktemp("quantize")
    nhwc, nchw = _deploy_model("nhwc"), _deploy_model("nchw")
    convert_to_tflite(nhwc, nhwc.example_input(), root / "fp32.tflite")
    convert_to_onnx(nchw, nchw.example_input(), root / "fp32.onnx")
    return {"tflite": root / "fp32.tflite", "onnx": root / "fp32.onnx", "root": root}


@pytest.fixture(scope="module")
def calibration_nhwc() -> list[np.ndarray]:
    return _images(CALIBRATION_SEEDS, "nhwc")


# --------------------------------------------------------------------------------------------------------------------
# helpers


def _run(path: Path, images: list[np.ndarray]) -> tuple[list[np.ndarray], np.dtype, np.dtype]:
    """Float outputs for float inputs through the project's runtime (which handles integer I/O), and the
    model's own input and output dtypes."""
    model = load_exported(path)
    return [model.run(image) for image in images], np.dtype(model.input.dtype), np.dtype(model.output.dtype)


def _agreement(reference: list[np.ndarray], candidate: list[np.ndarray], class_axis: int) -> float:
    pairs = zip(reference, candidate, strict=True)
    return float(np.mean([np.mean(r.argmax(class_axis) == c.argmax(class_axis)) for r, c in pairs]))


def _rel_l2(reference: list[np.ndarray], candidate: list[np.ndarray]) -> float:
    pairs = zip(reference, candidate, strict=True)
    return float(np.mean([np.linalg.norm(r - c) / np.linalg.norm(r) for r, c in pairs]))


def _tflite_weight_types(path: Path) -> dict[str, Counter]:
    """Per convolution op type, the stored type of its weight tensor (looking through an explicit DEQUANTIZE)."""
    graph = load_tflite_graph(path)
    types: dict[str, Counter] = {}
    for node in graph.nodes:
        if node.op_type not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        weight = node.inputs[1]
        producer = graph.producer(weight)
        if producer is not None and producer.op_type == "DEQUANTIZE":
            weight = producer.inputs[0]
        types.setdefault(node.op_type, Counter())[graph.tensors[weight].dtype.upper()] += 1
    return types


def _tflite_op_counts(path: Path) -> Counter:
    return Counter(op_histogram(load_tflite_graph(path)))


def _xnnpack_partitions(path: Path) -> int:
    return inspect_delegation(path).partitions


def _onnx_conv_weight_types(path: Path) -> Counter:
    """Stored type of each Conv weight (through DequantizeLinear / Cast if the quantizer inserted one)."""
    import onnx

    model = onnx.load(str(path))
    initializers = {init.name: init.data_type for init in model.graph.initializer}
    producers = {out: node for node in model.graph.node for out in node.output}
    types: Counter = Counter()
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvInteger"):
            continue
        weight = node.input[1]
        while weight not in initializers and weight in producers:
            weight = producers[weight].input[0]
        types[onnx.TensorProto.DataType.Name(initializers[weight])] += 1
    return types


# --------------------------------------------------------------------------------------------------------------------
# TFLite


@pytest.fixture(scope="module")
def tflite_reference(exported: dict[str, Path]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    images = _images(EVALUATION_SEEDS, "nhwc")
    return images, _run(exported["tflite"], images)[0]


@pytest.mark.slow
def test_tflite_fp16_casts_every_conv_weight(exported, tflite_reference, tmp_path):
    images, reference = tflite_reference
    output = tmp_path / "fp16.tflite"
    info = quantize_tflite(exported["tflite"], output, mode="fp16")

    weights = _tflite_weight_types(output)
    fp32_weights = _tflite_weight_types(exported["tflite"])
    assert set(weights) == {"CONV_2D", "DEPTHWISE_CONV_2D"}
    for op, counts in weights.items():
        assert counts == Counter({"FLOAT16": sum(fp32_weights[op].values())}), op
    assert output.stat().st_size < 0.6 * exported["tflite"].stat().st_size
    outputs, in_dtype, out_dtype = _run(output, images)
    assert (in_dtype, out_dtype) == (np.float32, np.float32)
    assert _agreement(reference, outputs, -1) >= 0.99
    assert _rel_l2(reference, outputs) < 5e-3
    assert _xnnpack_partitions(output) == 1
    assert info.mode == "fp16" and info.tool.startswith("ai-edge-quantizer ") and info.calibration_count == 0
    assert json.loads(json.dumps(info.to_dict()))["recipe"]["weights"] == "float16"


@pytest.mark.slow
def test_tflite_int8_float_io_keeps_attention_float_in_one_partition(
    exported, tflite_reference, calibration_nhwc, tmp_path
):
    images, reference = tflite_reference
    output = tmp_path / "int8.tflite"
    steps: list[str] = []
    info = quantize_tflite(exported["tflite"], output, mode="int8", calibration=calibration_nhwc,
                           progress=steps.append)

    outputs, in_dtype, out_dtype = _run(output, images)
    assert (in_dtype, out_dtype) == (np.float32, np.float32)
    agreement = _agreement(reference, outputs, -1)
    assert agreement >= 0.9, agreement
    assert _rel_l2(reference, outputs) < 0.08
    weights = _tflite_weight_types(output)
    # By default every convolution is int8, the image stem's too: the float image is quantized once.
    assert info.recipe["float_stem"] == 0 and set(weights["CONV_2D"]) == {"INT8"}
    assert set(weights["DEPTHWISE_CONV_2D"]) == {"INT8"} and not any("image stem" in note for note in info.notes)
    graph = load_tflite_graph(output)
    assert {node.op_type for node in graph.consumers(graph.inputs[0])} == {"QUANTIZE"}
    # Every softmax of the float model stays float, with its matmuls; XNNPACK then takes the whole graph.
    float_counts = _tflite_op_counts(exported["tflite"])
    assert info.recipe["float_ops"]["SOFTMAX"] == float_counts["SOFTMAX"] > 0
    assert info.recipe["float_ops"]["BATCH_MATMUL"] == float_counts["BATCH_MATMUL"]
    assert _xnnpack_partitions(output) == 1
    # One float island per attention block (two softmaxes, one per axis), squeeze and head merge included: one
    # DEQUANTIZE of the block's q|k|v plus the float output, and one QUANTIZE per attention output plus the input
    # and one requantize per block (the q|k|v concatenation); a border inside the island adds to both counts.
    counts = _tflite_op_counts(output)
    softmaxes, blocks = float_counts["SOFTMAX"], float_counts["SOFTMAX"] // 2
    assert counts["DEQUANTIZE"] <= blocks + 1 and counts["QUANTIZE"] <= softmaxes + blocks + 1, counts
    assert info.recipe["float_ops"]["MEAN"] == float_counts["MEAN"] and info.recipe["float_ops"]["SUM"] == softmaxes
    assert info.calibration_count == len(calibration_nhwc) and info.float_io
    assert info.notes and any("attention" in note for note in info.notes)
    assert steps[0] == "reading float model"
    count = len(calibration_nhwc)
    calibrating = [step for step in steps if step.startswith("calibrating")]
    assert calibrating == [f"calibrating {i}/{count}" for i in range(1, count + 1)]
    assert "quantizing" in steps


@pytest.mark.slow
def test_tflite_int8_float_stem_keeps_the_image_stem_float(exported, tflite_reference, calibration_nhwc, tmp_path):
    images, reference = tflite_reference
    output = tmp_path / "int8-floatstem.tflite"
    info = quantize_tflite(exported["tflite"], output, mode="int8", calibration=calibration_nhwc, float_stem=True)

    weights = _tflite_weight_types(output)
    # The stem's convolution reads the float image with FLOAT32 weights; every other convolution is int8.
    assert info.recipe["float_stem"] >= 1 and weights["CONV_2D"]["FLOAT32"] == 1 and weights["CONV_2D"]["INT8"] > 1
    assert set(weights["DEPTHWISE_CONV_2D"]) == {"INT8"} and any("image stem" in note for note in info.notes)
    graph = load_tflite_graph(output)
    assert "QUANTIZE" not in {node.op_type for node in graph.consumers(graph.inputs[0])}
    assert _agreement(reference, _run(output, images)[0], -1) >= 0.9
    assert _xnnpack_partitions(output) == 1


@pytest.mark.slow
def test_tflite_int8_calibration_does_not_depend_on_image_order(exported, calibration_nhwc, tmp_path):
    # Ranges are the global min/max over all images; a running average would weigh the first images most.
    forward, backward = tmp_path / "forward.tflite", tmp_path / "backward.tflite"
    quantize_tflite(exported["tflite"], forward, mode="int8", calibration=calibration_nhwc)
    quantize_tflite(exported["tflite"], backward, mode="int8", calibration=calibration_nhwc[::-1])
    assert forward.read_bytes() == backward.read_bytes()


@pytest.mark.slow
def test_tflite_int8_io_when_float_io_is_off(exported, tflite_reference, calibration_nhwc, tmp_path):
    images, reference = tflite_reference
    output = tmp_path / "int8_io.tflite"
    info = quantize_tflite(exported["tflite"], output, mode="int8", calibration=calibration_nhwc, float_io=False)

    outputs, in_dtype, out_dtype = _run(output, images)
    assert (in_dtype, out_dtype) == (np.int8, np.int8)
    assert _agreement(reference, outputs, -1) >= 0.9
    assert not info.float_io and info.recipe["io"] == "int8"


@pytest.mark.slow
def test_tflite_dynamic_quantizes_conv_weights_only(exported, tflite_reference, tmp_path):
    images, reference = tflite_reference
    output = tmp_path / "dynamic.tflite"
    quantize_tflite(exported["tflite"], output, mode="dynamic")

    weights = _tflite_weight_types(output)
    assert set(weights["CONV_2D"]) == {"INT8"}
    assert set(weights["DEPTHWISE_CONV_2D"]) == {"FLOAT32"}
    counts = _tflite_op_counts(output)
    assert counts["QUANTIZE"] == counts["DEQUANTIZE"] == 0
    outputs, in_dtype, out_dtype = _run(output, images)
    assert (in_dtype, out_dtype) == (np.float32, np.float32)
    assert _agreement(reference, outputs, -1) >= 0.9
    assert _xnnpack_partitions(output) == 1


# --------------------------------------------------------------------------------------------------------------------
# ONNX


@pytest.fixture(scope="module")
def onnx_reference(exported: dict[str, Path]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    images = _images(EVALUATION_SEEDS, "nchw")
    return images, _run(exported["onnx"], images)[0]


@pytest.mark.slow
def test_onnx_int8_is_qdq_with_uint8_weights(exported, onnx_reference, tmp_path):
    images, reference = onnx_reference
    output = tmp_path / "int8.onnx"
    calibration = _images(CALIBRATION_SEEDS, "nchw")
    info = quantize_onnx(exported["onnx"], output, mode="int8", calibration=calibration)

    assert set(_onnx_conv_weight_types(output)) == {"UINT8"}
    outputs, in_type, out_type = _run(output, images)
    assert (in_type, out_type) == (np.float32, np.float32)
    agreement = _agreement(reference, outputs, 1)
    assert agreement >= 0.9, agreement
    assert info.recipe["format"] == "QDQ" and info.calibration_count == len(calibration)
    assert info.tool.startswith("onnxruntime ")


@pytest.mark.slow
def test_onnx_dynamic_and_fp16(exported, onnx_reference, tmp_path):
    images, reference = onnx_reference
    dynamic, fp16 = tmp_path / "dynamic.onnx", tmp_path / "fp16.onnx"
    quantize_onnx(exported["onnx"], dynamic, mode="dynamic")
    quantize_onnx(exported["onnx"], fp16, mode="fp16")

    assert set(_onnx_conv_weight_types(dynamic)) == {"UINT8"}
    assert set(_onnx_conv_weight_types(fp16)) == {"FLOAT16"}
    for path, minimum in ((dynamic, 0.9), (fp16, 0.99)):
        outputs, in_type, out_type = _run(path, images)
        assert (in_type, out_type) == (np.float32, np.float32)
        assert _agreement(reference, outputs, 1) >= minimum, path.name


# --------------------------------------------------------------------------------------------------------------------
# errors


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "int8"}, "needs calibration"),
        ({"mode": "int8", "calibration": []}, "empty"),
        ({"mode": "int8", "calibration": [np.zeros((1, 3, SIZE, SIZE), np.float32)]}, "shape"),
        ({"mode": "int8", "calibration": [np.full((1, SIZE, SIZE, 3), np.nan, np.float32)]}, "NaN"),
        ({"mode": "fp16", "calibration": [np.zeros((1, SIZE, SIZE, 3), np.float32)]}, "no calibration"),
        ({"mode": "fp16", "float_io": False}, "float_io"),
        ({"mode": "fp16", "float_stem": True}, "float_stem"),
        ({"mode": "int8", "calibration": [np.zeros((1, SIZE, SIZE, 3), np.float32)], "float_io": False,
          "float_stem": True}, "float_stem"),
        ({"mode": "int4"}, "int4"),
    ],
)
def test_tflite_bad_options_are_usage_errors(exported, tmp_path, options, message):
    output = tmp_path / "q.tflite"
    with pytest.raises(UsageError, match=message):
        quantize_tflite(exported["tflite"], output, **options)
    assert not output.exists()


@pytest.mark.slow
def test_onnx_int8_without_calibration_is_a_usage_error(exported, tmp_path):
    with pytest.raises(UsageError, match="needs calibration"):
        quantize_onnx(exported["onnx"], tmp_path / "q.onnx", mode="int8")
    with pytest.raises(UsageError, match="shape"):
        quantize_onnx(exported["onnx"], tmp_path / "q.onnx", mode="int8",
                      calibration=[np.zeros((1, SIZE, SIZE, 3), np.float32)])


@pytest.mark.parametrize("suffix", [".tflite", ".onnx"])
def test_corrupt_float_model_is_a_one_line_usage_error(tmp_path, suffix):
    source = tmp_path / f"broken{suffix}"
    source.write_bytes(b"\x00garbage, not a model" * 50)
    output = tmp_path / f"q{suffix}"
    quantize = quantize_tflite if suffix == ".tflite" else quantize_onnx
    with pytest.raises(UsageError) as error:
        quantize(source, output, mode="dynamic")
    assert "\n" not in str(error.value) and str(source) in str(error.value)
    assert not output.exists()


def test_paths_are_checked_before_any_work(tmp_path):
    missing = tmp_path / "missing.tflite"
    with pytest.raises(UsageError, match="not found"):
        quantize_tflite(missing, tmp_path / "q.tflite", mode="fp16")
    with pytest.raises(UsageError, match=r"must end in \.onnx"):
        quantize_onnx(tmp_path / "m.onnx", tmp_path / "q.tflite", mode="fp16")


@pytest.mark.slow
def test_quantizer_failure_is_check_failed_with_its_first_line(exported, tmp_path, monkeypatch):
    from ai_edge_quantizer import quantizer
    from onnxruntime import quantization

    def broken(*args, **kwargs):
        raise RuntimeError("tensor 42 has no range\nlong internal details")

    monkeypatch.setattr(quantizer.Quantizer, "quantize", broken)
    monkeypatch.setattr(quantization, "quantize_dynamic", broken)
    for quantize, source, output in (
        (quantize_tflite, exported["tflite"], tmp_path / "q.tflite"),
        (quantize_onnx, exported["onnx"], tmp_path / "q.onnx"),
    ):
        with pytest.raises(CheckFailedError) as error:
            quantize(source, output, mode="dynamic")
        assert "tensor 42 has no range" in str(error.value) and "long internal details" not in str(error.value)
        assert error.value.exit_code == 1
        assert not output.exists()
        assert not list(tmp_path.glob("*.partial"))

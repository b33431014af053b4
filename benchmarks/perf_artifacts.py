"""The models ``perf.py`` compares, and the graph facts of each (a benchmark helper, not a test).

- ``plain``: litert-torch's conversion of the unmodified eval-mode model (same weights, NCHW input), the
  baseline every fp32 target is measured against;
- ``fp32`` / ``fp16`` / ``int8``: this project's TFLite exports through ``export`` (parity and lint included);
  ``int8 int8-io`` is the same int8 model with int8 input and output (``float_io=False``), ``int8 float-stem``
  the same with the image stem kept float (``float_stem=True``);
- ``onnx``: this project's ONNX export, run on onnxruntime;
- ``upsampled`` / ``labels <method>``: the fp32 deploy form with the logits bilinearly resized to the input
  size, or its label map, in the graph, converted the way ``export`` converts (the output step is the only
  difference from ``fp32``).
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

import seaformer_deploy as sd
from seaformer_deploy.errors import CheckFailedError
from seaformer_deploy.export.convert import convert_to_tflite
from seaformer_deploy.export.delegation import inspect_delegation
from seaformer_deploy.export.graph import load_onnx_graph, load_tflite_graph, onnxruntime_optimized_graph
from seaformer_deploy.export.options import ExportOptions
from seaformer_deploy.export.pipeline import export
from seaformer_deploy.models.complexity import count_macs
from seaformer_deploy.models.label_methods import DEFAULT_LABELS_METHOD, LABEL_METHODS

# Standalone activation ops: an activation the converter could not fuse into the op before it.
ACTIVATION_OPS = frozenset({"RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "HARD_SWISH", "LOGISTIC", "Relu", "Clip",
                            "HardSigmoid", "HardSwish", "Sigmoid"})
CALIBRATION_IMAGES = 8


@dataclass(frozen=True)
class GraphFacts:
    """Layout ops, unfused activations, XNNPACK partitions (None for ONNX) and op count of one model file."""

    transposes: int
    reshapes: int
    unfused_activations: int
    partitions: int | None
    ops: int


@dataclass(frozen=True)
class PerfModel:
    """One model file in the comparison and how it was made."""

    variant: str
    config: str
    path: Path
    engine: str
    macs: int
    facts: GraphFacts
    build_seconds: float


def graph_facts(path: Path) -> GraphFacts:
    """Count what the table reports from the model file itself."""
    if path.suffix == ".onnx":
        ops = Counter(node.op_type for node in load_onnx_graph(path).nodes)
        # Whether an activation is fused is decided on the graph onnxruntime executes, as lint does.
        executed = Counter(node.op_type for node in onnxruntime_optimized_graph(path).nodes)
        activations = sum(count for op, count in executed.items() if op in ACTIVATION_OPS)
        partitions = None
    else:
        ops = Counter(node.op_type for node in load_tflite_graph(path).nodes)
        activations = sum(count for op, count in ops.items() if op in ACTIVATION_OPS)
        partitions = inspect_delegation(path).partitions
    return GraphFacts(
        transposes=ops["TRANSPOSE"] + ops["Transpose"], reshapes=ops["RESHAPE"] + ops["Reshape"],
        unfused_activations=activations,
        partitions=partitions, ops=sum(ops.values()),
    )


def _exported(variant: str, input_size: str, weights: str | None, folder: Path, **options: object) -> Path:
    result = export(ExportOptions(variant=variant, input_size=input_size, checkpoint=weights, **options), folder)
    if not result.ok or result.model_path is None:
        raise CheckFailedError(f"export of {variant} {options} failed: {result.report.failures}")
    return result.model_path


def build_models(variant: str, input_size: str, weights: str | None, folder: Path, *,
                 label_methods: tuple[str, ...] = LABEL_METHODS) -> tuple[list[PerfModel], list[str]]:
    """Every model of one variant, written under ``folder``, and the exports that failed their gates (such a
    configuration has no row; the failure is reported instead)."""
    folder.mkdir(parents=True, exist_ok=True)
    reference = sd.build_model(variant, checkpoint=weights).eval()
    input_hw = sd.parse_input_size(input_size)
    macs = count_macs(reference, input_hw)["total"]
    models: list[PerfModel] = []
    failures: list[str] = []

    def add(config: str, engine: str, make: object) -> None:
        started = time.perf_counter()
        try:
            path = make()  # type: ignore[operator]
        except CheckFailedError as exc:
            failures.append(f"{variant} {config}: {exc}")
            return
        models.append(PerfModel(variant, config, path, engine, macs, graph_facts(path), time.perf_counter() - started))

    def plain() -> Path:
        path = folder / "plain.tflite"
        convert_to_tflite(copy.deepcopy(reference), torch.zeros(1, 3, *input_hw), path)
        return path

    def output_mode(mode: str, method: str = DEFAULT_LABELS_METHOD) -> Path:
        deployed = sd.prepare_for_deploy(copy.deepcopy(reference), input_hw, layout="nhwc", output_mode=mode,
                                         labels_method=method)  # type: ignore[arg-type]
        path = folder / (f"labels-{method}.tflite" if mode == "labels" else f"{mode}.tflite")
        convert_to_tflite(deployed, deployed.example_input(), path)
        return path

    add("plain fp32", "litert", plain)
    add("fp32", "litert", lambda: _exported(variant, input_size, weights, folder, format="tflite"))
    add("fp16", "litert", lambda: _exported(variant, input_size, weights, folder, format="tflite", quant="fp16"))
    add("int8", "litert", lambda: _exported(variant, input_size, weights, folder, format="tflite", quant="int8",
                                            calib_data="demo", calib_count=CALIBRATION_IMAGES))
    # The image stem kept float (--float-stem): faster than the int8 stem on some CPUs, slower on others.
    add("int8 float-stem", "litert", lambda: _exported(variant, input_size, weights, folder / "float-stem",
                                                       format="tflite", quant="int8", float_stem=True,
                                                       calib_data="demo", calib_count=CALIBRATION_IMAGES))
    # Full-integer I/O: the app hands over the already-quantized image, so no QUANTIZE / DEQUANTIZE of the
    # 512x512 input and the output in the graph (what a phone pipeline does when it quantizes while normalizing).
    add("int8 int8-io", "litert", lambda: _exported(variant, input_size, weights, folder / "int8-io", format="tflite",
                                                    quant="int8", float_io=False, calib_data="demo",
                                                    calib_count=CALIBRATION_IMAGES))
    add("onnx fp32", "onnxruntime", lambda: _exported(variant, input_size, weights, folder, format="onnx"))
    add("upsampled", "litert", lambda: output_mode("upsampled"))
    for method in label_methods:
        add(f"labels {method}", "litert", lambda method=method: output_mode("labels", method))
    return models, failures

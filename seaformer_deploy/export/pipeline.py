"""``export``: a SeaFormer variant -> a checked model file and its report, in small numbered steps.

1. build the model and load the checkpoint        5. embed the key facts in the model file
2. apply the deploy transforms                    6. parity against PyTorch (fails the export)
3. convert to float32 (torch.onnx / litert-torch) 7. fused-op lint (fails it with ``strict``)
4. quantize (fp16 / int8 / dynamic)               8. move model + report into place atomically

Everything is produced in a private staging folder inside the output directory and renamed into place only
when every gate passed, so an interrupted or failed export never leaves a half-written artifact. A failed
export keeps its complete report as ``<model file>.failed.json`` for diagnosis. Reports are named after the
model file (``seaformer-b-seg-512x512-fp32.tflite.json``), so the TFLite and ONNX exports of one
configuration never overwrite each other's report.
"""

from __future__ import annotations

import copy
import json
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from seaformer_deploy.errors import CheckFailedError, UsageError
from seaformer_deploy.export.budgets import DEFAULT_LAYOUT
from seaformer_deploy.fileio import ensure_writable_dir, write_json_atomic
from seaformer_deploy.model_facts import ModelFacts, WeightSource

ExportFormat = Literal["onnx", "tflite"]
Quantization = Literal["fp32", "fp16", "int8", "dynamic"]
FORMATS: tuple[str, ...] = ("onnx", "tflite")
QUANTIZATIONS: tuple[str, ...] = ("fp32", "fp16", "int8", "dynamic")
RANDOM_PARITY_INPUTS = 2
PARITY_IMAGES = 4
_TOOLS = ("seaformer-deploy", "torch", "litert-torch", "ai-edge-litert", "ai-edge-quantizer", "onnx",
          "onnxruntime", "onnxsim", "numpy")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ExportOptions:
    """Everything that defines one exported artifact (an export recipe is one of these)."""

    variant: str
    task: str = "seg"
    format: ExportFormat = "tflite"
    quant: Quantization = "fp32"
    input_size: str = ""
    output_mode: str = "logits"
    layout: str = ""
    num_classes: int | None = None
    checkpoint: str | None = None
    allow_partial: bool = False
    trust_checkpoint: bool = False
    calib_data: str | None = None
    calib_count: int = 32
    parity_data: str | None = None
    float_io: bool = True
    strict: bool = False

    def resolved_layout(self) -> str:
        return (self.layout or DEFAULT_LAYOUT[self.format]).lower()

    @classmethod
    def from_recipe(cls, path: str | Path) -> ExportOptions:
        """Options from an export recipe: a JSON object whose keys are this class's fields."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"export recipe {path} is not readable JSON: {exc}") from None
        unknown = sorted(set(data) - {f.name for f in fields(cls)} - {"description"})
        if unknown or "variant" not in data:
            problem = f"unknown keys {unknown}" if unknown else "no 'variant'"
            raise UsageError(f"export recipe {path} has {problem}")
        data.pop("description", None)
        return cls(**data)


@dataclass
class ExportResult:
    """What ``export`` produced: the model path (None when it failed), the report and its path."""

    ok: bool
    model_path: Path | None
    report_path: Path
    report: dict[str, Any] = field(default_factory=dict)


def artifact_stem(variant: str, task: str, input_hw: tuple[int, int], quant: str, output_mode: str,
                  layout: str, fmt: str) -> str:
    """``seaformer-b-seg-512x512-fp32``, plus the output mode and layout when they are not the defaults."""
    parts = [f"seaformer-{variant.lower()}", task, f"{input_hw[0]}x{input_hw[1]}", quant]
    if output_mode != "logits":
        parts.append(output_mode)
    if layout != DEFAULT_LAYOUT[fmt]:
        parts.append(layout)
    return "-".join(parts)


def tool_versions() -> dict[str, str]:
    """Versions of the tools that shaped the artifact, for the report."""
    versions = {"python": platform.python_version()}
    for name in _TOOLS:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _validate(options: ExportOptions) -> None:
    if options.format not in FORMATS:
        raise UsageError(f"unknown format {options.format!r}: choose one of {', '.join(FORMATS)}")
    if options.quant not in QUANTIZATIONS:
        raise UsageError(f"unknown quantization {options.quant!r}: choose one of {', '.join(QUANTIZATIONS)}")
    if options.quant == "int8" and not options.calib_data:
        raise UsageError(
            "int8 needs calibration images: pass --calib-data DIR (or --calib-data demo to calibrate on the "
            "built-in synthetic images, which is recorded in the report)"
        )
    if not options.float_io and not (options.format == "tflite" and options.quant == "int8"):
        raise UsageError("integer I/O (--no-float-io) applies to int8 TFLite exports only")


def _parity_inputs(deployed: Any, options: ExportOptions, images: list[tuple[str, np.ndarray]]) -> list[Any]:
    from seaformer_deploy.data.preprocess import preprocess
    from seaformer_deploy.export.parity import ParityInput

    inputs = [ParityInput("random", f"normal(seed={seed})", deployed.example_input(seed).numpy())
              for seed in range(RANDOM_PARITY_INPUTS)]
    inputs += [ParityInput("image", name, preprocess(image, deployed.input_hw, layout=deployed.layout))
               for name, image in images]
    return inputs


def _model_facts(options: ExportOptions, model: Any, deployed: Any, exported: Any) -> ModelFacts:
    from seaformer_deploy.data.preprocess import ADE20K_NORMALIZATION

    height, width = deployed.input_hw
    return ModelFacts(
        variant=model.variant, task=model.task, num_classes=model.num_classes, input_size_hw=(height, width),
        layout=deployed.layout, input=exported.input, output=exported.output, output_mode=deployed.output_mode,
        quantization=options.quant, mean=ADE20K_NORMALIZATION.mean, std=ADE20K_NORMALIZATION.std,
        color_order=ADE20K_NORMALIZATION.color_order, weights=WeightSource(model.weights.source),
        weights_state_sha256=model.weights.state_sha256,
    )


def _output_description(task: str, output_mode: str, layout: str, hw: tuple[int, int], classes: int) -> str:
    if task == "cls":
        return f"[1, {classes}] class logits"
    if output_mode == "labels":
        return f"[1, {hw[0]}, {hw[1]}] int32 class ids at the input size"
    h, w = (hw[0] // 8, hw[1] // 8) if output_mode == "logits" else hw
    shape = f"[1, {h}, {w}, {classes}]" if layout == "nhwc" else f"[1, {classes}, {h}, {w}]"
    scale = "1/8 of the input" if output_mode == "logits" else "the input size"
    return (f"{shape} float logits at {scale}; to evaluate like mmseg resize them bilinearly "
            "(align_corners=False) to the label size and take the argmax")


def export(options: ExportOptions, output_dir: str | Path, *, progress: Progress | None = None) -> ExportResult:
    """Export one SeaFormer artifact; see the module docstring for the steps and the atomicity guarantee."""
    from seaformer_deploy import build_model, prepare_for_deploy
    from seaformer_deploy.export.calibration import load_calibration_images, load_parity_images, same_source
    from seaformer_deploy.export.convert import convert_to_onnx, convert_to_tflite
    from seaformer_deploy.export.graph import load_graph, onnxruntime_optimized_graph, op_histogram
    from seaformer_deploy.export.lint import inspect_delegation, lint_graph
    from seaformer_deploy.export.metadata import embed_onnx_metadata, embed_tflite_metadata
    from seaformer_deploy.export.parity import check_parity
    from seaformer_deploy.models.complexity import count_macs, count_params
    from seaformer_deploy.models.deploy import DeployModel, parse_input_size
    from seaformer_deploy.models.variants import normalize_task, normalize_variant
    from seaformer_deploy.runtime import load_exported

    step = progress or (lambda _message: None)
    started = time.perf_counter()
    _validate(options)
    variant, task = normalize_variant(options.variant), normalize_task(options.task)
    input_hw = parse_input_size(options.input_size or ("512" if task == "seg" else "224"), task)
    layout = options.resolved_layout()
    output_dir = ensure_writable_dir(output_dir)
    stem = artifact_stem(variant, task, input_hw, options.quant, options.output_mode, layout, options.format)
    final_model = output_dir / f"{stem}.{options.format}"
    report_path = output_dir / f"{final_model.name}.json"
    failed_report = output_dir / f"{final_model.name}.failed.json"
    timings: dict[str, float] = {}
    warnings: list[str] = []

    def timed(name: str, action: Callable[[], Any]) -> Any:
        step(name)
        begin = time.perf_counter()
        value = action()
        timings[name] = round(time.perf_counter() - begin, 3)
        return value

    calib_images: list[tuple[str, np.ndarray]] = []
    calib_source = None
    if options.calib_data and options.quant == "int8":
        calib_images, calib_source = load_calibration_images(options.calib_data, options.calib_count)
        if options.calib_data == "demo":
            warnings.append("int8 calibrated on the built-in SYNTHETIC demo images, not on real data")
    parity_source = options.parity_data or options.calib_data or "demo"
    calibrated_here = bool(calib_images) and same_source(parity_source, options.calib_data)
    parity_images, parity_description, in_sample = load_parity_images(
        parity_source, PARITY_IMAGES, skip=len(calib_images) if calibrated_here else 0)
    if in_sample:
        warnings.append("parity images are calibration images too (the folder has no others): int8 agreement is "
                        "measured in-sample; pass --parity-data with other images")

    model = timed("1/8 build model", lambda: build_model(
        variant, task, options.num_classes, options.checkpoint,
        allow_partial=options.allow_partial, trust_checkpoint=options.trust_checkpoint, progress=step,
    ))
    warnings += model.weights.warnings
    reference = DeployModel(copy.deepcopy(model), input_hw, output_mode=options.output_mode, layout=layout).eval()
    deployed = timed("2/8 deploy transforms", lambda: prepare_for_deploy(
        model, input_hw, output_mode=options.output_mode, layout=layout))

    with tempfile.TemporaryDirectory(prefix=f".{stem}.", dir=output_dir) as staging_name:
        staging = Path(staging_name)
        float_model = staging / f"{stem}.float.{options.format}"
        converter = convert_to_tflite if options.format == "tflite" else convert_to_onnx
        converter_log = timed("3/8 convert to float32",
                              lambda: converter(deployed, deployed.example_input(), float_model))
        staged_model = staging / final_model.name
        quantization_info = None
        if options.quant == "fp32":
            float_model.replace(staged_model)
        else:
            from seaformer_deploy.data.preprocess import preprocess
            from seaformer_deploy.export.quantize import quantize_onnx, quantize_tflite

            calibration = [preprocess(image, input_hw, layout=layout) for _, image in calib_images] or None
            if options.format == "tflite":
                quantization_info = timed("4/8 quantize", lambda: quantize_tflite(
                    float_model, staged_model, mode=options.quant, calibration=calibration,
                    float_io=options.float_io))
            else:
                quantization_info = timed("4/8 quantize", lambda: quantize_onnx(
                    float_model, staged_model, mode=options.quant, calibration=calibration))

        exported = load_exported(staged_model)
        facts = _model_facts(options, model, deployed, exported)

        def embed() -> None:
            if options.format == "tflite":
                staged_model.write_bytes(embed_tflite_metadata(staged_model.read_bytes(), facts))
            else:
                embed_onnx_metadata(staged_model, facts)

        timed("5/8 embed metadata", embed)
        exported = load_exported(staged_model)
        parity = timed("6/8 parity vs PyTorch", lambda: check_parity(
            exported, reference, _parity_inputs(deployed, options, parity_images),
            quantization=options.quant, output_mode=options.output_mode, layout=layout))

        def lint() -> Any:
            from seaformer_deploy.export.budgets import layout_op_budget

            graph = load_graph(staged_model)
            delegation = inspect_delegation(staged_model) if options.format == "tflite" else None
            runtime_graph = onnxruntime_optimized_graph(staged_model) if options.format == "onnx" else None
            report = lint_graph(graph, budgets=layout_op_budget(options.format, variant, layout),
                                quantized=options.quant in ("int8", "dynamic"), delegate_info=delegation,
                                runtime_graph=runtime_graph)
            return graph, delegation, report

        graph, delegation, lint_report = timed("7/8 fused-op lint", lint)
        lint_ok = lint_report.ok() or not options.strict
        ok = parity.passed and lint_ok
        failures = ([] if parity.passed else [parity.reason]) + (
            [] if lint_ok else ["lint failed in --strict mode: " + ", ".join(
                f.rule for f in lint_report.findings if f.status == "FAIL")])
        macs = count_macs(model, input_hw)
        report = {
            **facts.to_dict(),
            "ok": ok,
            "failures": failures,
            "artifact": {"file": final_model.name if ok else None, "format": options.format,
                         "bytes": staged_model.stat().st_size, "report": report_path.name},
            "how_to_run": {
                "input": f"{exported.input.shape} {exported.input.dtype}, layout {layout.upper()}, "
                         "normalized as in 'normalization'",
                "output": _output_description(task, options.output_mode, layout, input_hw, model.num_classes),
            },
            "weights": model.weights.to_dict(),
            "params": count_params(model),
            "macs": macs["total"],
            "macs_by_op": macs,
            "op_histogram": op_histogram(graph),
            "delegation": None if delegation is None else {
                "delegate": "XNNPACK", "partitions": delegation.partitions,
                "delegated_nodes": delegation.delegated_nodes, "total_nodes": delegation.total_nodes,
                "undelegated": delegation.undelegated},
            "lint": lint_report.to_dict(),
            "parity": {**parity.to_dict(), "images": parity_description},
            "quantization_details": None if quantization_info is None else {
                **quantization_info.to_dict(), "calibration_source": calib_source},
            "options": asdict(options),
            "tool_versions": tool_versions(),
            "host": {"machine": platform.machine(), "system": platform.system(), "torch_threads":
                     torch.get_num_threads()},
            "timings_s": timings,
            "export_seconds": round(time.perf_counter() - started, 3),
            "converter_log_tail": converter_log.strip().splitlines()[-20:],
            "warnings": warnings,
        }
        step("8/8 write artifacts")
        if not ok:
            write_json_atomic(failed_report, report)
            return ExportResult(False, None, failed_report, report)
        staged_model.replace(final_model)
        write_json_atomic(report_path, report)
        failed_report.unlink(missing_ok=True)
    return ExportResult(True, final_model, report_path, report)


def raise_for_result(result: ExportResult) -> None:
    """Turn a failed export into a ``CheckFailedError`` naming why and where the report is."""
    if not result.ok:
        raise CheckFailedError(f"{'; '.join(result.report['failures'])} (report: {result.report_path})")

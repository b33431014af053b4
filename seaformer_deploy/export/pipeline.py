"""``export``: a SeaFormer variant -> a checked model file and its report, as a short list of named steps.

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
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from seaformer_deploy.build import build_model
from seaformer_deploy.data.preprocess import normalization_for_task, preprocess
from seaformer_deploy.export import budgets, convert
from seaformer_deploy.export.calibration import load_calibration_images, load_parity_images, same_source
from seaformer_deploy.export.delegation import DelegateInfo, inspect_delegation
from seaformer_deploy.export.graph import Graph, load_graph, onnxruntime_optimized_graph, op_histogram
from seaformer_deploy.export.lint import lint_graph
from seaformer_deploy.export.lint_report import LintReport
from seaformer_deploy.export.metadata import embed_onnx_metadata, embed_tflite_metadata
from seaformer_deploy.export.options import FORMATS, QUANTIZATIONS, ExportOptions, artifact_stem
from seaformer_deploy.export.parity import ParityInput, check_parity
from seaformer_deploy.export.parity_report import ParityResult
from seaformer_deploy.export.quantize import QuantizationInfo, quantize_onnx, quantize_tflite
from seaformer_deploy.export.report import (
    Artifact,
    ExportReport,
    ExportResult,
    HostInfo,
    HowToRun,
    output_description,
    raise_for_result,
    tool_versions,
)
from seaformer_deploy.fileio import ensure_writable_dir, write_json_atomic
from seaformer_deploy.model_facts import CLASSIFICATION_RECIPE, NORMALIZATION_RECIPE, ModelFacts, WeightSource
from seaformer_deploy.models.complexity import count_macs, count_params
from seaformer_deploy.models.deploy import DeployModel, prepare_for_deploy
from seaformer_deploy.models.label_methods import DEFAULT_LABELS_METHOD
from seaformer_deploy.models.variants import normalize_task, normalize_variant
from seaformer_deploy.runtime import load_exported

__all__ = ["FORMATS", "QUANTIZATIONS", "ExportOptions", "ExportResult", "artifact_stem", "export",
           "raise_for_result"]

RANDOM_PARITY_INPUTS = 2
PARITY_IMAGES = 4

Progress = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class ExportPlan:
    """The validated options and every name and path the export will write."""

    options: ExportOptions
    variant: str
    task: str
    input_hw: tuple[int, int]
    layout: str
    stem: str
    output_dir: Path

    @classmethod
    def of(cls, options: ExportOptions, output_dir: str | Path) -> ExportPlan:
        options.validate()
        variant, task = normalize_variant(options.variant), normalize_task(options.task)
        input_hw, layout = options.resolved_input_hw(), options.resolved_layout()
        output_dir = ensure_writable_dir(output_dir)
        return cls(options, variant, task, input_hw, layout, options.artifact_stem(), output_dir)

    @property
    def model_path(self) -> Path:
        return self.output_dir / f"{self.stem}.{self.options.format}"

    @property
    def report_path(self) -> Path:
        return self.output_dir / f"{self.model_path.name}.json"

    @property
    def failed_report_path(self) -> Path:
        return self.output_dir / f"{self.model_path.name}.failed.json"


@dataclass
class StepClock:
    """Announces each step to ``progress`` and records how long it took."""

    progress: Progress | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def run(self, name: str, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self.say(name)
        begin = time.perf_counter()
        value = action(*args, **kwargs)
        self.timings[name] = round(time.perf_counter() - begin, 3)
        return value


@dataclass
class ExportImages:
    """Calibration images (int8 only) and the held-out parity images, with what the report says of them."""

    calibration: list[tuple[str, np.ndarray]]
    calibration_source: str | None
    parity: list[tuple[str, np.ndarray]]
    parity_description: str
    warnings: list[str]


def export(options: ExportOptions, output_dir: str | Path, *, progress: Progress | None = None) -> ExportResult:
    """Export one SeaFormer artifact; see the module docstring for the steps and the atomicity guarantee."""
    started = time.perf_counter()
    plan = ExportPlan.of(options, output_dir)
    clock = StepClock(progress)
    images = load_images(options)
    model = clock.run("1/8 build model", build_model, plan.variant, plan.task, options.num_classes,
                      options.checkpoint, allow_partial=options.allow_partial,
                      trust_checkpoint=options.trust_checkpoint, progress=clock.say)
    labels_method = options.resolved_labels_method() or DEFAULT_LABELS_METHOD
    reference = DeployModel(copy.deepcopy(model), plan.input_hw, output_mode=options.output_mode,
                            layout=plan.layout, labels_method=labels_method).eval()
    deployed = clock.run("2/8 deploy transforms", prepare_for_deploy, model, plan.input_hw,
                         output_mode=options.output_mode, layout=plan.layout, labels_method=labels_method,
                         activation_bytes=options.activation_bytes(), row_strips=options.row_strips)
    with tempfile.TemporaryDirectory(prefix=f".{plan.stem}.", dir=plan.output_dir) as staging_name:
        staging = Path(staging_name)
        staged = staging / plan.model_path.name
        float_model = staging / f"{plan.stem}.float.{options.format}"
        converter_log = clock.run("3/8 convert to float32", convert_float, deployed, float_model)
        quantization = None
        if options.quant == "fp32":
            float_model.replace(staged)
        else:
            quantization = clock.run("4/8 quantize", quantize, plan, float_model, staged, images)
        facts = model_facts(plan, model, deployed, staged)
        clock.run("5/8 embed metadata", embed_facts, staged, facts)
        parity = clock.run("6/8 parity vs PyTorch", check_staged_parity, plan, staged, reference, deployed, images)
        graph, delegation, lint = clock.run("7/8 fused-op lint", lint_staged, plan, staged)
        report = assemble_report(plan, facts, model, staged, images, quantization, parity, graph, delegation,
                                 lint, converter_log, clock.timings, started)
        clock.say("8/8 write artifacts")
        return publish(plan, staged, report)


def load_images(options: ExportOptions) -> ExportImages:
    """Calibration images for int8, and parity images that calibration did not see (when the source has them)."""
    calibration: list[tuple[str, np.ndarray]] = []
    calibration_source = None
    warnings: list[str] = []
    if options.calib_data and options.quant == "int8":
        calibration, calibration_source = load_calibration_images(options.calib_data, options.calib_count)
        if options.calib_data == "demo":
            warnings.append("int8 calibrated on the built-in SYNTHETIC demo images, not on real data")
    parity_source = options.parity_data or options.calib_data or "demo"
    calibrated_here = bool(calibration) and same_source(parity_source, options.calib_data)
    parity, description, in_sample = load_parity_images(
        parity_source, PARITY_IMAGES, skip=len(calibration) if calibrated_here else 0)
    if in_sample:
        warnings.append("parity images are calibration images too (the folder has no others): int8 agreement is "
                        "measured in-sample; pass --parity-data with other images")
    return ExportImages(calibration, calibration_source, parity, description, warnings)


def convert_float(deployed: DeployModel, output: Path) -> str:
    """The float32 model file (format from the suffix); returns the converter's log."""
    converter = convert.convert_to_tflite if output.suffix == ".tflite" else convert.convert_to_onnx
    return converter(deployed, deployed.example_input(), output)


def quantize(plan: ExportPlan, float_model: Path, output: Path, images: ExportImages) -> QuantizationInfo:
    options = plan.options
    calibration = [preprocess(image, plan.input_hw, layout=plan.layout) for _, image in images.calibration] or None
    if options.format == "tflite":
        return quantize_tflite(float_model, output, mode=options.quant, calibration=calibration,
                               float_io=options.float_io, float_stem=options.float_stem)
    return quantize_onnx(float_model, output, mode=options.quant, calibration=calibration)


def model_facts(plan: ExportPlan, model: Any, deployed: DeployModel, staged: Path) -> ModelFacts:
    exported = load_exported(staged)
    normalization = normalization_for_task(model.task)
    return ModelFacts(
        variant=model.variant, task=model.task, num_classes=model.num_classes, input_size_hw=plan.input_hw,
        layout=deployed.layout, input=exported.input, output=exported.output, output_mode=deployed.output_mode,
        labels_method=plan.options.resolved_labels_method(),
        quantization=plan.options.quant, mean=normalization.mean, std=normalization.std,
        color_order=normalization.color_order, weights=WeightSource(model.weights.source),
        weights_state_sha256=model.weights.state_sha256,
        normalization_recipe=CLASSIFICATION_RECIPE if model.task == "cls" else NORMALIZATION_RECIPE,
    )


def embed_facts(staged: Path, facts: ModelFacts) -> None:
    if staged.suffix == ".tflite":
        staged.write_bytes(embed_tflite_metadata(staged.read_bytes(), facts, str(staged)))
    else:
        embed_onnx_metadata(staged, facts)


def check_staged_parity(plan: ExportPlan, staged: Path, reference: DeployModel, deployed: DeployModel,
                        images: ExportImages) -> ParityResult:
    inputs = [ParityInput("random", f"normal(seed={seed})", deployed.example_input(seed).numpy())
              for seed in range(RANDOM_PARITY_INPUTS)]
    inputs += [ParityInput("image", name, preprocess(image, deployed.input_hw, layout=deployed.layout))
               for name, image in images.parity]
    return check_parity(load_exported(staged), reference, inputs, quantization=plan.options.quant,
                        output_mode=plan.options.output_mode, layout=plan.layout)


def lint_staged(plan: ExportPlan, staged: Path) -> tuple[Graph, DelegateInfo | None, LintReport]:
    fmt = plan.options.format
    graph = load_graph(staged)
    delegation = inspect_delegation(staged) if fmt == "tflite" else None
    runtime_graph = onnxruntime_optimized_graph(staged) if fmt == "onnx" else None
    report = lint_graph(graph, budget=budgets.layout_op_budget(fmt, plan.variant, plan.layout,
                                                                     plan.options.output_mode),
                        quantized=plan.options.quant in ("int8", "dynamic"), delegate_info=delegation,
                        runtime_graph=runtime_graph)
    return graph, delegation, report


def assemble_report(plan: ExportPlan, facts: ModelFacts, model: Any, staged: Path, images: ExportImages,
                    quantization: QuantizationInfo | None, parity: ParityResult, graph: Graph,
                    delegation: DelegateInfo | None, lint: LintReport, converter_log: str,
                    timings: dict[str, float], started: float) -> ExportReport:
    options = plan.options
    lint_ok = lint.ok() or not options.strict
    ok = parity.passed and lint_ok
    failures = ([] if parity.passed else [parity.reason]) + ([] if lint_ok else [
        "lint failed in --strict mode: " + ", ".join(f.rule for f in lint.findings if f.status == "FAIL")])
    macs = count_macs(model, plan.input_hw)
    return ExportReport(
        facts=facts, ok=ok, failures=failures,
        artifact=Artifact(file=plan.model_path.name if ok else None, format=options.format,
                          bytes=staged.stat().st_size, report=plan.report_path.name),
        how_to_run=HowToRun(
            input=f"{facts.input.shape} {facts.input.dtype}, layout {plan.layout.upper()}, "
                  "normalized as in 'normalization'",
            output=output_description(plan.task, options.output_mode, plan.layout, plan.input_hw,
                                      model.num_classes)),
        weights=model.weights, params=count_params(model), macs=macs["total"], macs_by_op=macs,
        op_histogram=op_histogram(graph), delegation=delegation, lint=lint, parity=parity,
        parity_images=images.parity_description,
        quantization_details=None if quantization is None else replace(
            quantization, calibration_source=images.calibration_source),
        options=options, tool_versions=tool_versions(),
        host=HostInfo.this_host(torch_threads=torch.get_num_threads()),
        timings_s=timings, export_seconds=round(time.perf_counter() - started, 3),
        converter_log_tail=converter_log.strip().splitlines()[-20:],
        warnings=images.warnings + model.weights.warnings,
    )


def publish(plan: ExportPlan, staged: Path, report: ExportReport) -> ExportResult:
    """Move the model and its report into place, or keep only the failed report."""
    if not report.ok:
        write_json_atomic(plan.failed_report_path, report.to_dict())
        return ExportResult(False, None, plan.failed_report_path, report)
    staged.replace(plan.model_path)
    write_json_atomic(plan.report_path, report.to_dict())
    plan.failed_report_path.unlink(missing_ok=True)
    return ExportResult(True, plan.model_path, plan.report_path, report)



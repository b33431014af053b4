"""``ExportOptions``: everything that defines one exported artifact, and the names derived from it."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from seaformer_deploy.errors import UsageError

ExportFormat = Literal["onnx", "tflite"]
Quantization = Literal["fp32", "fp16", "int8", "dynamic"]
FORMATS: tuple[str, ...] = ("onnx", "tflite")
DEFAULT_LAYOUT = {"tflite": "nhwc", "onnx": "nchw"}
QUANTIZATIONS: tuple[str, ...] = ("fp32", "fp16", "int8", "dynamic")
# Bytes of one activation at run time: dynamic-range int8 keeps float activations, fp16 halves them on a CPU
# with float16 arithmetic (ARM), full-integer int8 quarters them.
ACTIVATION_BYTES = {"fp32": 4, "dynamic": 4, "fp16": 2, "int8": 1}


@dataclass(frozen=True)
class ExportOptions:
    """Everything that defines one exported artifact (an export recipe is one of these)."""

    variant: str
    task: str = "seg"
    format: ExportFormat = "tflite"
    quant: Quantization = "fp32"
    input_size: str = ""
    output_mode: str = "logits"
    labels_method: str = ""
    layout: str = ""
    num_classes: int | None = None
    checkpoint: str | None = None
    allow_partial: bool = False
    trust_checkpoint: bool = False
    calib_data: str | None = None
    calib_count: int = 32
    parity_data: str | None = None
    float_io: bool = True
    float_stem: bool = False
    row_strips: bool = True
    strict: bool = False

    def resolved_layout(self) -> str:
        return (self.layout or DEFAULT_LAYOUT[self.format]).lower()

    def resolved_input_hw(self) -> tuple[int, int]:
        """The input size as (H, W); without ``input_size`` the task's default (512 seg, 224 cls)."""
        from seaformer_deploy.models.deploy import DEFAULT_SIZE, parse_input_size
        from seaformer_deploy.models.variants import normalize_task

        task = normalize_task(self.task)
        return parse_input_size(self.input_size or DEFAULT_SIZE[task], task)

    def activation_bytes(self) -> int:
        """Bytes of one activation of this export at run time (what the deploy form's tiling sizes strips by)."""
        return ACTIVATION_BYTES[self.quant]

    def resolved_labels_method(self) -> str | None:
        """The label-map method of a ``labels`` export (the default when none was named); None otherwise."""
        from seaformer_deploy.models.label_methods import DEFAULT_LABELS_METHOD, check_labels_method

        if self.output_mode != "labels":
            return None
        return check_labels_method(self.labels_method or DEFAULT_LABELS_METHOD)

    def artifact_stem(self) -> str:
        """The model file name this export writes, without its extension: ``seaformer-b-seg-512x512-fp32``."""
        from seaformer_deploy.models.variants import normalize_task, normalize_variant

        return artifact_stem(normalize_variant(self.variant), normalize_task(self.task), self.resolved_input_hw(),
                             self.quant, self.output_mode, self.resolved_layout(), self.format,
                             self.resolved_labels_method(), self.row_strips, self.float_stem)

    def artifact_name(self) -> str:
        """The model file name this export writes, e.g. ``seaformer-b-seg-512x512-fp32.tflite``."""
        return f"{self.artifact_stem()}.{self.format}"

    def validate(self) -> None:
        """Reject combinations no export can honour (each one clear ``UsageError``)."""
        if self.format not in FORMATS:
            raise UsageError(f"unknown format {self.format!r}: choose one of {', '.join(FORMATS)}")
        if self.quant not in QUANTIZATIONS:
            raise UsageError(f"unknown quantization {self.quant!r}: choose one of {', '.join(QUANTIZATIONS)}")
        if self.quant == "int8" and not self.calib_data:
            raise UsageError(
                "int8 needs calibration images: pass --calib-data DIR (or --calib-data demo to calibrate on the "
                "built-in synthetic images, which is recorded in the report)"
            )
        if self.labels_method and self.output_mode != "labels":
            raise UsageError("--labels-method applies to --output-mode labels only")
        self.resolved_labels_method()
        if not self.float_io and not (self.format == "tflite" and self.quant == "int8"):
            raise UsageError("integer I/O (--no-float-io) applies to int8 TFLite exports only")
        if self.float_stem and not (self.format == "tflite" and self.quant == "int8" and self.float_io):
            raise UsageError("--float-stem applies to int8 TFLite exports with float I/O only")

    @classmethod
    def from_recipe(cls, path: str | Path) -> ExportOptions:
        """Options from an export recipe: a JSON object whose keys are this class's fields."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"export recipe {path} is not readable JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"export recipe {path} is not a JSON object")
        unknown = sorted(set(data) - {f.name for f in fields(cls)} - {"description"})
        if unknown or "variant" not in data:
            problem = f"unknown keys {unknown}" if unknown else "no 'variant'"
            raise UsageError(f"export recipe {path} has {problem}")
        data.pop("description", None)
        return cls(**data)


def artifact_stem(variant: str, task: str, input_hw: tuple[int, int], quant: str, output_mode: str,
                  layout: str, fmt: str, labels_method: str | None = None, row_strips: bool = True,
                  float_stem: bool = False) -> str:
    """``seaformer-b-seg-512x512-fp32``, plus the output mode (and a non-default label-map method), the
    layout when they are not the defaults, ``nostrips`` for an export without row strips and ``floatstem`` for
    an int8 export whose image stem stays float."""
    from seaformer_deploy.models.label_methods import DEFAULT_LABELS_METHOD

    parts = [f"seaformer-{variant.lower()}", task, f"{input_hw[0]}x{input_hw[1]}", quant]
    if output_mode != "logits":
        parts.append(output_mode)
    if output_mode == "labels" and labels_method not in (None, DEFAULT_LABELS_METHOD):
        parts.append(str(labels_method))
    if layout != DEFAULT_LAYOUT[fmt]:
        parts.append(layout)
    if not row_strips:
        parts.append("nostrips")
    if float_stem:
        parts.append("floatstem")
    return "-".join(parts)

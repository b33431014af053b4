"""``ModelFacts``: what a model file says about itself, written at export and read back by bench.

The facts are embedded as JSON in the model file's metadata (TFLite metadata table, ONNX ``metadata_props``)
and open every export report, so a model file alone says how to feed it and how to read its output. This
module imports neither torch nor a runtime: benchmarking a model reads its facts without either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from seaformer_deploy.runtime import TensorSpec
from seaformer_deploy.schema import SchemaError, check_schema

EXPORT_SCHEMA = "seaformer-deploy/export-report@1"
NORMALIZATION_RECIPE = "decode as RGB, resize to input_size_hw (bilinear), then (pixel - mean) / std per channel"
CLASSIFICATION_RECIPE = ("decode as RGB (PIL); resize with PIL bicubic so the short side is floor(size / 0.875); "
                         "centre-crop to input_size_hw; then (pixel - mean) / std per channel (the official "
                         "seaformer-cls evaluation)")


class WeightSource(str, Enum):
    """Where a model's weights came from; the value is the string reports and metadata carry."""

    RANDOM = "random"
    DEMO = "demo"
    CHECKPOINT = "checkpoint"


@dataclass(frozen=True)
class ModelFacts:
    """Variant, task, input size and layout, tensor specs, output mode, quantization, normalization, weights."""

    variant: str
    task: str
    num_classes: int
    input_size_hw: tuple[int, int]
    layout: str
    input: TensorSpec
    output: TensorSpec
    output_mode: str
    quantization: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    color_order: str
    weights: WeightSource
    weights_state_sha256: str | None
    labels_method: str | None = None
    normalization_recipe: str = NORMALIZATION_RECIPE
    schema: str = EXPORT_SCHEMA

    @property
    def normalization_dict(self) -> dict[str, Any]:
        """The normalization as ``data.preprocess.Normalization.from_dict`` reads it."""
        return {"mean": list(self.mean), "std": list(self.std), "color_order": self.color_order}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object embedded in the model file and spread at the top of the export report."""
        return {
            "schema": self.schema,
            "variant": self.variant,
            "task": self.task,
            "num_classes": self.num_classes,
            "input_size_hw": list(self.input_size_hw),
            "layout": self.layout,
            "input": self.input.to_dict(),
            "output": self.output.to_dict(),
            "output_mode": self.output_mode,
            "labels_method": self.labels_method,
            "quantization": self.quantization,
            "normalization": {**self.normalization_dict, "recipe": self.normalization_recipe},
            "weights": self.weights.value,
            "weights_state_sha256": self.weights_state_sha256,
        }

    @classmethod
    def from_dict(cls, data: object, what: str = "model metadata") -> ModelFacts:
        """Inverse of :meth:`to_dict` (extra keys, e.g. the rest of an export report, are ignored).

        Another schema version, a non-object or a missing or malformed field is one ``SchemaError`` (exit 2).
        """
        facts = check_schema(data, EXPORT_SCHEMA, what)
        try:
            normalization = facts["normalization"]
            weights = facts["weights"]
            # An export report's "weights" is the full provenance object; its source is the fact.
            source = weights["source"] if isinstance(weights, dict) else weights
            height, width = (int(v) for v in facts["input_size_hw"])
            return cls(
                variant=str(facts["variant"]),
                task=str(facts["task"]),
                num_classes=int(facts["num_classes"]),
                input_size_hw=(height, width),
                layout=str(facts["layout"]),
                input=TensorSpec.from_dict(facts["input"]),
                output=TensorSpec.from_dict(facts["output"]),
                output_mode=str(facts["output_mode"]),
                labels_method=facts.get("labels_method"),
                quantization=str(facts["quantization"]),
                mean=_triple(normalization["mean"]),
                std=_triple(normalization["std"]),
                color_order=str(normalization.get("color_order", "RGB")),
                weights=WeightSource(source),
                weights_state_sha256=facts.get("weights_state_sha256"),
                normalization_recipe=str(normalization.get("recipe", NORMALIZATION_RECIPE)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{what} has malformed model facts ({type(exc).__name__}: {exc})") from None


def _triple(values: Any) -> tuple[float, float, float]:
    first, second, third = (float(v) for v in values)
    return first, second, third

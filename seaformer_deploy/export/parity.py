"""Parity: the exported model and PyTorch on the same inputs, with explicit pass/fail thresholds.

Metrics per input: max absolute error, relative L2 error (||exported - torch|| / ||torch||) and argmax
agreement over the class axis (for the ``labels`` output mode: the share of equal labels). Thresholds (issue
#3): fp32 rel L2 <= 1e-4 on every input; fp16 rel L2 <= 1e-2 on every input; int8 and dynamic argmax
agreement >= 0.95 pooled over the real-looking images (random inputs are reported but do not gate quantized
models: their activations lie outside the calibrated ranges by construction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from seaformer_deploy.runtime import ExportedModel

REL_L2_LIMIT = {"fp32": 1e-4, "fp16": 1e-2}
AGREEMENT_LIMIT = {"int8": 0.95, "dynamic": 0.95}
LABELS_AGREEMENT_LIMIT = {"fp32": 0.999, "fp16": 0.99}


@dataclass
class ParityInput:
    """One parity input: ``kind`` is ``random`` or ``image``; ``name`` says which."""

    kind: str
    name: str
    array: np.ndarray


@dataclass
class ParityRow:
    kind: str
    name: str
    max_abs: float | None
    rel_l2: float | None
    argmax_agreement: float


@dataclass
class ParityResult:
    quantization: str
    output_mode: str
    rows: list[ParityRow] = field(default_factory=list)
    gate: dict[str, Any] = field(default_factory=dict)
    passed: bool = False
    reason: str = ""

    def summary(self, kind: str | None = None) -> dict[str, float | None]:
        rows = [r for r in self.rows if kind is None or r.kind == kind]
        if not rows:
            return {"max_abs": None, "rel_l2": None, "argmax_agreement": None, "mean_argmax_agreement": None}
        numeric = [r for r in rows if r.rel_l2 is not None]
        return {
            "max_abs": max((r.max_abs for r in numeric), default=None),
            "rel_l2": max((r.rel_l2 for r in numeric), default=None),
            "argmax_agreement": min(r.argmax_agreement for r in rows),
            "mean_argmax_agreement": sum(r.argmax_agreement for r in rows) / len(rows),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantization": self.quantization,
            "output_mode": self.output_mode,
            "passed": self.passed,
            "reason": self.reason,
            "gate": self.gate,
            "all_inputs": self.summary(),
            "random_inputs": self.summary("random"),
            "image_inputs": self.summary("image"),
            "per_input": [asdict(r) for r in self.rows],
        }


def _class_axis(output_mode: str, layout: str, ndim: int) -> int:
    if ndim == 2:
        return -1
    return -1 if layout == "nhwc" else 1


def compare_outputs(exported: np.ndarray, reference: np.ndarray, *, output_mode: str, layout: str) -> tuple[
    float | None, float | None, float
]:
    """(max abs error, relative L2 error, argmax agreement) of one output pair."""
    if exported.shape != reference.shape:
        raise ValueError(f"exported output shape {exported.shape} differs from PyTorch {reference.shape}")
    if output_mode == "labels":
        return None, None, float(np.mean(exported.astype(np.int64) == reference.astype(np.int64)))
    exported = exported.astype(np.float64)
    reference = reference.astype(np.float64)
    max_abs = float(np.max(np.abs(exported - reference)))
    rel_l2 = float(np.linalg.norm(exported - reference) / max(np.linalg.norm(reference), 1e-30))
    axis = _class_axis(output_mode, layout, reference.ndim)
    agreement = float(np.mean(exported.argmax(axis) == reference.argmax(axis)))
    return max_abs, rel_l2, agreement


def check_parity(
    exported: ExportedModel,
    reference: torch.nn.Module,
    inputs: Sequence[ParityInput],
    *,
    quantization: str,
    output_mode: str,
    layout: str,
) -> ParityResult:
    """Run both models on ``inputs`` and decide pass/fail with the thresholds of this module."""
    result = ParityResult(quantization=quantization, output_mode=output_mode)
    for item in inputs:
        with torch.no_grad():
            expected = reference(torch.from_numpy(item.array)).numpy()
        max_abs, rel_l2, agreement = compare_outputs(
            exported.run(item.array), expected, output_mode=output_mode, layout=layout
        )
        result.rows.append(ParityRow(item.kind, item.name, max_abs, rel_l2, agreement))

    if quantization in REL_L2_LIMIT and output_mode != "labels":
        limit = REL_L2_LIMIT[quantization]
        worst = result.summary()["rel_l2"]
        result.gate = {"metric": "rel_l2", "inputs": "all", "limit": limit, "value": worst}
        result.passed = worst is not None and worst <= limit
    else:
        limits = LABELS_AGREEMENT_LIMIT if output_mode == "labels" else AGREEMENT_LIMIT
        limit = limits.get(quantization, AGREEMENT_LIMIT["int8"])
        kind = "image" if quantization in AGREEMENT_LIMIT else None
        # Agreement is pooled over the inputs (all have the same number of pixels): the share of all pixels
        # whose class is unchanged; the worst single input is reported beside it.
        pooled = result.summary(kind)["mean_argmax_agreement"]
        result.gate = {"metric": "argmax_agreement", "inputs": kind or "all", "limit": limit, "value": pooled}
        result.passed = pooled is not None and pooled >= limit
        if pooled is None:
            result.reason = "no real-looking images to judge a quantized model on"
    if not result.reason:
        is_error = result.gate["metric"] == "rel_l2"
        comparison, how = ("<=", "worst") if is_error else (">=", "pooled")
        verdict = "passed" if result.passed else "FAILED"
        result.reason = (f"parity {verdict}: {how} {result.gate['metric']} {result.gate['value']:.3g} "
                         f"(limit {comparison} {result.gate['limit']:g}) over {result.gate['inputs']} inputs")
    return result

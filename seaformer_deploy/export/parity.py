"""Parity: the exported model and PyTorch on the same inputs, with explicit pass/fail thresholds.

Metrics per input: max absolute error, relative L2 error (||exported - torch|| / ||torch||) and argmax
agreement over the class axis (for the ``labels`` output mode: the share of equal labels). Thresholds:
fp32 rel L2 <= 1e-4 on every input; fp16 rel L2 <= 1e-2 on every input; int8 and dynamic argmax
agreement >= 0.95 pooled over the real-looking images (random inputs are reported but do not gate quantized
models: their activations lie outside the calibrated ranges by construction).

Agreement depends on the model as much as on the export: a pixel flips class when the logit error exceeds the gap
between its two best classes. Each row therefore also records, for the PyTorch logits, the median top-2 margin and
the median spread (standard deviation across classes), and the rms of the logit error. A model whose best class does
not stand out (margin under ``TIED_LOGITS_RATIO`` spreads) has logits like noise, as random weights do (the
measurements are in ``docs/quantization.md``). A failed agreement gate on such logits says so in its reason, so
nobody mistakes it for a lossy export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from seaformer_deploy.export.parity_report import ParityResult, ParityRow
from seaformer_deploy.runtime import ExportedModel

REL_L2_LIMIT = {"fp32": 1e-4, "fp16": 1e-2}
AGREEMENT_LIMIT = {"int8": 0.95, "dynamic": 0.95}
LABELS_AGREEMENT_LIMIT = {"fp32": 0.999, "fp16": 0.99}
TIED_LOGITS_RATIO = 1.0


@dataclass
class ParityInput:
    """One parity input: ``kind`` is ``random`` or ``image``; ``name`` says which."""

    kind: str
    name: str
    array: np.ndarray


def _class_axis(output_mode: str, layout: str, ndim: int) -> int:
    if ndim == 2:
        return -1
    return -1 if layout == "nhwc" else 1


def compare_outputs(exported: np.ndarray, reference: np.ndarray, *, output_mode: str, layout: str) -> dict[
    str, float | None
]:
    """Max abs error, relative L2 error, argmax agreement, error rms, and the reference's median top-2 margin and
    median spread across classes, of one output pair.

    Labels outputs have no logits: only their agreement is measured.
    """
    if exported.shape != reference.shape:
        raise ValueError(f"exported output shape {exported.shape} differs from PyTorch {reference.shape}")
    if output_mode == "labels":
        agreement = float(np.mean(exported.astype(np.int64) == reference.astype(np.int64)))
        return {"max_abs": None, "rel_l2": None, "argmax_agreement": agreement}
    exported = exported.astype(np.float64)
    reference = reference.astype(np.float64)
    error = exported - reference
    axis = _class_axis(output_mode, layout, reference.ndim)
    margin = spread = None
    if reference.shape[axis] > 1:
        top2 = np.partition(reference, -2, axis=axis)
        margin = float(np.median(np.take(top2, -1, axis=axis) - np.take(top2, -2, axis=axis)))
        spread = float(np.median(reference.std(axis=axis)))
    return {
        "max_abs": float(np.max(np.abs(error))),
        "rel_l2": float(np.linalg.norm(error) / max(np.linalg.norm(reference), 1e-30)),
        "argmax_agreement": float(np.mean(exported.argmax(axis) == reference.argmax(axis))),
        "top2_margin_median": margin,
        "class_spread_median": spread,
        "error_rms": float(np.sqrt(np.mean(error**2))),
    }


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
        measured = compare_outputs(exported.run(item.array), expected, output_mode=output_mode, layout=layout)
        result.rows.append(ParityRow(item.kind, item.name, **measured))

    if quantization in REL_L2_LIMIT and output_mode != "labels":
        limit = REL_L2_LIMIT[quantization]
        worst = result.summary().rel_l2
        result.gate = {"metric": "rel_l2", "inputs": "all", "limit": limit, "value": worst}
        result.passed = worst is not None and worst <= limit
    else:
        limits = LABELS_AGREEMENT_LIMIT if output_mode == "labels" else AGREEMENT_LIMIT
        limit = limits.get(quantization, AGREEMENT_LIMIT["int8"])
        kind = "image" if quantization in AGREEMENT_LIMIT else None
        # Agreement is pooled over the inputs (all have the same number of pixels): the share of all pixels
        # whose class is unchanged; the worst single input is reported beside it.
        pooled = result.summary(kind).mean_argmax_agreement
        result.gate = {"metric": "argmax_agreement", "inputs": kind or "all", "limit": limit, "value": pooled}
        result.passed = pooled is not None and pooled >= limit
        if pooled is None:
            result.reason = "no real-looking images to judge a quantized model on"
        judged = [r for r in result.rows if kind is None or r.kind == kind]
        result.gate["top2_margin_to_spread"] = _median_ratio(judged, "top2_margin_median", "class_spread_median")
        result.gate["top2_margin_to_error"] = _median_ratio(judged, "top2_margin_median", "error_rms")
    if not result.reason:
        is_error = result.gate["metric"] == "rel_l2"
        comparison, how = ("<=", "worst") if is_error else (">=", "pooled")
        verdict = "passed" if result.passed else "FAILED"
        result.reason = (f"parity {verdict}: {how} {result.gate['metric']} {result.gate['value']:.3g} "
                         f"(limit {comparison} {result.gate['limit']:g}) over {result.gate['inputs']} inputs")
        ratio = result.gate.get("top2_margin_to_spread")
        if not result.passed and ratio is not None and ratio < TIED_LOGITS_RATIO:
            result.reason += (f"; the PyTorch logits are nearly tied (median top-2 margin {ratio:.2f}x their spread "
                              "across classes), as with random weights: judge a trained checkpoint "
                              "(or --checkpoint demo)")
    return result


def _median_ratio(rows: Sequence[ParityRow], numerator: str, denominator: str) -> float | None:
    """Median over rows of ``numerator / denominator`` (two ParityRow fields), or None when no row has both."""
    ratios = [getattr(r, numerator) / getattr(r, denominator) for r in rows
              if getattr(r, numerator) is not None and getattr(r, denominator)]
    return float(np.median(ratios)) if ratios else None

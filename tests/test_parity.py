"""Parity verdicts: the measured numbers, and the near-tied-logits diagnosis of a failed agreement gate."""

from pathlib import Path

import numpy as np
import pytest
import torch

from seaformer_deploy.export.parity import ParityInput, check_parity, compare_outputs
from seaformer_deploy.runtime import ExportedModel


class NoisyCopy(ExportedModel):
    """An 'exported' identity model whose output carries a fixed, seeded error of a chosen rms."""

    engine = "test"

    def __init__(self, error_rms: float) -> None:
        self.path = Path("noisy-copy")
        self.error_rms = error_rms

    def run(self, array: np.ndarray) -> np.ndarray:
        noise = np.random.default_rng(7).normal(0.0, self.error_rms, array.shape)
        return (array + noise).astype(np.float32)

    def time_invocations(self, array: np.ndarray, *, warmup: int, runs: int) -> list[float]:
        raise NotImplementedError("parity never times")


def _logit_images(margin: float, count: int = 3) -> list[ParityInput]:
    """NCHW 'logits' over 20 classes: noise (std 0.05) plus ``margin`` on one class per pixel."""
    rng = np.random.default_rng(0)
    images = []
    for index in range(count):
        logits = rng.normal(0.0, 0.05, (1, 20, 16, 16))
        winner = rng.integers(0, 20, (16, 16))
        np.put_along_axis(logits[0], winner[None], np.take_along_axis(logits[0], winner[None], 0) + margin, 0)
        images.append(ParityInput("image", f"img{index}", logits.astype(np.float32)))
    return images


def test_compare_outputs_measures_margin_and_error_exactly():
    reference = np.array([[[[3.0]], [[1.0]], [[0.0]]]], dtype=np.float32)  # NCHW, 3 classes, one pixel
    exported = reference + np.array([[[[0.3]], [[-0.3]], [[0.0]]]], dtype=np.float32)
    measured = compare_outputs(exported, reference, output_mode="logits", layout="nchw")
    assert measured["top2_margin_median"] == pytest.approx(2.0)
    assert measured["class_spread_median"] == pytest.approx(np.std([3.0, 1.0, 0.0]), rel=1e-6)
    assert measured["error_rms"] == pytest.approx(np.sqrt(0.18 / 3), rel=1e-6)
    assert measured["max_abs"] == pytest.approx(0.3, rel=1e-6)
    assert measured["argmax_agreement"] == 1.0
    labels = compare_outputs(np.array([[1, 2]]), np.array([[1, 3]]), output_mode="labels", layout="nchw")
    assert labels == {"max_abs": None, "rel_l2": None, "argmax_agreement": 0.5}


def test_failed_agreement_on_tied_logits_says_why():
    result = check_parity(NoisyCopy(0.03), torch.nn.Identity(), _logit_images(margin=0.0),
                          quantization="int8", output_mode="logits", layout="nchw")
    assert not result.passed
    assert result.gate["top2_margin_to_spread"] < 1
    assert "nearly tied" in result.reason and "--checkpoint demo" in result.reason


def test_same_error_on_confident_logits_passes_without_the_diagnosis():
    result = check_parity(NoisyCopy(0.03), torch.nn.Identity(), _logit_images(margin=1.0),
                          quantization="int8", output_mode="logits", layout="nchw")
    assert result.passed and result.gate["value"] > 0.99
    assert result.gate["top2_margin_to_spread"] > 3 and result.gate["top2_margin_to_error"] > 20
    assert "nearly tied" not in result.reason
    row = result.to_dict()["per_input"][0]
    assert row["error_rms"] == pytest.approx(0.03, rel=0.1)


def test_lossy_export_of_a_confident_model_fails_without_blaming_the_logits():
    result = check_parity(NoisyCopy(1.0), torch.nn.Identity(), _logit_images(margin=1.0),
                          quantization="int8", output_mode="logits", layout="nchw")
    assert not result.passed and result.gate["top2_margin_to_error"] < 2
    assert "nearly tied" not in result.reason

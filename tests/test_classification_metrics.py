"""Top-1 / top-5 exactly as timm's accuracy(): checked by hand and against torch.topk on random scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seaformer_deploy.classification_metrics import ClassificationMetrics, top1
from seaformer_deploy.errors import UsageError


def test_hand_checked():
    metrics = ClassificationMetrics(6)
    metrics.update(np.array([0.1, 0.9, 0.0, 0.3, 0.2, 0.5]), 1)  # top-1 hit
    metrics.update(np.array([0.1, 0.9, 0.0, 0.3, 0.2, 0.5]), 4)  # rank 5 of 6: top-5 hit only
    metrics.update(np.array([0.1, 0.9, 0.0, 0.3, 0.2, 0.5]), 2)  # last: neither
    result = metrics.result()
    assert result["top1"] == pytest.approx(1 / 3) and result["top5"] == pytest.approx(2 / 3)
    assert (result["correct_top1"], result["correct_top5"], result["num_images"]) == (1, 2, 3)


def test_matches_torch_topk_like_timm():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((200, 20)).astype(np.float32)
    targets = rng.integers(0, 20, 200)
    metrics = ClassificationMetrics(20)
    for row, target in zip(scores, targets, strict=True):
        metrics.update(row[None, :, None, None], int(target))  # any shape holding the scores
    _, pred = torch.from_numpy(scores).topk(5, 1, True, True)
    correct = pred.t().eq(torch.from_numpy(targets).view(1, -1))
    assert metrics.result()["top1"] == pytest.approx(float(correct[:1].float().sum()) / 200)
    assert metrics.result()["top5"] == pytest.approx(float(correct[:5].float().sum()) / 200)


def test_fewer_classes_than_k_caps_k():
    metrics = ClassificationMetrics(3)
    metrics.update(np.array([3.0, 2.0, 1.0]), 2)
    assert metrics.result()["top1"] == 0.0 and metrics.result()["top5"] == 1.0


def test_empty_and_bad_input():
    assert ClassificationMetrics(4).result()["top1"] is None
    with pytest.raises(UsageError, match="expected 4 class scores"):
        ClassificationMetrics(4).update(np.zeros(5), 0)
    with pytest.raises(UsageError, match="outside"):
        ClassificationMetrics(4).update(np.zeros(4), 4)
    with pytest.raises(UsageError):
        ClassificationMetrics(0)
    assert top1(np.array([[0.0, 2.0, 2.0]])) == 1

"""Metrics agree with independent implementations of mmseg's definitions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from seaformer_deploy.errors import UsageError
from seaformer_deploy.metrics import SegmentationMetrics, intersect_and_union

IGNORE = 255


def confusion_matrix(pred: np.ndarray, label: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows = label, columns = prediction; out-of-range ids go to an extra last row/column."""
    valid = label != IGNORE
    p, t = pred[valid].astype(np.int64), label[valid].astype(np.int64)
    p = np.where((p >= 0) & (p < num_classes), p, num_classes)
    t = np.where((t >= 0) & (t < num_classes), t, num_classes)
    size = num_classes + 1
    return np.bincount(t * size + p, minlength=size * size).reshape(size, size)


def metrics_from_confusion(cm: np.ndarray, num_classes: int) -> dict[str, np.ndarray | float]:
    intersect = np.diag(cm)[:num_classes].astype(np.float64)
    area_label = cm[:num_classes, :].sum(axis=1).astype(np.float64)
    area_pred = cm[:, :num_classes].sum(axis=0).astype(np.float64)
    union = area_label + area_pred - intersect
    iou = np.array([i / u if u else np.nan for i, u in zip(intersect, union, strict=True)])
    acc = np.array([i / n if n else np.nan for i, n in zip(intersect, area_label, strict=True)])
    return {
        "IoU": iou, "Acc": acc, "aAcc": intersect.sum() / area_label.sum(),
        "mIoU": float(np.nanmean(iou)), "mAcc": float(np.nanmean(acc)),
    }


def histc_areas(pred: np.ndarray, label: np.ndarray, num_classes: int) -> list[np.ndarray]:
    """mmseg's definition written with torch.histc."""
    p, t = torch.from_numpy(pred.astype(np.int64)), torch.from_numpy(label.astype(np.int64))
    mask = t != IGNORE
    p, t = p[mask], t[mask]
    def hist(x: torch.Tensor) -> np.ndarray:
        return torch.histc(x.float(), bins=num_classes, min=0, max=num_classes - 1).numpy()
    inter, area_p, area_t = hist(p[p == t]), hist(p), hist(t)
    return [inter, area_p + area_t - inter, area_p, area_t]


def random_pair(rng: np.random.Generator, shape: tuple[int, int], num_classes: int):
    label = rng.integers(0, num_classes, size=shape)
    pred = np.where(rng.random(shape) < 0.6, label, rng.integers(0, num_classes, size=shape))
    label[rng.random(shape) < 0.15] = IGNORE
    return pred.astype(np.int64), label.astype(np.uint8)


def test_hand_checked_example():
    label = np.array([[0, 0], [1, 255]], dtype=np.uint8)
    pred = np.array([[0, 1], [1, 1]])
    inter, union, area_pred, area_label = intersect_and_union(pred, label, 3)
    for array in (inter, union, area_pred, area_label):
        assert array.dtype == np.int64
    np.testing.assert_array_equal(inter, [1, 1, 0])
    np.testing.assert_array_equal(union, [2, 2, 0])
    np.testing.assert_array_equal(area_pred, [1, 2, 0])
    np.testing.assert_array_equal(area_label, [2, 1, 0])
    metrics = SegmentationMetrics(3)
    metrics.update(pred, label)
    result = metrics.result()
    assert result["aAcc"] == pytest.approx(2 / 3)
    assert result["mIoU"] == pytest.approx(0.5)  # class 2 is in neither: excluded, not a zero
    assert result["mAcc"] == pytest.approx(0.75)
    assert result["per_class"][2]["IoU"] is None and result["per_class"][2]["Acc"] is None
    assert result["num_classes_evaluated"] == 2
    assert result["num_labelled_pixels"] == 3


@pytest.mark.parametrize("num_classes", [2, 19, 150])
def test_areas_match_torch_histc(num_classes):
    rng = np.random.default_rng(num_classes)
    pred, label = random_pair(rng, (41, 57), num_classes)
    pred[0, :5] = [-1, num_classes, num_classes + 7, 254, 255]  # out of range: in no bin
    label[1, :3] = [num_classes, 200, 254] if num_classes < 200 else [254, 254, 254]
    ours = intersect_and_union(pred, label, num_classes)
    for got, want in zip(ours, histc_areas(pred, label, num_classes), strict=True):
        np.testing.assert_array_equal(got, want.astype(np.int64))


def test_accumulated_metrics_match_confusion_matrix():
    num_classes = 11
    rng = np.random.default_rng(7)
    metrics = SegmentationMetrics(num_classes)
    total_cm = np.zeros((num_classes + 1, num_classes + 1), dtype=np.int64)
    per_image_miou = []
    for index in range(6):
        pred, label = random_pair(rng, (20 + index, 33), num_classes)
        if index == 2:
            pred[pred == 4] = 5  # uneven images make per-image averaging differ from totals
            label[:10] = 3
        metrics.update(pred, label)
        cm = confusion_matrix(pred, label, num_classes)
        total_cm += cm
        per_image_miou.append(metrics_from_confusion(cm, num_classes)["mIoU"])
    want = metrics_from_confusion(total_cm, num_classes)
    got = metrics.result()
    assert got["num_images"] == 6
    assert abs(got["aAcc"] - want["aAcc"]) < 1e-12
    assert abs(got["mIoU"] - want["mIoU"]) < 1e-12
    assert abs(got["mAcc"] - want["mAcc"]) < 1e-12
    for k, row in enumerate(got["per_class"]):
        assert abs(row["IoU"] - want["IoU"][k]) < 1e-12
        assert abs(row["Acc"] - want["Acc"][k]) < 1e-12
    assert abs(got["mIoU"] - float(np.mean(per_image_miou))) > 1e-6


def test_totals_equal_one_update_on_concatenated_images():
    rng = np.random.default_rng(3)
    pairs = [random_pair(rng, (16, 16), 5) for _ in range(3)]
    split, joined = SegmentationMetrics(5), SegmentationMetrics(5)
    for pred, label in pairs:
        split.update(pred, label)
    joined.update(np.concatenate([p for p, _ in pairs]), np.concatenate([t for _, t in pairs]))
    a, b = split.result(), joined.result()
    assert a["per_class"] == b["per_class"] and a["mIoU"] == b["mIoU"] and a["aAcc"] == b["aAcc"]


def test_ignored_pixels_never_count():
    rng = np.random.default_rng(4)
    pred, label = random_pair(rng, (30, 30), 6)
    ignored = label == IGNORE
    assert ignored.any()
    changed = pred.copy()
    changed[ignored] = (changed[ignored] + 1) % 6
    first, second = SegmentationMetrics(6), SegmentationMetrics(6)
    first.update(pred, label)
    second.update(changed, label)
    assert first.result() == second.result()
    assert first.result()["num_labelled_pixels"] == int((~ignored).sum())


def test_predicted_but_absent_class_counts_as_zero_iou():
    label = np.zeros((2, 2), dtype=np.uint8)
    pred = np.array([[0, 0], [0, 1]])
    metrics = SegmentationMetrics(3, class_names=("a", "b", "c"))
    metrics.update(pred, label)
    result = metrics.result()
    assert result["per_class"][1]["IoU"] == 0.0 and result["per_class"][1]["Acc"] is None
    assert result["per_class"][1]["name"] == "b"
    assert result["mIoU"] == pytest.approx((0.75 + 0.0) / 2)
    assert result["mAcc"] == pytest.approx(0.75)


def test_result_is_json_safe_when_empty():
    metrics = SegmentationMetrics(4)
    metrics.update(np.zeros((3, 3), dtype=np.int64), np.full((3, 3), IGNORE, dtype=np.uint8))
    result = metrics.result()
    assert result["aAcc"] is None and result["mIoU"] is None and result["mAcc"] is None
    text = json.dumps(result, allow_nan=False)
    assert "NaN" not in text
    assert not any(isinstance(v, float) and math.isnan(v) for v in result.values())


def test_custom_ignore_index():
    label = np.array([[0, 1], [2, 2]])
    pred = np.array([[0, 0], [1, 2]])
    metrics = SegmentationMetrics(3, ignore_index=2)
    metrics.update(pred, label)
    result = metrics.result()
    assert result["num_labelled_pixels"] == 2
    assert result["aAcc"] == pytest.approx(0.5)


def test_errors():
    with pytest.raises(UsageError, match="shape"):
        intersect_and_union(np.zeros((2, 3), np.int64), np.zeros((3, 2), np.uint8), 4)
    with pytest.raises(UsageError, match="shape"):
        SegmentationMetrics(4).update(np.zeros((4, 4), np.int64), np.zeros((4, 5), np.uint8))
    with pytest.raises(UsageError, match="integer"):
        intersect_and_union(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.uint8), 4)
    with pytest.raises(UsageError):
        SegmentationMetrics(0)
    with pytest.raises(UsageError):
        SegmentationMetrics(3, class_names=("a", "b"))

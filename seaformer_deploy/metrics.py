"""Semantic segmentation metrics with mmseg's definitions (aAcc, per-class IoU/Acc, mIoU, mAcc).

As in mmseg (``mmseg/core/evaluation/metrics.py``, 0.x): pixels whose label is ``ignore_index`` are
dropped; per-class areas are histograms over ``[0, num_classes - 1]`` (values outside that range fall
in no bin); areas are summed over the whole dataset before any ratio is taken; a class with zero union
(IoU) or zero label area (Acc) gives NaN and is left out of the mean. Values are fractions in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from seaformer_deploy.errors import UsageError


def _class_ids(array: Any, what: str) -> np.ndarray:
    values = np.asarray(array)
    if not (np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_):
        raise UsageError(f"{what} must hold integer class ids, got dtype {values.dtype}")
    return values.astype(np.int64, copy=False)


def _histogram(values: np.ndarray, num_classes: int) -> np.ndarray:
    # torch.histc(bins=C, min=0, max=C-1) on integer values: one bin per class, the rest dropped.
    in_range = values[(values >= 0) & (values < num_classes)]
    return np.bincount(in_range, minlength=num_classes).astype(np.int64)


def intersect_and_union(
    pred: np.ndarray, label: np.ndarray, num_classes: int, ignore_index: int = 255
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class ``(area_intersect, area_union, area_pred, area_label)`` of one image, int64 each."""
    if num_classes < 1:
        raise UsageError(f"num_classes must be at least 1, got {num_classes}")
    pred_ids, label_ids = _class_ids(pred, "prediction"), _class_ids(label, "label")
    if pred_ids.shape != label_ids.shape:
        raise UsageError(f"prediction shape {pred_ids.shape} does not match label shape {label_ids.shape}")
    valid = label_ids != ignore_index
    pred_ids, label_ids = pred_ids[valid], label_ids[valid]
    area_intersect = _histogram(pred_ids[pred_ids == label_ids], num_classes)
    area_pred = _histogram(pred_ids, num_classes)
    area_label = _histogram(label_ids, num_classes)
    return area_intersect, area_pred + area_label - area_intersect, area_pred, area_label


def generic_class_names(num_classes: int) -> tuple[str, ...]:
    """Placeholder names ``class_0 .. class_{n-1}`` for datasets without a class list."""
    return tuple(f"class_{k}" for k in range(num_classes))


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerator.astype(np.float64) / denominator.astype(np.float64)


def _nanmean(values: np.ndarray) -> float:
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else math.nan


class SegmentationMetrics:
    """Accumulates per-class areas over a dataset and reports mmseg's metrics.

    Args:
        num_classes: number of classes the prediction and label ids refer to.
        ignore_index: label value excluded from every count.
        class_names: optional names for the per-class table (default ``class_k``).
    """

    def __init__(
        self, num_classes: int, ignore_index: int = 255, class_names: Sequence[str] | None = None
    ) -> None:
        if num_classes < 1:
            raise UsageError(f"num_classes must be at least 1, got {num_classes}")
        if class_names is not None and len(class_names) != num_classes:
            raise UsageError(f"{len(class_names)} class names given for {num_classes} classes")
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.class_names = tuple(class_names) if class_names is not None else generic_class_names(num_classes)
        self.total_area_intersect = np.zeros(num_classes, dtype=np.int64)
        self.total_area_union = np.zeros(num_classes, dtype=np.int64)
        self.total_area_pred = np.zeros(num_classes, dtype=np.int64)
        self.total_area_label = np.zeros(num_classes, dtype=np.int64)
        self.num_images = 0

    def update(self, pred: np.ndarray, label: np.ndarray) -> None:
        """Add one image's prediction ``HxW`` and label ``HxW`` (same shape)."""
        intersect, union, area_pred, area_label = intersect_and_union(
            pred, label, self.num_classes, self.ignore_index
        )
        self.total_area_intersect += intersect
        self.total_area_union += union
        self.total_area_pred += area_pred
        self.total_area_label += area_label
        self.num_images += 1

    def result(self) -> dict[str, Any]:
        """Metrics so far as a JSON-safe dict (NaN becomes None)."""
        iou = _ratio(self.total_area_intersect, self.total_area_union)
        acc = _ratio(self.total_area_intersect, self.total_area_label)
        labelled = int(self.total_area_label.sum())
        all_acc = self.total_area_intersect.sum() / labelled if labelled else math.nan
        per_class = [
            {
                "index": k,
                "name": self.class_names[k],
                "IoU": _json_float(iou[k]),
                "Acc": _json_float(acc[k]),
                "area_intersect": int(self.total_area_intersect[k]),
                "area_union": int(self.total_area_union[k]),
                "area_pred": int(self.total_area_pred[k]),
                "area_label": int(self.total_area_label[k]),
            }
            for k in range(self.num_classes)
        ]
        return {
            "aAcc": _json_float(all_acc),
            "mIoU": _json_float(_nanmean(iou)),
            "mAcc": _json_float(_nanmean(acc)),
            "num_images": self.num_images,
            "num_labelled_pixels": labelled,
            "num_classes": self.num_classes,
            "num_classes_evaluated": int(np.count_nonzero(~np.isnan(iou))),
            "ignore_index": self.ignore_index,
            "per_class": per_class,
        }

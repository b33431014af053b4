"""Classification metrics with timm's definitions (top-1 and top-5 accuracy, as ``timm.utils.accuracy``).

A sample counts for top-k when its target is among the k highest scores (k is capped at the class count, as
timm caps it). Values are fractions in [0, 1]. Agreement with a reference model is the same measure with the
reference's top-1 class as the target: top-1 agreement is argmax agreement, top-5 agreement says how often the
reference's choice is still among the five best.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seaformer_deploy.errors import UsageError

TOPK = (1, 5)


class ClassificationMetrics:
    """Accumulates top-k hits over a dataset.

    Args:
        num_classes: how many scores each prediction has.
    """

    def __init__(self, num_classes: int) -> None:
        if num_classes < 1:
            raise UsageError(f"num_classes must be at least 1, got {num_classes}")
        self.num_classes = num_classes
        self.hits = dict.fromkeys(TOPK, 0)
        self.num_images = 0

    def update(self, scores: np.ndarray, target: int) -> None:
        """Add one image's class scores (any shape holding ``num_classes`` values) and its target index."""
        flat = np.asarray(scores, dtype=np.float64).reshape(-1)
        if flat.size != self.num_classes:
            raise UsageError(f"expected {self.num_classes} class scores, got {flat.size}")
        if not 0 <= int(target) < self.num_classes:
            raise UsageError(f"target {target} is outside 0..{self.num_classes - 1}")
        # Descending order, ties broken by the lower index.
        ranking = np.argsort(-flat, kind="stable")
        for k in TOPK:
            self.hits[k] += int(int(target) in ranking[: min(k, self.num_classes)])
        self.num_images += 1

    def result(self) -> dict[str, Any]:
        """Metrics so far as a JSON-safe dict (None before any image)."""
        def ratio(k: int) -> float | None:
            return self.hits[k] / self.num_images if self.num_images else None

        return {
            "top1": ratio(1), "top5": ratio(5),
            "correct_top1": self.hits[1], "correct_top5": self.hits[5],
            "num_images": self.num_images, "num_classes": self.num_classes,
        }


def top1(scores: np.ndarray) -> int:
    """The index of the highest score (the lower index on ties)."""
    return int(np.argmax(np.asarray(scores).reshape(-1)))

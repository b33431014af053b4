"""Accuracy of an exported classification model: top-1 / top-5 on an ImageFolder dataset, agreement with PyTorch.

Images are prepared exactly as the official seaformer-cls evaluation prepares them
(``data.preprocess.preprocess_classification``: PIL bicubic resize, centre crop, ImageNet mean/std), and the
scores are ranked as timm's ``accuracy`` ranks them. The predictor is the same callable the segmentation
evaluation uses, so the numbers are those of whichever device produced the outputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from seaformer_deploy.bench.accuracy import check_dataset_fits
from seaformer_deploy.bench.report import AccuracySection
from seaformer_deploy.classification_metrics import ClassificationMetrics, top1
from seaformer_deploy.data.classification import ClassificationDataset
from seaformer_deploy.data.preprocess import preprocess_classification
from seaformer_deploy.model_facts import ModelFacts

Predictor = Callable[[np.ndarray], np.ndarray]

POSTPROCESS = "class scores ranked: top-1 and top-5 hits (timm accuracy)"


def evaluate_classification(
    predict: Predictor,
    dataset: ClassificationDataset,
    facts: ModelFacts,
    *,
    evaluated_on: str,
    reference: Predictor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AccuracySection:
    """Run ``predict`` (on the device ``evaluated_on``) over ``dataset``: top-1/top-5 against the folder classes
    and, with ``reference``, against the reference's top-1 class."""
    check_dataset_fits(dataset, facts)
    against_labels = ClassificationMetrics(facts.num_classes)
    against_reference = ClassificationMetrics(facts.num_classes) if reference is not None else None
    total = len(dataset)
    for index, sample in enumerate(dataset):
        batch = preprocess_classification(sample.image, facts.input_size_hw, layout=facts.layout)
        scores = predict(batch)
        against_labels.update(scores, sample.target)
        if against_reference is not None and reference is not None:
            against_reference.update(scores, top1(reference(batch)))
        if progress is not None:
            progress(index + 1, total)
    return AccuracySection(
        dataset=dataset.describe(),
        postprocess=POSTPROCESS,
        metrics=against_labels.result(),
        agreement_with_pytorch=against_reference.result() if against_reference is not None else None,
        evaluated_on=evaluated_on,
    )

"""Accuracy of an exported model: mIoU on a labelled dataset, or agreement with the PyTorch model.

The predictor is a callable from one preprocessed input to the model's raw output, so the same evaluation
runs on this host (``runtime.load_exported``) or on a phone (outputs pulled back from benchmark_model): the
numbers are those of whichever device produced the outputs. Predictions become class maps exactly as mmseg
evaluates them (bilinear resize of logits to the network input and then to the label size, argmax); the
``labels`` output mode can only be resized by nearest neighbour, which the report says.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from seaformer_deploy.bench.report import AccuracySection
from seaformer_deploy.data.classification import ClassificationDataset
from seaformer_deploy.data.datasets import SegDataset
from seaformer_deploy.data.preprocess import Normalization, logits_to_labels, preprocess
from seaformer_deploy.errors import UsageError
from seaformer_deploy.metrics import SegmentationMetrics
from seaformer_deploy.model_facts import ModelFacts

Predictor = Callable[[np.ndarray], np.ndarray]


def prediction_to_labels(output: np.ndarray, facts: ModelFacts, out_size_hw: tuple[int, int]) -> np.ndarray:
    """Class map at ``out_size_hw`` from one raw model output, following the model's output mode."""
    input_hw = facts.input_size_hw
    mode = facts.output_mode
    if mode == "labels":
        labels = np.asarray(output).reshape(input_hw).astype(np.int32)
        if labels.shape != out_size_hw:
            labels = cv2.resize(labels, (out_size_hw[1], out_size_hw[0]), interpolation=cv2.INTER_NEAREST)
        return labels.astype(np.int64)
    # ``logits`` are at 1/8: mmseg first resizes to the network input, then to the label size.
    first_resize = input_hw if mode == "logits" else None
    return logits_to_labels(output, out_size_hw, layout=facts.layout, input_size_hw=first_resize)


def check_dataset_fits(dataset: SegDataset | ClassificationDataset, facts: ModelFacts) -> None:
    """One UsageError unless ``dataset`` is of the model's task with the model's class count."""
    if isinstance(dataset, ClassificationDataset):
        if facts.task != "cls":
            raise UsageError(f"dataset {dataset.spec} is a classification dataset but the model is a {facts.task} "
                             "model (export it with --task cls)")
        dataset.check_num_classes(facts.num_classes)
        return
    if facts.task != "seg":
        raise UsageError(f"dataset {dataset.spec} is a segmentation dataset but the model is a {facts.task} model "
                         "(classification models are evaluated with --dataset imagenet:DIR or demo-cls)")
    if dataset.has_labels and dataset.num_classes != facts.num_classes:
        raise UsageError(f"dataset {dataset.name} has {dataset.num_classes} classes but the model predicts "
                         f"{facts.num_classes}")


def evaluate(
    predict: Predictor,
    dataset: SegDataset,
    facts: ModelFacts,
    *,
    evaluated_on: str,
    reference: Predictor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AccuracySection:
    """Run ``predict`` (on the device ``evaluated_on``) over ``dataset``; mIoU against the labels and, with
    ``reference``, agreement with it.

    Agreement is the mIoU of the exported model's class maps taken against the reference's class maps.
    """
    check_dataset_fits(dataset, facts)
    num_classes = facts.num_classes
    if not dataset.has_labels and reference is None:
        raise UsageError(f"dataset {dataset.name} has no labels: pass --reference to compare with PyTorch")
    normalization = Normalization.from_dict(facts.normalization_dict)
    input_hw = facts.input_size_hw
    against_labels = SegmentationMetrics(num_classes, class_names=dataset.class_names) if dataset.has_labels else None
    against_reference = SegmentationMetrics(num_classes) if reference is not None else None
    total = len(dataset)
    if total == 0:
        raise UsageError(f"dataset {dataset.name} is empty")
    for index, sample in enumerate(dataset):
        batch = preprocess(sample.image, input_hw, layout=facts.layout, normalization=normalization)
        size = sample.image.shape[:2]
        predicted = prediction_to_labels(predict(batch), facts, size)
        if against_labels is not None and sample.label is not None:
            against_labels.update(predicted, sample.label)
        if against_reference is not None and reference is not None:
            against_reference.update(predicted, prediction_to_labels(reference(batch), facts, size))
        if progress is not None:
            progress(index + 1, total)
    return AccuracySection(
        dataset=dataset.describe(),
        postprocess=f"labels by the {facts.labels_method or 'exact'!r} method in the model, nearest resize to the "
        "label size" if facts.output_mode == "labels" else
        "bilinear resize of logits (align_corners=False) to input then label size, argmax (mmseg)",
        metrics=against_labels.result() if against_labels is not None else None,
        agreement_with_pytorch=against_reference.result() if against_reference is not None else None,
        evaluated_on=evaluated_on,
    )

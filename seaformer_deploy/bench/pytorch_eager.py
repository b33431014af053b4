"""PyTorch eager as a row beside the exported runtimes: its latency on this host and its accuracy, measured the
way the bench measures an exported file.

The model is the one an export was made from (``bench.reference``: rebuilt, proven identical by its weight
fingerprint), so it reads the same preprocessed input and gives the same kind of output; accuracy goes through
the same ``bench.accuracy`` evaluation as every exported model.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from seaformer_deploy.bench.measures import Launch, RunStats
from seaformer_deploy.bench.report import AccuracySection
from seaformer_deploy.data.classification import ClassificationDataset
from seaformer_deploy.data.datasets import SegDataset
from seaformer_deploy.model_facts import ModelFacts, WeightSource
from seaformer_deploy.models.deploy import DeployModel
from seaformer_deploy.runtime import TensorSpec

Predictor = Callable[[np.ndarray], np.ndarray]


def time_eager(predict: Predictor, sample: np.ndarray, *, warmup: int, runs: int, repeats: int,
               threads: int = 1) -> list[Launch]:
    """``repeats`` launches of ``runs`` timed forward passes after ``warmup``, on ``threads`` intra-op threads."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    launches = []
    try:
        for index in range(repeats):
            started = time.perf_counter()
            for _ in range(warmup):
                predict(sample)
            samples_us = []
            for _ in range(runs):
                begin = time.perf_counter_ns()
                predict(sample)
                samples_us.append((time.perf_counter_ns() - begin) / 1e3)
            launches.append(Launch(index=index, stats=RunStats.from_samples(samples_us), per_run_us=samples_us,
                                   source="host timer around torch eager forward",
                                   duration_s=round(time.perf_counter() - started, 3)))
    finally:
        torch.set_num_threads(saved)
    return launches


def eager_facts(deployed: DeployModel) -> ModelFacts:
    """The facts an fp32 export of ``deployed`` would carry, read off the PyTorch model itself."""
    import torch

    from seaformer_deploy.data.preprocess import normalization_for_task

    model = deployed.model
    example = deployed.example_input()
    with torch.no_grad():
        output = deployed(example)
    normalization = normalization_for_task(deployed.task)
    return ModelFacts(
        variant=model.variant, task=deployed.task, num_classes=model.num_classes, input_size_hw=deployed.input_hw,
        layout=deployed.layout, input=TensorSpec("input", tuple(example.shape), "float32"),
        output=TensorSpec("output", tuple(output.shape), str(output.dtype).removeprefix("torch.")),
        output_mode=deployed.output_mode, quantization="fp32", mean=normalization.mean, std=normalization.std,
        color_order=normalization.color_order, weights=WeightSource(model.weights.source),
        weights_state_sha256=model.weights.state_sha256,
    )


def eager_predictor(deployed: DeployModel) -> Predictor:
    """One preprocessed numpy batch in, the model's output as numpy out (no autograd)."""
    import torch

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return deployed(torch.from_numpy(batch)).numpy()

    return predict


def eager_accuracy(deployed: DeployModel, dataset: SegDataset | ClassificationDataset) -> AccuracySection:
    """Accuracy of the PyTorch model on ``dataset``, through the same evaluation as an exported file."""
    from seaformer_deploy.bench.accuracy import evaluate
    from seaformer_deploy.bench.classification_accuracy import evaluate_classification

    facts = eager_facts(deployed)
    if isinstance(dataset, ClassificationDataset):
        return evaluate_classification(eager_predictor(deployed), dataset, facts, evaluated_on="pytorch eager")
    return evaluate(eager_predictor(deployed), dataset, facts, evaluated_on="pytorch eager")

"""mIoU of each label-map method against ``exact`` on the demo scenes with the demo weights (a benchmark).

Usage: python benchmarks/label_methods.py [--variant T] [--input-size 512] [--limit 32]
       [--output build/perf/label_methods.json]

The network runs once per scene (PyTorch, fp32); every method turns the same 1/8 logits into a label map with
``models.label_maps`` (the code the exported ``labels`` graphs run), resized by nearest neighbour to the label
size when it differs. mIoU is mmseg's; the default method should be the fastest one within 0.3 mIoU of exact.

The "grid ceiling" column is what no network can beat with that method: the ground truth itself, resized to the
input size, sampled at the centre of each cell of the method's argmax grid and upsampled by nearest neighbour.
It shows how much of a method's loss is the grid's geometry rather than the model.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import cv2
import numpy as np
import torch
from report import benchmark_console, publish, quiet
from rich.table import Table

import seaformer_deploy as sd
from seaformer_deploy.data.datasets import open_demo
from seaformer_deploy.data.preprocess import preprocess
from seaformer_deploy.metrics import SegmentationMetrics
from seaformer_deploy.models.label_maps import label_map
from seaformer_deploy.models.label_methods import ARGMAX_STRIDE, DEFAULT_LABELS_METHOD, LABEL_METHODS


def _resized(labels: np.ndarray, shape_hw: tuple[int, int]) -> np.ndarray:
    if labels.shape == shape_hw:
        return labels
    return cv2.resize(labels, shape_hw[::-1], interpolation=cv2.INTER_NEAREST)


def grid_ceiling(truth: np.ndarray, input_hw: tuple[int, int], stride: int) -> np.ndarray:
    """The ground truth as a label grid of ``stride`` input pixels per cell could hold it, at the truth's size."""
    at_input = _resized(truth.astype(np.uint8), input_hw)
    cells = at_input[stride // 2::stride, stride // 2::stride]
    return _resized(_resized(cells, input_hw), truth.shape).astype(np.int64)


@click.command()
@click.option("--variant", default="T", show_default=True)
@click.option("--input-size", default="512", show_default=True)
@click.option("--limit", default=32, show_default=True, help="Demo evaluation scenes to use.")
@click.option("--output", default=Path("build/perf/label_methods.json"), type=click.Path(path_type=Path))
@quiet
def main(variant: str, input_size: str, limit: int, output: Path) -> None:
    console = benchmark_console()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo-weights warning: this table is about demo weights
        model = sd.build_model(variant, checkpoint="demo")
    input_hw = sd.parse_input_size(input_size)
    deployed = sd.prepare_for_deploy(model, input_hw)
    dataset = open_demo(limit=limit)
    metrics = {method: SegmentationMetrics(dataset.num_classes or 150) for method in LABEL_METHODS}
    ceilings = {method: SegmentationMetrics(dataset.num_classes or 150) for method in LABEL_METHODS}
    agreement = {method: [] for method in LABEL_METHODS}
    for sample in dataset:
        with torch.no_grad():
            logits = deployed(torch.from_numpy(preprocess(sample.image, input_hw)))
        maps = {method: label_map(logits, input_hw, method)[0].numpy() for method in LABEL_METHODS}
        for method, labels in maps.items():
            agreement[method].append(float((labels == maps["exact"]).mean()))
            if sample.label is not None:
                metrics[method].update(_resized(labels, sample.label.shape).astype(np.int64), sample.label)
                ceilings[method].update(grid_ceiling(sample.label, input_hw, ARGMAX_STRIDE[method]), sample.label)
    exact_miou = metrics["exact"].result()["mIoU"] * 100
    rows = []
    table = Table(title=f"SeaFormer-{variant} demo weights, {len(dataset)} demo scenes at {input_size}")
    for column in ("method", "mIoU", "vs exact", "pixels equal to exact", "grid ceiling", "default"):
        table.add_column(column)
    for method in LABEL_METHODS:
        miou = metrics[method].result()["mIoU"] * 100
        ceiling = ceilings[method].result()["mIoU"] * 100
        pixels = float(np.mean(agreement[method]))
        rows.append({"method": method, "miou": miou, "miou_minus_exact": miou - exact_miou,
                     "pixel_agreement_with_exact": pixels, "grid_ceiling_miou": ceiling,
                     "default": method == DEFAULT_LABELS_METHOD})
        table.add_row(method, f"{miou:.2f}", f"{miou - exact_miou:+.2f}", f"{pixels:.4f}", f"{ceiling:.2f}",
                      "yes" if method == DEFAULT_LABELS_METHOD else "")
    publish(console, table, output, "label_methods", rows)


if __name__ == "__main__":
    main()

"""Train the demo checkpoint the package ships for SeaFormer-T, on the procedural demo scenes (CPU, deterministic).

    .venv/bin/python scripts/train_demo_checkpoint.py [--variant T] [--output PATH]

Runs ``weights.training.DEFAULT_TRAINING`` from the seeded random weights (two threads, seeded batches: the same
machine gives the same weights), writes the checkpoint in the official mmseg layout (``meta`` + ``state_dict``,
``backbone.`` / ``decode_head.`` keys) and prints the training time and the PyTorch mIoU on the demo validation
split at 256 and 512 px. Without ``--output`` it replaces the shipped file of ``--variant``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from seaformer_deploy import build_model
from seaformer_deploy.bench.pytorch_eager import eager_accuracy
from seaformer_deploy.data.datasets import open_demo
from seaformer_deploy.models.deploy import prepare_for_deploy
from seaformer_deploy.weights.demo import SHIPPED_DEMO_CHECKPOINTS, SHIPPED_DEMO_DIR, DemoWeightsWarning
from seaformer_deploy.weights.demo import train_demo_checkpoint as train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="T", choices=sorted(SHIPPED_DEMO_CHECKPOINTS))
    parser.add_argument("--output", type=Path, help="where to write it [default: the shipped file]")
    args = parser.parse_args()
    output = args.output or SHIPPED_DEMO_DIR / SHIPPED_DEMO_CHECKPOINTS[args.variant]
    started = time.perf_counter()
    seconds = train(args.variant, output, progress=lambda message: print(
        f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True))
    print(f"trained in {seconds:.0f} s; wrote {output}")
    for size in (256, 512):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DemoWeightsWarning)
            deployed = prepare_for_deploy(build_model(args.variant, checkpoint=str(output)), size)
        accuracy = eager_accuracy(deployed, open_demo())
        print(f"PyTorch mIoU on the demo validation split at {size}x{size}: {100 * (accuracy.miou or 0):.2f}")


if __name__ == "__main__":
    main()

"""Demo weights: a SeaFormer segmenter trained briefly on synthetic scenes, so accuracy checks run offline.

Why they exist. Random weights are right for latency but wrong for any check that reads class decisions: their
logits are nearly tied, so an int8 export that keeps the error of a trained model still flips many pixel
classes, and int8 parity on random weights judges the weights, not the quantizer (measured in
``docs/design.md``, by ``benchmarks/int8_weights.py``). The official checkpoints cannot be downloaded here and
the package may not ship copies of them; a short training run on the built-in synthetic scenes gives logits with
trained-like margins in minutes on a CPU.

What they are. Training (``weights.training``) starts from the seeded random weights and runs
``DemoTraining.steps`` AdamW steps of pixel-wise cross-entropy on ``DemoTraining.scenes`` procedural scenes
drawn with seed ``DemoTraining.scene_seed``: a different seed from the demo evaluation set, so parity and mIoU
images are never training images. SeaFormer-T's checkpoint ships inside the package (``demo_checkpoints/``, made by
``scripts/train_demo_checkpoint.py``), so it loads at once; the other variants are trained on first use and
cached under ``~/.cache/seaformer-deploy/weights``, keyed by variant and training settings. Both are in the
official mmseg layout (``meta`` + ``state_dict``) and written atomically. The weights know only the synthetic
scenes: accuracy on real images means nothing, and every report says so.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict
from pathlib import Path

import torch

from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import atomic_path, cache_dir
from seaformer_deploy.model_facts import WeightSource
from seaformer_deploy.models.architecture import construct_model
from seaformer_deploy.models.variants import ADE20K_CLASSES, normalize_variant
from seaformer_deploy.weights.provenance import CheckpointInfo
from seaformer_deploy.weights.random_init import RANDOM_SEED, randomize_weights
from seaformer_deploy.weights.training import DEFAULT_TRAINING, DemoTraining, Progress, train_demo_weights

DEMO_CHECKPOINT = "demo"
DEMO_WEIGHTS_WARNING = (
    "DEMO WEIGHTS: SeaFormer-{variant} seg was trained {steps} steps on SYNTHETIC demo scenes; its accuracy means "
    "something on the demo dataset only"
)


# Checkpoints shipped as package data (trained by scripts/train_demo_checkpoint.py with DEFAULT_TRAINING), so
# ``checkpoint="demo"`` loads at once for these variants; the others are trained on first use and cached.
SHIPPED_DEMO_DIR = Path(__file__).with_name("demo_checkpoints")
SHIPPED_DEMO_CHECKPOINTS = {"T": "seaformer-t-seg-demo.pth"}


class DemoWeightsWarning(UserWarning):
    """Emitted whenever a model is built with the demo weights."""


def demo_checkpoint_path(variant: str, training: DemoTraining = DEFAULT_TRAINING) -> Path:
    """Where the demo weights of ``variant`` trained with ``training`` are cached."""
    return cache_dir("weights", f"seaformer-{variant.lower()}-seg-demo-{training.key(variant)}.pth")


def resolve_demo_checkpoint(variant: str, task: str, num_classes: int | None,
                            progress: Progress | None) -> Path:
    """The demo checkpoint for a ``build_model`` call, refusing what demo weights cannot be."""
    if task != "seg":
        raise UsageError("demo weights exist for the seg task only")
    if num_classes not in (None, ADE20K_CLASSES):
        raise UsageError(f"demo weights have {ADE20K_CLASSES} classes (the demo scenes use ADE20K's), "
                         f"not {num_classes}")
    return demo_checkpoint(variant, progress=progress)


def label_demo_weights(info: CheckpointInfo, variant: str) -> None:
    """Mark loaded weights as the demo weights, warn loudly and record the warning for every report."""
    message = DEMO_WEIGHTS_WARNING.format(variant=variant, steps=DEFAULT_TRAINING.steps)
    # stacklevel 3: the warning points at whoever called build_model.
    warnings.warn(message, DemoWeightsWarning, stacklevel=3)
    info.source = WeightSource.DEMO
    info.warnings.append(message)


def shipped_demo_checkpoint(variant: str) -> Path | None:
    """The demo checkpoint shipped inside the package for ``variant`` (trained with ``DEFAULT_TRAINING``), if any."""
    name = SHIPPED_DEMO_CHECKPOINTS.get(normalize_variant(variant))
    path = None if name is None else SHIPPED_DEMO_DIR / name
    return path if path is not None and path.is_file() else None


def demo_checkpoint(variant: str, training: DemoTraining = DEFAULT_TRAINING, *,
                    progress: Progress | None = None) -> Path:
    """The demo checkpoint of ``variant``: the shipped file (SeaFormer-T), else the cached one, else trained now
    (minutes on a CPU; ``progress`` says so) and cached."""
    variant = normalize_variant(variant)
    shipped = shipped_demo_checkpoint(variant) if training == DEFAULT_TRAINING else None
    if shipped is not None:
        return shipped
    path = demo_checkpoint_path(variant, training)
    if path.is_file():
        return path
    if progress is not None:
        progress(f"no demo checkpoint ships for SeaFormer-{variant}: training one now (minutes on a CPU), "
                 f"cached in {path}")
    train_demo_checkpoint(variant, path, training, progress=progress)
    return path


def train_demo_checkpoint(variant: str, path: Path, training: DemoTraining = DEFAULT_TRAINING, *,
                          progress: Progress | None = None) -> float:
    """Train the demo weights of ``variant`` and write them to ``path`` in the official mmseg layout (``meta`` +
    ``state_dict``), atomically; return the training time in seconds."""
    variant = normalize_variant(variant)
    # Training starts from the seeded random weights (without their warning: they are not what the user gets).
    model = randomize_weights(construct_model(variant, "seg", ADE20K_CLASSES), seed=RANDOM_SEED)
    started = time.perf_counter()
    losses = train_demo_weights(model, training, progress=progress)
    seconds = time.perf_counter() - started
    meta = {
        "seaformer_deploy_demo_weights": {
            "variant": variant, "training": asdict(training), "first_loss": losses[0], "final_loss": losses[-1],
            "seconds": round(seconds, 1), "torch": str(torch.__version__),
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({"meta": meta, "state_dict": model.state_dict()}, tmp)
    return seconds

"""Demo weights: a SeaFormer segmenter trained briefly on synthetic scenes, so accuracy checks run offline.

Why they exist. Random weights are right for latency but wrong for any check that reads class decisions: their
logits are nearly tied. With random weights SeaFormer-B's best class beats the second by a median 0.39 of the
logits' spread across classes, and its int8 TFLite export at 512 px changes 8.2% of the pixel classes (worst
relative L2 error 0.087). With these demo weights the margin is 3.4 spreads and the same quantizer changes 0.7%
(0.043): the error is of one order, the margins are not (``benchmarks/int8_weights.py``). The official
checkpoints cannot be downloaded here and the package may not ship copies of them; 200 training steps on the
built-in synthetic scenes give logits with trained-like margins in 2-4 minutes on two CPU cores.

What they are. Training starts from the seeded random weights of ``build_model`` and runs ``DemoTraining.steps``
AdamW steps of pixel-wise cross-entropy on ``DemoTraining.scenes`` procedural scenes drawn with seed
``DemoTraining.scene_seed``: a different seed from the demo evaluation set, so parity and mIoU images are never
training images. The result is cached under ``~/.cache/seaformer-deploy/weights`` in the official mmseg layout
(``meta`` + ``state_dict``), keyed by variant and training settings, and written atomically. The weights know only
the synthetic scenes: accuracy on real images means nothing, and every report says so.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seaformer_deploy.data.datasets import DEMO_TRAIN_IMAGES, DEMO_TRAIN_SEED, IGNORE_INDEX, open_demo_train
from seaformer_deploy.data.preprocess import preprocess
from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import atomic_path, cache_dir

DEMO_CHECKPOINT = "demo"
DEMO_WEIGHTS_WARNING = (
    "DEMO WEIGHTS: SeaFormer-{variant} seg was trained {steps} steps on SYNTHETIC demo scenes; its accuracy means "
    "something on the demo dataset only"
)

Progress = Callable[[str], None]


class DemoWeightsWarning(UserWarning):
    """Emitted whenever a model is built with the demo weights."""


@dataclass(frozen=True)
class DemoTraining:
    """Training settings; every field is part of the cache key, so changing one retrains."""

    steps: int = 200
    batch_size: int = 4
    image_size: int = 256
    scenes: int = DEMO_TRAIN_IMAGES
    scene_seed: int = DEMO_TRAIN_SEED
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    seed: int = 0

    def key(self, variant: str) -> str:
        text = json.dumps({"variant": variant, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


DEFAULT_TRAINING = DemoTraining()


def demo_checkpoint_path(variant: str, training: DemoTraining = DEFAULT_TRAINING) -> Path:
    """Where the demo weights of ``variant`` trained with ``training`` are cached."""
    return cache_dir("weights", f"seaformer-{variant.lower()}-seg-demo-{training.key(variant)}.pth")


def _training_set(training: DemoTraining) -> tuple[torch.Tensor, torch.Tensor]:
    """All training scenes as one float batch (NCHW, normalised as at inference) and their labels."""
    size = (training.image_size, training.image_size)
    samples = list(open_demo_train(num_images=training.scenes, size_hw=size, seed=training.scene_seed))
    images = np.concatenate([preprocess(sample.image, size, layout="nchw") for sample in samples])
    labels = np.stack([sample.label for sample in samples]).astype(np.int64)
    return torch.from_numpy(images), torch.from_numpy(labels)


def train_demo_weights(model: torch.nn.Module, training: DemoTraining = DEFAULT_TRAINING, *,
                       progress: Progress | None = None) -> list[float]:
    """Train a SeaFormer segmenter in place on the synthetic scenes; return the loss of every step.

    Batches are drawn by a seeded generator and every other batch is mirrored, so a run is reproducible on one
    machine. The model is left in eval mode.
    """
    images, labels = _training_set(training)
    if training.batch_size > len(images):
        raise UsageError(f"demo training batch of {training.batch_size} exceeds its {len(images)} scenes")
    model.train()
    # Random weights drive some activations and Adam moments into float32 subnormals, which the CPU computes
    # about 15x slower (SeaFormer-T at 64 px: 10 s per step instead of under 1 s); flushing them to zero changes no
    # loss value that matters. The flag is process-wide, so it is reset on the way out.
    torch.set_flush_denormal(True)
    try:
        losses = _train_steps(model, images, labels, training, progress)
    finally:
        torch.set_flush_denormal(False)
    model.eval()
    return losses


def _train_steps(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, training: DemoTraining,
                 progress: Progress | None) -> list[float]:
    losses: list[float] = []
    optimizer = torch.optim.AdamW(model.parameters(), lr=training.learning_rate, weight_decay=training.weight_decay)
    # Polynomial decay to zero, the schedule of the official SeaFormer training configs.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (1 - step / training.steps) ** 0.9)
    batches = np.random.default_rng(training.seed)
    with torch.random.fork_rng():
        torch.manual_seed(training.seed)
        for step in range(training.steps):
            chosen = torch.from_numpy(batches.choice(len(images), training.batch_size, replace=False))
            batch, target = images[chosen], labels[chosen]
            if step % 2:
                batch, target = batch.flip(-1), target.flip(-1)
            logits = F.interpolate(model(batch), size=target.shape[-2:], mode="bilinear", align_corners=False)
            loss = F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            if progress is not None and (step % 10 == 0 or step + 1 == training.steps):
                progress(f"training demo weights: step {step + 1}/{training.steps}, loss {losses[-1]:.3f}")
    return losses


def demo_checkpoint(variant: str, training: DemoTraining = DEFAULT_TRAINING, *,
                    progress: Progress | None = None) -> Path:
    """The cached demo checkpoint of ``variant``, trained now (minutes on a CPU) if it is not there yet."""
    from seaformer_deploy.models.factory import RandomWeightsWarning, build_model
    from seaformer_deploy.models.variants import normalize_variant

    variant = normalize_variant(variant)
    path = demo_checkpoint_path(variant, training)
    if path.is_file():
        return path
    with warnings.catch_warnings():
        # Random weights are where training starts, not what the user gets: no warning for them.
        warnings.simplefilter("ignore", RandomWeightsWarning)
        model = build_model(variant, "seg")
    started = time.perf_counter()
    losses = train_demo_weights(model, training, progress=progress)
    meta = {
        "seaformer_deploy_demo_weights": {
            "variant": variant, "training": asdict(training), "first_loss": losses[0], "final_loss": losses[-1],
            "seconds": round(time.perf_counter() - started, 1), "torch": str(torch.__version__),
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({"meta": meta, "state_dict": model.state_dict()}, tmp)
    return path

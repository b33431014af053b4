"""Training the demo weights: AdamW on pixel-wise cross-entropy over the procedural demo scenes.

Kept apart from the cache and provenance in ``weights.demo`` so the optimizer loop can be read (and tested) on
its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from seaformer_deploy.data.datasets import DEMO_TRAIN_IMAGES, DEMO_TRAIN_SEED, IGNORE_INDEX, open_demo_train
from seaformer_deploy.data.preprocess import preprocess
from seaformer_deploy.errors import UsageError

Progress = Callable[[str], None]


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

"""Training the demo weights: AdamW on pixel-wise cross-entropy over augmented procedural demo scenes.

Kept apart from the cache and provenance in ``weights.demo`` so the optimizer loop can be read (and tested) on
its own; ``scripts/train_demo_checkpoint.py`` runs it to make the checkpoint the package ships.

Each step draws ``batch_size`` training scenes, rescales each by a random factor in ``scale_range`` (as mmseg's
``Resize(ratio_range=(0.5, 2.0))``), takes a random ``crop_size`` crop and mirrors half of them; the learning rate
warms up linearly, then decays polynomially to zero (the schedule of the official SeaFormer configs). All
randomness comes from generators seeded by ``DemoTraining.seed`` and the thread count is fixed, so a run is
reproducible on one machine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from seaformer_deploy.data.datasets import DEMO_TRAIN_SEED, IGNORE_INDEX, open_demo_train
from seaformer_deploy.data.preprocess import ADE20K_NORMALIZATION
from seaformer_deploy.errors import UsageError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoTraining:
    """Training settings; every field is part of the cache key, so changing one retrains."""

    steps: int = 500
    batch_size: int = 8
    crop_size: int = 160
    scene_size: int = 256
    scenes: int = 256
    scene_seed: int = DEMO_TRAIN_SEED
    scale_range: tuple[float, float] = (0.5, 2.0)
    learning_rate: float = 3e-3
    warmup_steps: int = 20
    weight_decay: float = 0.01
    threads: int = 2
    seed: int = 0

    def key(self, variant: str) -> str:
        text = json.dumps({"variant": variant, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


DEFAULT_TRAINING = DemoTraining()


def _training_scenes(training: DemoTraining) -> tuple[list[np.ndarray], list[np.ndarray]]:
    size = (training.scene_size, training.scene_size)
    samples = list(open_demo_train(num_images=training.scenes, size_hw=size, seed=training.scene_seed))
    return [s.image for s in samples], [s.label for s in samples if s.label is not None]


def _augment(rng: np.random.Generator, image: np.ndarray, label: np.ndarray,
             training: DemoTraining) -> tuple[np.ndarray, np.ndarray]:
    low, high = training.scale_range
    factor = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    crop = training.crop_size
    height = max(crop, round(image.shape[0] * factor))
    width = max(crop, round(image.shape[1] * factor))
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    label = cv2.resize(label, (width, height), interpolation=cv2.INTER_NEAREST)
    top, left = int(rng.integers(0, height - crop + 1)), int(rng.integers(0, width - crop + 1))
    image, label = image[top:top + crop, left:left + crop], label[top:top + crop, left:left + crop]
    if rng.uniform() < 0.5:
        image, label = image[:, ::-1], label[:, ::-1]
    return image, label


def _batch(rng: np.random.Generator, images: list[np.ndarray], labels: list[np.ndarray],
           training: DemoTraining) -> tuple[torch.Tensor, torch.Tensor]:
    mean = np.asarray(ADE20K_NORMALIZATION.mean, dtype=np.float32)
    inv_std = np.asarray([1.0 / s for s in ADE20K_NORMALIZATION.std], dtype=np.float32)
    pairs = [_augment(rng, images[i], labels[i], training)
             for i in rng.choice(len(images), training.batch_size, replace=False)]
    batch = np.stack([((image.astype(np.float32) - mean) * inv_std).transpose(2, 0, 1) for image, _ in pairs])
    target = np.stack([label for _, label in pairs]).astype(np.int64)
    return torch.from_numpy(batch), torch.from_numpy(target)


def train_demo_weights(model: torch.nn.Module, training: DemoTraining = DEFAULT_TRAINING, *,
                       progress: Progress | None = None) -> list[float]:
    """Train a SeaFormer segmenter in place on the synthetic scenes; return the loss of every step.

    The model is left in eval mode.
    """
    images, labels = _training_scenes(training)
    if training.batch_size > len(images):
        raise UsageError(f"demo training batch of {training.batch_size} exceeds its {len(images)} scenes")
    model.train()
    # Random weights drive some activations and Adam moments into float32 subnormals, which the CPU computes
    # about 15x slower; flushing them to zero changes no loss value that matters. Reduction order depends on the
    # thread count, so it is part of the settings (and of the cache key) for reproducibility. Both settings are
    # process-wide and restored on the way out.
    threads = torch.get_num_threads()
    torch.set_flush_denormal(True)
    torch.set_num_threads(training.threads)
    try:
        losses = _train_steps(model, images, labels, training, progress)
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)
    model.eval()
    return losses


def _train_steps(model: torch.nn.Module, images: list[np.ndarray], labels: list[np.ndarray],
                 training: DemoTraining, progress: Progress | None) -> list[float]:
    losses: list[float] = []
    optimizer = torch.optim.AdamW(model.parameters(), lr=training.learning_rate, weight_decay=training.weight_decay)

    def factor(step: int) -> float:
        return min(1.0, (step + 1) / training.warmup_steps) * (1 - step / training.steps) ** 0.9

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    rng = np.random.default_rng(training.seed)
    with torch.random.fork_rng():
        torch.manual_seed(training.seed)
        for step in range(training.steps):
            batch, target = _batch(rng, images, labels, training)
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

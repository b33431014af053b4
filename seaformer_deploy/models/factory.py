"""``build_model``: the one way to get a SeaFormer, with weights and their provenance attached."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

from torch import nn

from seaformer_deploy.checkpoints import (
    CheckpointInfo,
    apply_checkpoint,
    infer_num_classes,
    read_checkpoint,
    state_fingerprint,
)
from seaformer_deploy.errors import UsageError
from seaformer_deploy.models.demo_weights import (
    DEFAULT_TRAINING,
    DEMO_CHECKPOINT,
    DEMO_WEIGHTS_WARNING,
    DemoWeightsWarning,
    demo_checkpoint,
)
from seaformer_deploy.models.heads import LightHead, SeaFormerClassifier, Segmentor
from seaformer_deploy.models.init import randomize_weights
from seaformer_deploy.models.seaformer import SeaFormer
from seaformer_deploy.models.variants import (
    ADE20K_CLASSES,
    IMAGENET_CLASSES,
    normalize_task,
    normalize_variant,
    variant_config,
)

RANDOM_WEIGHTS_WARNING = (
    "NO CHECKPOINT: SeaFormer-{variant} {task} has RANDOM weights (seed {seed}); latency is meaningful, "
    "accuracy is not"
)
RANDOM_SEED = 0


class RandomWeightsWarning(UserWarning):
    """Emitted whenever a model is built without a checkpoint."""


def _construct(variant: str, task: str, num_classes: int) -> nn.Module:
    config = variant_config(variant)
    if task == "cls":
        return SeaFormerClassifier(**config.backbone_kwargs(), num_classes=num_classes)
    head = LightHead(config.head_in_channels, config.head_channels, config.head_embed_dims, num_classes)
    return Segmentor(SeaFormer(**config.backbone_kwargs()), head)


def _demo_checkpoint(variant: str, task: str, num_classes: int | None,
                     progress: Callable[[str], None] | None) -> Path:
    if task != "seg":
        raise UsageError("demo weights exist for the seg task only")
    if num_classes not in (None, ADE20K_CLASSES):
        raise UsageError(f"demo weights have {ADE20K_CLASSES} classes (the demo scenes use ADE20K's), "
                         f"not {num_classes}")
    return demo_checkpoint(variant, progress=progress)


def build_model(
    variant: str,
    task: str = "seg",
    num_classes: int | None = None,
    checkpoint: str | Path | None = None,
    *,
    allow_partial: bool = False,
    trust_checkpoint: bool = False,
    progress: Callable[[str], None] | None = None,
) -> nn.Module:
    """Build SeaFormer-``variant`` for ``task`` and load ``checkpoint`` strictly.

    Args:
        variant: ``T``, ``S``, ``B`` or ``L`` (case-insensitive).
        task: ``seg`` (backbone + LightHead, logits at 1/8) or ``cls`` (ImageNet classifier).
        num_classes: classifier size; by default read from the checkpoint, else 150 (seg) / 1000 (cls).
        checkpoint: an official mmseg / timm file, a plain state dict, ``.pth`` or ``.safetensors``.
            Without one the weights are seeded random values that keep every branch alive (see
            ``models/init.py``): a ``RandomWeightsWarning`` is emitted and recorded. ``"demo"`` (seg only) means
            weights trained on the synthetic demo scenes (``models/demo_weights.py``; trained and cached on first
            use): a ``DemoWeightsWarning`` is emitted and recorded.
        allow_partial: load the matching keys of a checkpoint that lacks some (never wrongly shaped ones).
        trust_checkpoint: allow pickled Python objects in the file (only for files you trust).
        progress: called with a short message while demo weights are being trained.

    Returns:
        The model in eval mode, with ``model.variant``, ``model.task`` and ``model.weights``
        (a ``CheckpointInfo`` that every report copies).
    """
    variant = normalize_variant(variant)
    task = normalize_task(task)
    if num_classes is not None and num_classes < 1:
        raise UsageError(f"num_classes must be positive, got {num_classes}")
    demo = checkpoint is not None and str(checkpoint) == DEMO_CHECKPOINT
    if demo:
        checkpoint = _demo_checkpoint(variant, task, num_classes, progress)
    loaded = read_checkpoint(checkpoint, trust=trust_checkpoint) if checkpoint is not None else None
    if num_classes is None:
        found = infer_num_classes(loaded.state, task) if loaded is not None else None
        num_classes = found or (ADE20K_CLASSES if task == "seg" else IMAGENET_CLASSES)

    model = _construct(variant, task, num_classes)
    if loaded is not None:
        info = apply_checkpoint(model, loaded, task=task, variant=variant, allow_partial=allow_partial)
        if demo:
            message = DEMO_WEIGHTS_WARNING.format(variant=variant, steps=DEFAULT_TRAINING.steps)
            warnings.warn(message, DemoWeightsWarning, stacklevel=2)
            info.source = DEMO_CHECKPOINT
            info.warnings.append(message)
    else:
        randomize_weights(model, seed=RANDOM_SEED)
        message = RANDOM_WEIGHTS_WARNING.format(variant=variant, task=task, seed=RANDOM_SEED)
        warnings.warn(message, RandomWeightsWarning, stacklevel=2)
        info = CheckpointInfo(source="random", num_classes=num_classes, warnings=[message])
    info.state_sha256 = state_fingerprint(model)
    model.variant = variant
    model.task = task
    model.weights = info
    return model.eval()

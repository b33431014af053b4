"""``build_model``: the one way to get a SeaFormer, with weights and their provenance attached.

It sits on top: ``models/`` gives the architecture, ``weights/`` the values and where they came from.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import nn

from seaformer_deploy.errors import UsageError
from seaformer_deploy.models.architecture import construct_model
from seaformer_deploy.models.variants import ADE20K_CLASSES, IMAGENET_CLASSES, normalize_task, normalize_variant
from seaformer_deploy.weights.checkpoints import apply_checkpoint, infer_num_classes, read_checkpoint, state_fingerprint
from seaformer_deploy.weights.demo import DEMO_CHECKPOINT, label_demo_weights, resolve_demo_checkpoint
from seaformer_deploy.weights.random_init import apply_random_weights


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
            ``weights/random_init.py``): a ``RandomWeightsWarning`` is emitted and recorded. ``"demo"`` (seg only) means
            weights trained on the synthetic demo scenes (``weights/demo.py``; trained and cached on first
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
        checkpoint = resolve_demo_checkpoint(variant, task, num_classes, progress)
    loaded = read_checkpoint(checkpoint, trust=trust_checkpoint) if checkpoint is not None else None
    if num_classes is None:
        found = infer_num_classes(loaded.state, task) if loaded is not None else None
        num_classes = found or (ADE20K_CLASSES if task == "seg" else IMAGENET_CLASSES)

    model = construct_model(variant, task, num_classes)
    if loaded is not None:
        info = apply_checkpoint(model, loaded, task=task, variant=variant, allow_partial=allow_partial)
        if demo:
            label_demo_weights(info, variant)
    else:
        info = apply_random_weights(model, variant, task, num_classes)
    info.state_sha256 = state_fingerprint(model)
    model.variant = variant
    model.task = task
    model.weights = info
    return model.eval()

"""The SeaFormer network of a variant and task, with PyTorch's default initial values (no weights policy)."""

from __future__ import annotations

from torch import nn

from seaformer_deploy.models.heads import LightHead, SeaFormerClassifier, Segmentor
from seaformer_deploy.models.seaformer import SeaFormer
from seaformer_deploy.models.variants import variant_config


def construct_model(variant: str, task: str, num_classes: int) -> nn.Module:
    """SeaFormer-``variant`` (normalized) as a segmenter (``seg``) or ImageNet-style classifier (``cls``)."""
    config = variant_config(variant)
    if task == "cls":
        return SeaFormerClassifier(**config.backbone_kwargs(), num_classes=num_classes)
    head = LightHead(config.head_in_channels, config.head_channels, config.head_embed_dims, num_classes)
    return Segmentor(SeaFormer(**config.backbone_kwargs()), head)

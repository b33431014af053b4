"""Heads on top of the SeaFormer backbone: the light segmentation head and the ImageNet classifier.

Names follow the official ``LightHead`` (mmseg ``BaseDecodeHead``: ``conv_seg``, ``dropout``) and the
official classification model (``avgpool``, ``linear``) so official checkpoints load strictly.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from seaformer_deploy.models.layers import ConvModule, HSigmoid
from seaformer_deploy.models.seaformer import SeaFormer


class FusionBlock(nn.Module):
    """Fuse a high-resolution detail feature with a low-resolution context feature used as a gate.

    ``local_embedding(x_local) * upsample(hsigmoid(global_act(x_global)))`` - the gate is resized bilinearly
    (align_corners=False) to the detail feature's size.
    """

    def __init__(self, local_channels: int, global_channels: int, embed_dim: int) -> None:
        super().__init__()
        self.local_embedding = ConvModule(local_channels, embed_dim)
        self.global_act = ConvModule(global_channels, embed_dim)
        self.act = HSigmoid()

    def forward(self, x_local: torch.Tensor, x_global: torch.Tensor) -> torch.Tensor:
        gate = F.interpolate(
            self.act(self.global_act(x_global)), size=x_local.shape[-2:], mode="bilinear", align_corners=False
        )
        return self.local_embedding(x_local) * gate


class LightHead(nn.Module):
    """SeaFormer's light segmentation head: successive fusions into the 1/8 feature, then a classifier.

    Args:
        in_channels: channels of the backbone features (1/8 feature first).
        channels: channels entering the classifier (equals the last ``embed_dims``).
        embed_dims: output channels of each fusion block.
        num_classes: segmentation classes.
        dropout_ratio: dropout before the classifier (training only).
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        channels: int,
        embed_dims: Sequence[int],
        num_classes: int,
        dropout_ratio: float = 0.1,
    ) -> None:
        super().__init__()
        # Registration order follows the official module so state dicts list keys in the same order.
        self.conv_seg = nn.Conv2d(channels, num_classes, kernel_size=1)
        self.dropout = nn.Dropout2d(dropout_ratio)
        # Depthwise, as in every official SeaFormer config (is_dw=True).
        self.linear_fuse = ConvModule(channels, channels, groups=channels, act_layer=nn.ReLU)
        self.num_fusions = len(embed_dims)
        for index, embed_dim in enumerate(embed_dims):
            local_channels = in_channels[0] if index == 0 else embed_dims[index - 1]
            setattr(self, f"fuse{index + 1}", FusionBlock(local_channels, in_channels[index + 1], embed_dim))

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        detail = features[0]
        for index in range(self.num_fusions):
            detail = getattr(self, f"fuse{index + 1}")(detail, features[index + 1])
        return self.conv_seg(self.dropout(self.linear_fuse(detail)))


class Segmentor(nn.Module):
    """Backbone + LightHead. ``forward`` returns logits at 1/8 of the input, as the official segmentor does
    before mmseg resizes them to the label size."""

    def __init__(self, backbone: SeaFormer, decode_head: LightHead) -> None:
        super().__init__()
        self.backbone = backbone
        self.decode_head = decode_head

    @property
    def num_classes(self) -> int:
        return self.decode_head.conv_seg.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_head(self.backbone(x))


class SeaFormerClassifier(SeaFormer):
    """ImageNet classifier: the backbone's last feature, global average pooling and a linear layer.

    Subclasses the backbone because official classification checkpoints keep backbone keys unprefixed.
    """

    def __init__(self, *args: object, num_classes: int = 1000, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(self.out_channels, num_classes)

    @property
    def num_classes(self) -> int:
        return self.linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        last = self.forward_stages(x)[-1]
        return self.linear(torch.flatten(self.avgpool(last), 1))

"""Building blocks shared by the SeaFormer backbone and heads.

Module and attribute names follow the official implementation (fudan-zvg/SeaFormer, mmseg 0.x / mmcv
ConvModule) so that official checkpoints load with ``strict=True``.
"""

from __future__ import annotations

import torch
from torch import nn


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to a multiple of ``divisor`` without going more than 10% below it (MobileNetV2 rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class Conv2dBN(nn.Sequential):
    """Bias-free convolution followed by BatchNorm; children are named ``c`` and ``bn`` as in the checkpoints.

    ``bn_weight_init`` reproduces the official zero-init of the BatchNorm scale on residual projections.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        bn_weight_init: float = 1.0,
    ) -> None:
        super().__init__()
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=False)
        self.add_module("c", conv)
        bn = nn.BatchNorm2d(out_channels)
        nn.init.constant_(bn.weight, bn_weight_init)
        nn.init.constant_(bn.bias, 0.0)
        self.add_module("bn", bn)


class ConvModule(nn.Module):
    """Convolution, BatchNorm and optional activation named like mmcv's ``ConvModule`` (conv / bn / activate).

    mmcv drops the conv bias when a norm layer follows; so do we, to keep the checkpoint keys identical.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        groups: int = 1,
        act_layer: type[nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.activate = act_layer() if act_layer is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.bn(self.conv(x)))


class HSigmoid(nn.Module):
    """Hard sigmoid written as the official code computes it: ReLU6(x + 3) / 6."""

    def __init__(self) -> None:
        super().__init__()
        self.relu = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(x + 3) / 6


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch per sample while training, identity in eval mode."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep_prob = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep_prob)
        return x * mask / keep_prob


class InvertedResidual(nn.Module):
    """MobileNetV2 block: optional 1x1 expansion, kxk depthwise, 1x1 linear projection; residual when shapes allow."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        expand_ratio: int,
        act_layer: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        hidden = round(in_channels * expand_ratio)
        self.use_res_connect = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers += [Conv2dBN(in_channels, hidden), act_layer()]
        layers += [
            Conv2dBN(hidden, hidden, kernel_size, stride, kernel_size // 2, groups=hidden),
            act_layer(),
            Conv2dBN(hidden, out_channels),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)

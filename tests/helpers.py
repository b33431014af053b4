"""Helpers shared by tests: deterministic, non-trivial weights for equivalence checks."""

from __future__ import annotations

import math

import torch
from torch import nn


def randomize_weights(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every parameter and BatchNorm statistic a seeded, well-scaled random value.

    Freshly built models have identity BatchNorms and zero-initialised projections, which would let a broken
    BatchNorm fold or a dropped branch pass unnoticed; these weights exercise every path.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = math.prod(module.weight.shape[1:])
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) / math.sqrt(fan_in))
                if module.bias is not None:
                    module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))
            elif isinstance(module, nn.BatchNorm2d):
                shape = module.weight.shape
                module.weight.copy_(1.0 + 0.2 * torch.randn(shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(shape, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(shape, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(shape, generator=generator))
        for name, param in model.named_parameters():
            if name.endswith("pos_embed"):
                param.copy_(torch.randn(param.shape, generator=generator))
    return model

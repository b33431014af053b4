"""Seeded, well-scaled random weights for models built without a checkpoint.

PyTorch's default initialisation leaves BatchNorm as the identity, and the official code zero-initialises the
BatchNorm scale of every attention projection; converters then prove those branches constant and delete them,
so a latency measured on such a model would be that of a smaller network. These weights keep every branch
alive (so latency is that of the real architecture) and exercise every path in equivalence tests.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def randomize_weights(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every parameter and BatchNorm statistic a seeded, non-degenerate random value (in place)."""
    generator = torch.Generator().manual_seed(seed)

    def normal(shape: torch.Size, std: float, mean: float = 0.0) -> torch.Tensor:
        return mean + std * torch.randn(shape, generator=generator)

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.copy_(normal(module.weight.shape, 1.0 / math.sqrt(math.prod(module.weight.shape[1:]))))
                if module.bias is not None:
                    module.bias.copy_(normal(module.bias.shape, 0.1))
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.copy_(normal(module.weight.shape, 0.2, mean=1.0))
                module.bias.copy_(normal(module.bias.shape, 0.1))
                module.running_mean.copy_(normal(module.running_mean.shape, 0.1))
                module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=generator))
        for name, param in model.named_parameters():
            if name.endswith("pos_embed"):
                param.copy_(normal(param.shape, 1.0))
    return model

"""Seeded, well-scaled random weights for models built without a checkpoint.

PyTorch's default initialisation leaves BatchNorm as the identity, and the official code zero-initialises the
BatchNorm scale of every attention projection; converters then prove those branches constant and delete them,
so a latency measured on such a model would be that of a smaller network. These weights keep every branch
alive (so latency is that of the real architecture) and exercise every path in equivalence tests.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn

from seaformer_deploy.model_facts import WeightSource
from seaformer_deploy.weights.provenance import CheckpointInfo

RANDOM_SEED = 0
RANDOM_WEIGHTS_WARNING = (
    "NO CHECKPOINT: SeaFormer-{variant} {task} has RANDOM weights (seed {seed}); latency is meaningful, "
    "accuracy is not"
)


class RandomWeightsWarning(UserWarning):
    """Emitted whenever a model is built without a checkpoint."""


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


def apply_random_weights(model: nn.Module, variant: str, task: str, num_classes: int) -> CheckpointInfo:
    """Give ``model`` the seeded random weights, warn loudly, and return the provenance every report copies."""
    randomize_weights(model, seed=RANDOM_SEED)
    message = RANDOM_WEIGHTS_WARNING.format(variant=variant, task=task, seed=RANDOM_SEED)
    # stacklevel 3: the warning points at whoever called build_model.
    warnings.warn(message, RandomWeightsWarning, stacklevel=3)
    return CheckpointInfo(source=WeightSource.RANDOM, num_classes=num_classes, warnings=[message])

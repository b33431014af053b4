"""SeaFormer models: variants, backbone, heads, the architecture by name, and the deploy transforms.

Weights (checkpoints, random, demo) live in ``seaformer_deploy.weights``; ``seaformer_deploy.build_model`` puts
architecture and weights together.
"""

from seaformer_deploy.models.architecture import construct_model
from seaformer_deploy.models.deploy import (
    DeployModel,
    bake_positional_embeddings,
    fold_batchnorm,
    parse_input_size,
    prepare_for_deploy,
    strip_dropout,
)
from seaformer_deploy.models.variants import VARIANTS, variant_config

__all__ = [
    "VARIANTS",
    "DeployModel",
    "bake_positional_embeddings",
    "construct_model",
    "fold_batchnorm",
    "parse_input_size",
    "prepare_for_deploy",
    "strip_dropout",
    "variant_config",
]

"""SeaFormer models: variants, backbone, heads, factory and deploy transforms."""

from seaformer_deploy.models.deploy import (
    DeployModel,
    bake_positional_embeddings,
    fold_batchnorm,
    parse_input_size,
    prepare_for_deploy,
    strip_dropout,
)
from seaformer_deploy.models.factory import RandomWeightsWarning, build_model
from seaformer_deploy.models.variants import VARIANTS, variant_config

__all__ = [
    "VARIANTS",
    "DeployModel",
    "RandomWeightsWarning",
    "bake_positional_embeddings",
    "build_model",
    "fold_batchnorm",
    "parse_input_size",
    "prepare_for_deploy",
    "strip_dropout",
    "variant_config",
]

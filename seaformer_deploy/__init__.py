"""seaformer-deploy: SeaFormer from PyTorch to a phone, with numbers you can trust.

Public API: ``build_model`` and the deploy transforms (``prepare_for_deploy`` and its parts).
"""

from seaformer_deploy.models import (
    VARIANTS,
    DeployModel,
    RandomWeightsWarning,
    bake_positional_embeddings,
    build_model,
    fold_batchnorm,
    parse_input_size,
    prepare_for_deploy,
    strip_dropout,
    variant_config,
)

__version__ = "0.1.0"

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

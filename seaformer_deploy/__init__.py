"""seaformer-deploy: SeaFormer from PyTorch to a phone, with numbers you can trust.

Public API: ``build_model`` and the deploy transforms (``prepare_for_deploy`` and its parts). They are loaded
on first use, so importing the package (and running ``--help``) does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "VARIANTS": "seaformer_deploy.models.variants",
    "variant_config": "seaformer_deploy.models.variants",
    "build_model": "seaformer_deploy.build",
    "RandomWeightsWarning": "seaformer_deploy.weights.random_init",
    "DemoWeightsWarning": "seaformer_deploy.weights.demo",
    "DeployModel": "seaformer_deploy.models.deploy",
    "bake_positional_embeddings": "seaformer_deploy.models.deploy",
    "fold_batchnorm": "seaformer_deploy.models.deploy",
    "parse_input_size": "seaformer_deploy.models.deploy",
    "prepare_for_deploy": "seaformer_deploy.models.deploy",
    "strip_dropout": "seaformer_deploy.models.deploy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'seaformer_deploy' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

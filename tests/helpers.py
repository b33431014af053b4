"""Helpers shared by tests."""

import pytest

import seaformer_deploy as sd
from seaformer_deploy.weights.random_init import randomize_weights

# Every variant, with all but the smallest marked slow: make test-fast checks T, make test all four.
VARIANTS_T_FAST = [variant if variant == "T" else pytest.param(variant, marks=pytest.mark.slow)
                   for variant in sd.VARIANTS]

__all__ = ["VARIANTS_T_FAST", "randomize_weights"]

"""Helpers shared by tests."""

from seaformer_deploy.weights.random_init import randomize_weights

__all__ = ["randomize_weights"]

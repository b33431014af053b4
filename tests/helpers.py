"""Helpers shared by tests."""

from seaformer_deploy.models.init import randomize_weights

__all__ = ["randomize_weights"]

"""Budgets for layout ops (TRANSPOSE, RESHAPE) in exported graphs.

Every layout op of an exported SeaFormer sits in a squeeze-axial attention block (the head permutes, the
backbone stays in its native layout), and each block needs the same number whatever the variant, task or input
size. Measured on this version's exports (T/S/B/L, seg and cls): 12 TRANSPOSE + 18 RESHAPE per block in TFLite,
6 Transpose + 8 Reshape in ONNX. The budget is that count times the variant's blocks, plus the two boundary
transposes of a non-default I/O layout, so any change that adds layout shuffling shows up in lint.
"""

from __future__ import annotations

from seaformer_deploy.export.lint import LayoutOpBudget
from seaformer_deploy.export.options import DEFAULT_LAYOUT
from seaformer_deploy.models.variants import variant_config

PER_BLOCK = {"tflite": {"TRANSPOSE": 12, "RESHAPE": 18}, "onnx": {"TRANSPOSE": 6, "RESHAPE": 8}}
BOUNDARY_TRANSPOSES = 2


def layout_op_budget(fmt: str, variant: str, layout: str) -> LayoutOpBudget:
    """The TRANSPOSE / RESHAPE budget of one export configuration."""
    blocks = sum(variant_config(variant).depths)
    boundary = BOUNDARY_TRANSPOSES if layout != DEFAULT_LAYOUT[fmt] else 0
    return LayoutOpBudget(transpose=PER_BLOCK[fmt]["TRANSPOSE"] * blocks + boundary,
                          reshape=PER_BLOCK[fmt]["RESHAPE"] * blocks)

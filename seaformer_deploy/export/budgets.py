"""Budgets for layout ops (TRANSPOSE, RESHAPE) in exported graphs.

The deploy form computes the squeeze-axial attention channels-last (``models/deploy_attention.py``), so a
TFLite graph needs no TRANSPOSE for it; what layout ops remain sit in the attention blocks (the RESHAPEs that
fold heads into the batch and back) and each block needs the same number whatever the variant, task or input
size. Measured on this version's exports (T/S/B/L, seg and cls): 0 TRANSPOSE + 10 RESHAPE per block in TFLite,
6 Transpose + 12 Reshape in ONNX (an NCHW graph, where the channels-last squeezes are real transposes of the
small squeezed tensors). On top of that: the two boundary transposes of a non-default I/O layout, and for
``labels`` outputs the ops of the label map (in TFLite, the repetition of each label along W is a GATHER
between two TRANSPOSEs of the int32 map; ONNX transposes the class scores once for the argmax). Any change
that adds layout shuffling shows up in lint.
"""

from __future__ import annotations

from seaformer_deploy.export.lint import LayoutOpBudget
from seaformer_deploy.export.options import DEFAULT_LAYOUT
from seaformer_deploy.models.variants import variant_config

PER_BLOCK = {"tflite": {"TRANSPOSE": 0, "RESHAPE": 10}, "onnx": {"TRANSPOSE": 6, "RESHAPE": 12}}
LABEL_MAP_OPS = {"tflite": {"TRANSPOSE": 2, "RESHAPE": 1}, "onnx": {"TRANSPOSE": 1, "RESHAPE": 0}}
BOUNDARY_TRANSPOSES = 2


def layout_op_budget(fmt: str, variant: str, layout: str, output_mode: str = "logits") -> LayoutOpBudget:
    """The TRANSPOSE / RESHAPE budget of one export configuration."""
    blocks = sum(variant_config(variant).depths)
    boundary = BOUNDARY_TRANSPOSES if layout != DEFAULT_LAYOUT[fmt] else 0
    label_map = LABEL_MAP_OPS[fmt] if output_mode == "labels" else {"TRANSPOSE": 0, "RESHAPE": 0}
    return LayoutOpBudget(transpose=PER_BLOCK[fmt]["TRANSPOSE"] * blocks + boundary + label_map["TRANSPOSE"],
                          reshape=PER_BLOCK[fmt]["RESHAPE"] * blocks + label_map["RESHAPE"])

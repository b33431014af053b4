"""Label maps from 1/8-resolution segmentation logits: where the argmax happens decides what it costs.

mmseg evaluates ``argmax(bilinear(logits, input size))``. At 512x512 with 150 classes that upsampling writes
39 M floats and the argmax reads them again, many times the network's own latency. The methods trade that
against agreement with the exact map by moving the argmax to a coarser grid and repeating each label over the
pixels it covers (nearest-neighbour upsampling by an integer factor):

- ``exact``: bilinear to the input size, then argmax (what mmseg computes);
- ``half``: bilinear to 1/2 of the input size, argmax, each label repeated 2x2;
- ``quarter``: bilinear to 1/4, argmax, each label repeated 4x4;
- ``fast``: argmax of the 1/8 logits, each label repeated 8x8.

Names, strides and the default live in ``label_methods``. The same module serves the exported graph and the
host-side post-processing of a logits model, so both give identical maps for one method.
Measured latency and mIoU of each method: ``docs/performance.md``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seaformer_deploy.errors import UsageError
from seaformer_deploy.models.label_methods import ARGMAX_STRIDE, LabelsMethod, check_labels_method


class LabelMap(nn.Module):
    """(B, classes, h, w) logits -> (B, H, W) int32 labels at ``input_hw`` by ``method``.

    Repeating labels is done with two index selections along H and W (constant index buffers): the converted
    graph gets GATHER ops, several times faster on LiteRT's CPU kernels than broadcasting a 5-D view.
    """

    def __init__(self, input_hw: tuple[int, int], method: LabelsMethod) -> None:
        super().__init__()
        self.method = check_labels_method(method)
        self.stride = ARGMAX_STRIDE[self.method]
        height, width = input_hw
        if height % self.stride or width % self.stride:
            raise UsageError(
                f"input size {height}x{width} is not a multiple of the {method!r} argmax stride {self.stride}"
            )
        self.input_hw = (height, width)
        self.grid = (height // self.stride, width // self.stride)
        self.register_buffer("row_source", torch.arange(height) // self.stride, persistent=False)
        self.register_buffer("column_source", torch.arange(width) // self.stride, persistent=False)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        if tuple(logits.shape[-2:]) != self.grid:
            logits = F.interpolate(logits, size=self.grid, mode="bilinear", align_corners=False)
        # Argmax over the last axis of the channels-last view: the order a converted NHWC graph already has,
        # so no TRANSPOSE of the class scores is needed.
        labels = logits.permute(0, 2, 3, 1).argmax(dim=-1).to(torch.int32)
        if self.stride == 1:
            return labels
        return labels.index_select(1, self.row_source).index_select(2, self.column_source)


def label_map(logits: torch.Tensor, input_hw: tuple[int, int], method: LabelsMethod) -> torch.Tensor:
    """Host-side label map of a logits tensor, identical to what an exported ``labels`` model computes."""
    with torch.no_grad():
        return LabelMap(input_hw, method)(logits)

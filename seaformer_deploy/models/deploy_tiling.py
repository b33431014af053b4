"""Row-strip tiling of the first MobileNetV2 stage: the same convolutions, computed one horizontal strip at a time.

The stem stage runs at half the input resolution with few channels. At 512x512 the expansion in front of
SeaFormer-T's first stride-2 depthwise convolution is a 256x256x64 float tensor (16 MB): one convolution writes
it and the next reads it back, and the stem, the first block and this expansion all move tensors larger than a
core's cache. Converters and runtimes (XNNPACK included) run a graph op by op over whole tensors, so these
layers wait on memory.

``RowTiledStem`` computes the stem and the blocks up to and including the first stride-2 block in horizontal
strips. Each strip reads the input rows its output needs (the receptive field's halo included) and runs the
whole chain on them, so a strip's intermediates stay in cache; the strips are concatenated once, at a quarter of
the input resolution. Zero padding is added only where a strip touches the image border; inside the image the
halo rows take its place, so every output row is computed exactly as the untiled chain computes it. The
convolutions are the model's own modules, called as they are (their padding moves into the strips),
so weights and module paths do not change. The strip count is the smallest that keeps each strip's largest
intermediate within ``STRIP_BYTES`` (at least ``MIN_STRIPS``); a stage whose tensors already fit is left
untouched.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from seaformer_deploy.models.layers import Conv2dBN, InvertedResidual
from seaformer_deploy.models.seaformer import StackedMV2Block

STRIP_BYTES = 4 * 2**20
"""Largest intermediate one strip may hold: about what a phone big core's L2 and its share of L3 keep."""
MIN_STRIP_ROWS = 8
"""Fewest output rows per strip: a shorter strip recomputes more halo rows than it saves in memory traffic."""
MIN_STRIPS = 3
"""Fewest strips when tiling at all. With two, both strips touch the border and zero-pad the image rows they
read, and litert-torch's layout pass then keeps both slices in NCHW: two TRANSPOSEs of the input image."""


Geometry = tuple[int, int, int]
"""Vertical kernel size, stride and padding of one convolution."""


def _geometry(conv: Conv2dBN) -> Geometry:
    layer = conv.c
    return layer.kernel_size[0], layer.stride[0], layer.padding[0]


def _convs(sequence: nn.Sequential) -> list[Conv2dBN]:
    return [module for module in sequence if isinstance(module, Conv2dBN)]


def _output_size(geometry: Geometry, size: int) -> int:
    kernel, stride, padding = geometry
    return (size + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True)
class StripPlan:
    """One strip: the output rows it computes, the input rows it reads, for each unit of the chain (the stem,
    then each block) the zero rows each of its convolutions adds above and below, and, for a residual block,
    where its output rows sit in the rows the block received."""

    output: tuple[int, int]
    rows: tuple[int, int]
    pads: tuple[tuple[tuple[int, int], ...], ...]
    skips: tuple[tuple[int, int] | None, ...]


def _plan_strip(units: list[list[Geometry]], residual: list[bool], heights: list[int], first: int,
                stop: int) -> StripPlan:
    """Walk the chain backwards from output rows [first, stop): each conv needs the input rows its kernel
    covers; rows above 0 or below the map are the zero padding, added only there."""
    geometries = [geometry for unit in units for geometry in unit]
    needed = [(0, 0)] * (len(geometries) + 1)
    needed[-1] = (first, stop)
    pads: list[tuple[int, int]] = [(0, 0)] * len(geometries)
    for index in range(len(geometries) - 1, -1, -1):
        kernel, stride, padding = geometries[index]
        top, bottom = needed[index + 1][0] * stride - padding, (needed[index + 1][1] - 1) * stride - padding + kernel
        needed[index] = (max(top, 0), min(bottom, heights[index]))
        pads[index] = (max(0, -top), max(0, bottom - heights[index]))
    unit_pads, skips, position = [], [], 0
    for unit, has_skip in zip(units, residual, strict=True):
        unit_pads.append(tuple(pads[position:position + len(unit)]))
        start, (out_first, out_stop) = needed[position][0], needed[position + len(unit)]
        skips.append((out_first - start, out_stop - start) if has_skip else None)
        position += len(unit)
    return StripPlan((first, stop), needed[0], tuple(unit_pads), tuple(skips))


def _pad(x: torch.Tensor, rows: tuple[int, int], columns: int) -> torch.Tensor:
    """Zero rows above and below and ``columns`` zero columns on each side, as one pad: XNNPACK folds a pad
    into the convolution it feeds, but not a pad that feeds another pad (which a convolution's own padding
    becomes when it is not TFLite's SAME)."""
    return F.pad(x, (columns, columns, *rows)) if columns or any(rows) else x


class RowTiledBlock(nn.Module):
    """An ``InvertedResidual`` that runs on one strip: each convolution gets the zero rows the strip's plan
    gives it (only at the image border) and its own zero columns, in one pad, and the residual adds the input
    rows the output rows stand for.

    It holds the block's own ``conv`` sequence, so weights keep their names and profiles their module.
    """

    def __init__(self, block: InvertedResidual) -> None:
        super().__init__()
        self.conv = block.conv
        self.use_res_connect = block.use_res_connect
        self.column_pads = [conv.c.padding[1] for conv in _convs(block.conv)]

    def forward(self, x: torch.Tensor, pads: tuple[tuple[int, int], ...], skip: tuple[int, int] | None
                ) -> torch.Tensor:
        out, remaining = x, iter(zip(pads, self.column_pads, strict=True))
        for module in self.conv:
            if isinstance(module, Conv2dBN):
                out = _pad(out, *next(remaining))
            out = module(out)
        return out + x[:, :, skip[0]:skip[1]] if skip is not None else out


class RowTiledStem(nn.Module):
    """A ``StackedMV2Block`` whose stem and blocks through the first stride-2 one run in ``strips`` horizontal
    strips (the later blocks run as before).

    The children keep the stage's names (``stem_block``, ``layer1``, ...), so weights and profiles map as before.
    """

    def __init__(self, stage: StackedMV2Block, input_height: int, strips: int) -> None:
        super().__init__()
        self.stem_block = stage.stem_block
        self.layer_names = list(stage.layer_names)
        conv_units = _chain_units(stage)
        self.tiled_names = self.layer_names[:len(conv_units) - 1]
        for name in self.layer_names:
            block = getattr(stage, name)
            self.add_module(name, RowTiledBlock(block) if name in self.tiled_names else block)
        units = [[_geometry(conv) for conv in unit] for unit in conv_units]
        residual = [False] + [getattr(self, name).use_res_connect for name in self.tiled_names]
        heights = [input_height]
        for geometry in (geometry for unit in units for geometry in unit):
            heights.append(_output_size(geometry, heights[-1]))
        bounds = [round(index * heights[-1] / strips) for index in range(strips + 1)]
        self.plans = [_plan_strip(units, residual, heights, first, stop) for first, stop in itertools.pairwise(bounds)]
        # The strips add the zero rows at the image border. The blocks' convolutions get their zero columns in
        # the same pad; the stem keeps its own, since padding every image slice makes litert-torch's layout pass
        # keep the slices in NCHW (see MIN_STRIPS).
        stem_convs, *blocks = conv_units
        for conv in stem_convs:
            conv.c.padding = (0, conv.c.padding[1])
        for conv in (conv for unit in blocks for conv in unit):
            conv.c.padding = (0, 0)

    def _strip(self, x: torch.Tensor, plan: StripPlan) -> torch.Tensor:
        (stem_pads,), *block_pads = plan.pads
        out = _pad(x[:, :, plan.rows[0]:plan.rows[1]], stem_pads, 0)  # the stem's zero rows pad the image itself
        out = self.stem_block(out)
        for name, pads, skip in zip(self.tiled_names, block_pads, plan.skips[1:], strict=True):
            out = getattr(self, name)(out, pads, skip)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self._strip(x, plan) for plan in self.plans], dim=2)
        for name in self.layer_names[len(self.tiled_names):]:
            x = getattr(self, name)(x)
        return x


def _chain_units(stage: StackedMV2Block) -> list[list[Conv2dBN]]:
    """The convolutions the strips run, per unit: the stem's, then each block's up to and including the first
    stride-2 block."""
    units = [_convs(stage.stem_block)]
    for name in stage.layer_names:
        units.append(_convs(getattr(stage, name).conv))
        if any(_geometry(conv)[1] > 1 for conv in units[-1]):
            break
    return units


def strips_for(stage: StackedMV2Block, input_hw: tuple[int, int], activation_bytes: int = 4,
               strip_bytes: int = STRIP_BYTES) -> int:
    """How many strips keep each strip's largest intermediate of the tiled chain within ``strip_bytes``, with
    ``activation_bytes`` per element (1: the stage already fits, or its output is too short to split)."""
    height, width = input_hw
    largest = 0
    for conv in (conv for unit in _chain_units(stage) for conv in unit):
        layer = conv.c
        height = _output_size(_geometry(conv), height)
        width = _output_size((layer.kernel_size[1], layer.stride[1], layer.padding[1]), width)
        largest = max(largest, layer.out_channels * height * width * activation_bytes)
    if largest <= strip_bytes:
        return 1
    strips = min(max(math.ceil(largest / strip_bytes), MIN_STRIPS), height // MIN_STRIP_ROWS)
    return strips if strips >= MIN_STRIPS else 1


def tile_stem_rows(model: nn.Module, input_hw: tuple[int, int], activation_bytes: int = 4,
                   strip_bytes: int = STRIP_BYTES) -> nn.Module:
    """Replace the stem stage (``backbone.smb1``) of a deploy-ready model by its ``RowTiledStem`` when its
    intermediates exceed ``strip_bytes`` at ``input_hw`` and ``activation_bytes`` per element (4 float32,
    2 float16, 1 int8: an int8 stage moves a quarter of the bytes and may not need strips). In place; a tiled
    stage is left as it is."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, StackedMV2Block) and child.stem:
                strips = strips_for(child, input_hw, activation_bytes, strip_bytes)
                if strips > 1:
                    setattr(parent, name, RowTiledStem(child, input_hw[0], strips))
    return model

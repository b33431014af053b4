"""Bilinear resizing decomposed with int32 source indices, so litert-torch traces the model one time less.

litert-torch wraps each ``F.interpolate(mode="bilinear")`` in a composite that the TFLite converter turns into
one RESIZE_BILINEAR, but it first decomposes the composite's body with the rest of the graph. torch's own
decomposition builds the source rows and columns with an int64 ``arange``; litert-torch then rewrites every
int64 ``arange`` into a Python function that casts to int32, and a graph holding Python functions is retraced
by one more whole-graph ``run_decompositions`` before lowering. ``bilinear_resize`` computes the same values
from a floating ``arange`` with int32 indices, so there is nothing to rewrite and that pass is skipped. The
composite's body never reaches the TFLite file: the file is the same byte for byte.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
import torch._decomp

_BILINEAR = torch.ops.aten.upsample_bilinear2d.vec
_TORCH_BILINEAR = torch._decomp.get_decompositions([_BILINEAR])[_BILINEAR]


def _source_taps(
    in_size: int, out_size: int, align_corners: bool, scale: float | None, like: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The two input positions each output position reads along one axis (int32) and the weight of the second."""
    positions = torch.arange(out_size, dtype=like.dtype, device=like.device)
    if align_corners:
        positions = positions * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    else:
        step = 1.0 / scale if scale is not None and scale > 0 else in_size / out_size
        positions = ((positions + 0.5) * step - 0.5).clamp(min=0.0)
    low = positions.to(torch.int32)
    high = (low + 1).clamp(max=in_size - 1)
    return low, high, (positions - low).clamp(0.0, 1.0)


def bilinear_resize(
    input: torch.Tensor, output_size: Sequence[int] | None, align_corners: bool,
    scale_factors: Sequence[float] | None,
) -> torch.Tensor:
    """``aten.upsample_bilinear2d.vec`` on a float NCHW tensor, given an output size or scale factors, as torch
    decomposes it (same taps, same order of operations) but indexed in int32; integer tensors go to torch's
    decomposition."""
    if not input.is_floating_point():
        return _TORCH_BILINEAR(input, output_size, align_corners, scale_factors)
    if output_size is None:
        # As torch: the output size is the input size times the scale, rounded down, and the scale sets the step.
        scales: Sequence[float | None] = scale_factors
        output_size = [int(size * scale) for size, scale in zip(input.shape[2:], scale_factors, strict=True)]
    else:
        scales = (None, None)
    top, bottom, row_weight = _source_taps(input.shape[2], output_size[0], align_corners, scales[0], input)
    left, right, column_weight = _source_taps(input.shape[3], output_size[1], align_corners, scales[1], input)
    top, bottom, row_weight = top[:, None], bottom[:, None], row_weight[:, None]

    def tap(rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten.index.Tensor(input, [None, None, rows, columns])

    upper = tap(top, left) + (tap(top, right) - tap(top, left)) * column_weight
    lower = tap(bottom, left) + (tap(bottom, right) - tap(bottom, left)) * column_weight
    return upper + (lower - upper) * row_weight


@contextlib.contextmanager
def int32_bilinear_resize() -> Iterator[None]:
    """Within the block, litert-torch decomposes bilinear resizing with ``bilinear_resize``; the converter's
    own table is restored afterwards, so nothing outside the block changes."""
    from litert_torch.fx_infra import decomp

    previous = decomp.pre_lower_decomp()[_BILINEAR]
    decomp.add_pre_lower_decomp(_BILINEAR, bilinear_resize)
    try:
        yield
    finally:
        decomp.add_pre_lower_decomp(_BILINEAR, previous)

"""Parameter and multiply-accumulate counts, with the conventions of the paper's numbers.

The SeaFormer authors count FLOPs with fvcore (see the official backbone's ``__main__``), where one FLOP is one
multiply-accumulate and, besides convolutions and matrix products, eval-mode BatchNorm costs two per element,
bilinear upsampling four per output element and adaptive average pooling one per input element. Element-wise
ops are free. ``count_macs`` applies the same rules to the ATen ops the model really dispatches, so it stays
true when the model changes (for example after BatchNorm folding, whose MACs it no longer counts).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def _conv_macs(args: Sequence[object], out: torch.Tensor) -> int:
    weight = args[1]
    assert isinstance(weight, torch.Tensor)
    return out.numel() * math.prod(weight.shape[1:])


def _mm_macs(args: Sequence[object], out: torch.Tensor) -> int:
    first = args[0]
    assert isinstance(first, torch.Tensor)
    return out.numel() * first.shape[-1]


def _addmm_macs(args: Sequence[object], out: torch.Tensor) -> int:
    return _mm_macs(args[1:], out)


def _batch_norm_macs(args: Sequence[object], out: torch.Tensor) -> int:
    return 2 * out.numel()


def _upsample_macs(args: Sequence[object], out: torch.Tensor) -> int:
    return 4 * out.numel()


def _pool_macs(args: Sequence[object], out: torch.Tensor) -> int:
    first = args[0]
    assert isinstance(first, torch.Tensor)
    return first.numel()


_RULES: dict[object, Callable[[Sequence[object], torch.Tensor], int]] = {
    aten.convolution: _conv_macs,
    aten.mm: _mm_macs,
    aten.bmm: _mm_macs,
    aten.addmm: _addmm_macs,
    aten.native_batch_norm: _batch_norm_macs,
    aten._native_batch_norm_legit_no_training: _batch_norm_macs,
    aten.upsample_bilinear2d: _upsample_macs,
    aten._adaptive_avg_pool2d: _pool_macs,
}


class _MacCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.by_op: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        rule = _RULES.get(func.overloadpacket)
        if rule is not None:
            first_out = out[0] if isinstance(out, tuple) else out
            self.by_op[func.overloadpacket.__name__] += rule(args, first_out)
        return out


def count_params(model: nn.Module) -> int:
    """Number of learnable parameters."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_hw: tuple[int, int]) -> dict[str, int]:
    """Multiply-accumulates of one forward pass at ``input_hw``, per op kind and in ``total``."""
    was_training = model.training
    model.eval()
    counter = _MacCounter()
    try:
        with torch.no_grad(), counter:
            model(torch.zeros(1, 3, *input_hw))
    finally:
        model.train(was_training)
    return {**dict(counter.by_op), "total": sum(counter.by_op.values())}

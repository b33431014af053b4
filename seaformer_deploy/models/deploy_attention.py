"""Squeeze-axial attention in a channels-last form: the same arithmetic without a single layout permute.

Converters to TFLite (litert-torch) run the network in NHWC and insert a TRANSPOSE wherever an op needs the
NCHW order PyTorch wrote it in. The reference ``SeaAttention`` reshapes its squeezed (B, C, L) tensors into
(B, heads, d, L) and permutes them around each matmul, so every block costs a dozen TRANSPOSE ops (and as many
RESHAPEs). ``ChannelsLastSeaAttention`` computes the same function in the order the converted graph stores
tensors:

- q, k and v come out of one 1x1 convolution whose weights are ``to_q``'s, ``to_k``'s and ``to_v``'s stacked
  (the detail branch needs their concatenation anyway; one wider GEMM reads the input once and needs no
  CONCATENATION), and each axis is squeezed by one MEAN over the other spatial axis of it, giving (B, L, C)
  with channels last;
- the heads are folded into the batch dimension with constant per-head channel masks instead of a reshape
  and permute: ``q * mask_h`` keeps only head h's channels, so ``(q * mask_h) @ k^T`` is head h's score
  matrix, and ``sum_h softmax_h @ (v * mask_h)`` puts every head's output back in its own channels;
- the outputs go back to 4-D as (B, C, L, 1) / (B, C, 1, L) for the projection convolutions.

The masks are exact zeros and ones (the key scale rides on the query mask), so the result equals the
reference up to float rounding; the extra multiply-adds on masked-out channels are a few hundred thousand per
block, negligible next to the convolutions. The other weights are shared with the reference module, never
changed, and those submodules keep their names so per-layer profiles still map to ``proj_encode_row``, ...
"""

from __future__ import annotations

import torch
from torch import nn

from seaformer_deploy.errors import UsageError
from seaformer_deploy.models.seaformer import SeaAttention

_REUSED_SUBMODULES = ("dwconv", "act", "pwconv", "proj", "proj_encode_row", "proj_encode_column", "sigmoid")


def _stacked_pointwise(*convs: nn.Module) -> nn.Conv2d:
    """One 1x1 convolution computing ``torch.cat([conv(x) for conv in convs], dim=1)`` (BatchNorm folded): the
    input is read once and the GEMM is wider, and no CONCATENATION is needed."""
    layers = [conv.c for conv in convs]
    if any(layer.bias is None for layer in layers):
        raise UsageError("fold the BatchNorms before the channels-last rewrite")
    stacked = nn.Conv2d(layers[0].in_channels, sum(layer.out_channels for layer in layers), 1)
    stacked.weight.data = torch.cat([layer.weight.detach() for layer in layers])
    stacked.bias.data = torch.cat([layer.bias.detach() for layer in layers])
    return stacked


def _head_masks(channels: int, heads: int, dtype: torch.dtype) -> torch.Tensor:
    """(1, heads, 1, channels): row h is 1 on head h's contiguous block of channels, 0 elsewhere."""
    head_of_channel = torch.arange(channels) // (channels // heads)
    masks = head_of_channel[None, :] == torch.arange(heads)[:, None]
    return masks.to(dtype)[None, :, None, :]


def _channels_last_embedding(module: nn.Module) -> torch.Tensor:
    """A baked positional embedding (1, C, L) as (L, C)."""
    pos_embed = getattr(module, "pos_embed", None)
    if not isinstance(pos_embed, torch.Tensor) or isinstance(pos_embed, nn.Parameter):
        raise UsageError("bake the positional embeddings for a fixed input size before the channels-last rewrite")
    return pos_embed[0].transpose(0, 1)


class ChannelsLastSeaAttention(nn.Module):
    """``SeaAttention`` (BatchNorm folded, positional embeddings baked) computed without layout permutes."""

    def __init__(self, reference: SeaAttention) -> None:
        super().__init__()
        for name in _REUSED_SUBMODULES:
            self.add_module(name, getattr(reference, name))
        self.num_heads = reference.num_heads
        self.qk_channels = reference.to_q.c.out_channels
        self.value_channels = reference.value_channels
        dtype = reference.to_q.c.weight.dtype
        self.register_buffer("query_masks", _head_masks(self.qk_channels, self.num_heads, dtype) * reference.scale)
        self.register_buffer("key_masks", _head_masks(self.qk_channels, self.num_heads, dtype))
        self.register_buffer("value_masks", _head_masks(self.value_channels, self.num_heads, dtype))
        # One embedding per axis over the concatenated q|k|v channels (zero on v, which has none).
        for axis, pos_q, pos_k in (
            ("row", reference.pos_emb_rowq, reference.pos_emb_rowk),
            ("column", reference.pos_emb_columnq, reference.pos_emb_columnk),
        ):
            q_embed, k_embed = _channels_last_embedding(pos_q), _channels_last_embedding(pos_k)
            v_zeros = q_embed.new_zeros(q_embed.shape[0], self.value_channels)
            self.register_buffer(f"{axis}_embedding", torch.cat([q_embed, k_embed, v_zeros], dim=1)[None].clone())
        self.to_qkv = _stacked_pointwise(reference.to_q, reference.to_k, reference.to_v)

    def _attend(self, squeezed: torch.Tensor) -> torch.Tensor:
        """Multi-head attention along one squeezed axis: (B, L, Cq + Cq + Cv) -> (B, L, Cv)."""
        batch, length, _ = squeezed.shape
        heads, qk, value = self.num_heads, self.qk_channels, self.value_channels
        q, k, v = squeezed[..., :qk], squeezed[..., qk:2 * qk], squeezed[..., 2 * qk:]
        q = (q.unsqueeze(1) * self.query_masks).reshape(batch * heads, length, qk)
        k = (k.unsqueeze(1) * self.key_masks).reshape(batch * heads, length, qk)
        v = (v.unsqueeze(1) * self.value_masks).reshape(batch * heads, length, value)
        # bmm, not matmul: matmul traces as expand + view + bmm + view, and litert-torch re-traces the graph in
        # four decomposition passes, so the extra nodes cost conversion time (8% of B's export calls).
        weights = torch.bmm(q, k.transpose(1, 2)).softmax(dim=-1)
        heads_out = torch.bmm(weights, v).reshape(batch, heads, length * value)
        return heads_out.sum(dim=1).reshape(batch, length, value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        baked = (self.row_embedding.shape[1], self.column_embedding.shape[1])
        if (height, width) != baked:
            raise UsageError(
                f"positional embeddings baked for a {baked[0]}x{baked[1]} feature map, got {height}x{width}: "
                "deploy the model again for this input size"
            )
        qkv = self.to_qkv(x)
        v = qkv[:, 2 * self.qk_channels:]
        detail = self.pwconv(self.act(self.dwconv(qkv)))

        rows = qkv.mean(dim=3, keepdim=True).permute(0, 2, 3, 1).reshape(batch, height, -1)
        columns = qkv.mean(dim=2, keepdim=True).permute(0, 2, 3, 1).reshape(batch, width, -1)
        row = self._attend(rows + self.row_embedding).reshape(batch, height, 1, self.value_channels)
        column = self._attend(columns + self.column_embedding).reshape(batch, 1, width, self.value_channels)
        row = self.proj_encode_row(row.permute(0, 3, 1, 2))
        column = self.proj_encode_column(column.permute(0, 3, 1, 2))

        global_context = self.proj(v.add(row.add(column)))
        return self.sigmoid(global_context) * detail


def rewrite_attention_channels_last(model: nn.Module) -> nn.Module:
    """Replace every ``SeaAttention`` of a deploy-ready model by its ``ChannelsLastSeaAttention`` (in place)."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, SeaAttention):
                setattr(parent, name, ChannelsLastSeaAttention(child))
    return model

"""SeaFormer backbone: squeeze-enhanced axial transformer for mobile semantic segmentation.

Paper: "SeaFormer: Squeeze-enhanced Axial Transformer for Mobile Semantic Segmentation" (ICLR 2023) and
"SeaFormer++" (arXiv 2301.13156). Official code: https://github.com/fudan-zvg/SeaFormer. This is an independent
implementation whose parameter names and shapes equal the official checkpoints' so they load strictly.

The file reads top-down like the paper: positional embedding -> squeeze-enhanced axial attention -> MLP ->
transformer block -> MobileNetV2 stages -> backbone. Architecture numbers live only in ``variants.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from seaformer_deploy.models.layers import Conv2dBN, DropPath, HSigmoid, InvertedResidual, make_divisible

MV2Config = Sequence[tuple[int, int, int, int]]
"""One MobileNetV2 stage: rows of (kernel size, expansion ratio, output channels, stride)."""


class SqueezeAxialPositionalEmbedding(nn.Module):
    """Learned 1-D positional embedding for a squeezed axis, stored at length 16 and resampled linearly.

    The resampling depends only on the feature size, so deployment precomputes it (see ``deploy.py``).
    """

    def __init__(self, dim: int, length: int = 16) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.randn(1, dim, length))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.interpolate(self.pos_embed, size=x.shape[-1], mode="linear", align_corners=False)


class SeaAttention(nn.Module):
    """Squeeze-enhanced axial attention: global row/column attention on squeezed axes plus a detail branch.

    Args:
        dim: input and output channels.
        key_dim: channels per head for queries and keys.
        num_heads: attention heads.
        attn_ratio: value channels per head relative to ``key_dim``.
        act_layer: activation used in the projections and the detail-enhancement branch.
    """

    def __init__(
        self,
        dim: int,
        key_dim: int,
        num_heads: int,
        attn_ratio: float = 2.0,
        act_layer: type[nn.Module] = nn.ReLU6,
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = key_dim**-0.5
        qk_channels = key_dim * num_heads
        self.value_channels = v_channels = int(attn_ratio * key_dim) * num_heads

        self.to_q = Conv2dBN(dim, qk_channels)
        self.to_k = Conv2dBN(dim, qk_channels)
        self.to_v = Conv2dBN(dim, v_channels)

        self.proj = nn.Sequential(act_layer(), Conv2dBN(v_channels, dim, bn_weight_init=0.0))
        self.proj_encode_row = nn.Sequential(act_layer(), Conv2dBN(v_channels, v_channels, bn_weight_init=0.0))
        self.pos_emb_rowq = SqueezeAxialPositionalEmbedding(qk_channels)
        self.pos_emb_rowk = SqueezeAxialPositionalEmbedding(qk_channels)
        self.proj_encode_column = nn.Sequential(act_layer(), Conv2dBN(v_channels, v_channels, bn_weight_init=0.0))
        self.pos_emb_columnq = SqueezeAxialPositionalEmbedding(qk_channels)
        self.pos_emb_columnk = SqueezeAxialPositionalEmbedding(qk_channels)

        # Detail enhancement: depthwise 3x3 over the concatenated q, k, v, then a pointwise projection.
        qkv_channels = 2 * qk_channels + v_channels
        self.dwconv = Conv2dBN(qkv_channels, qkv_channels, 3, 1, 1, groups=qkv_channels)
        self.act = act_layer()
        self.pwconv = Conv2dBN(qkv_channels, dim)
        self.sigmoid = HSigmoid()

    def _axial_attention(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        pos_q: SqueezeAxialPositionalEmbedding,
        pos_k: SqueezeAxialPositionalEmbedding,
    ) -> torch.Tensor:
        """Multi-head attention along one squeezed axis; inputs are (B, C, L), the result (B, C_v, L)."""
        batch, _, length = q.shape
        q = pos_q(q).reshape(batch, self.num_heads, -1, length).permute(0, 1, 3, 2)
        k = pos_k(k).reshape(batch, self.num_heads, -1, length)
        v = v.reshape(batch, self.num_heads, -1, length).permute(0, 1, 3, 2)
        attn = (torch.matmul(q, k) * self.scale).softmax(dim=-1)
        return torch.matmul(attn, v).permute(0, 1, 3, 2).reshape(batch, self.value_channels, length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        q, k, v = self.to_q(x), self.to_k(x), self.to_v(x)

        detail = self.pwconv(self.act(self.dwconv(torch.cat([q, k, v], dim=1))))

        # Squeeze each axis by averaging over the other one, attend along it, broadcast back.
        row = self._axial_attention(q.mean(-1), k.mean(-1), v.mean(-1), self.pos_emb_rowq, self.pos_emb_rowk)
        row = self.proj_encode_row(row.reshape(batch, self.value_channels, height, 1))
        column = self._axial_attention(
            q.mean(-2), k.mean(-2), v.mean(-2), self.pos_emb_columnq, self.pos_emb_columnk
        )
        column = self.proj_encode_column(column.reshape(batch, self.value_channels, 1, width))

        global_context = self.proj(v.add(row.add(column)))
        return self.sigmoid(global_context) * detail


class Mlp(nn.Module):
    """Convolutional feed-forward: 1x1 expand, 3x3 depthwise (with bias), activation, 1x1 project."""

    def __init__(self, dim: int, hidden: int, act_layer: type[nn.Module] = nn.ReLU6, drop: float = 0.0) -> None:
        super().__init__()
        self.fc1 = Conv2dBN(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden, bias=True)
        self.act = act_layer()
        self.fc2 = Conv2dBN(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(self.dwconv(self.fc1(x))))
        return self.drop(self.fc2(x))


class Block(nn.Module):
    """SeaFormer transformer block: residual SeaAttention then residual Mlp, each with stochastic depth."""

    def __init__(
        self,
        dim: int,
        key_dim: int,
        num_heads: int,
        mlp_ratio: float,
        attn_ratio: float = 2.0,
        drop_path: float = 0.0,
        act_layer: type[nn.Module] = nn.ReLU6,
    ) -> None:
        super().__init__()
        self.attn = SeaAttention(dim, key_dim, num_heads, attn_ratio, act_layer)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(x))
        return x + self.drop_path(self.mlp(x))


class BasicLayer(nn.Module):
    """A stage of ``depth`` transformer blocks with linearly increasing drop-path rates."""

    def __init__(
        self,
        depth: int,
        dim: int,
        key_dim: int,
        num_heads: int,
        mlp_ratio: float,
        attn_ratio: float,
        drop_path_rate: float,
        act_layer: type[nn.Module] = nn.ReLU6,
    ) -> None:
        super().__init__()
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.transformer_blocks = nn.ModuleList(
            Block(dim, key_dim, num_heads, mlp_ratio, attn_ratio, rate, act_layer) for rate in rates
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.transformer_blocks:
            x = block(x)
        return x


class StackedMV2Block(nn.Module):
    """A MobileNetV2 stage (``layer1``, ``layer2``, ...); the first stage also owns the stride-2 stem."""

    def __init__(
        self,
        cfg: MV2Config,
        in_channels: int,
        stem: bool,
        act_layer: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        self.stem = stem
        if stem:
            self.stem_block = nn.Sequential(Conv2dBN(3, in_channels, 3, 2, 1), act_layer())
        self.layer_names: list[str] = []
        for index, (kernel, expand, channels, stride) in enumerate(cfg):
            out_channels = make_divisible(channels, 8)
            name = f"layer{index + 1}"
            self.add_module(name, InvertedResidual(in_channels, out_channels, kernel, stride, expand, act_layer))
            self.layer_names.append(name)
            in_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stem:
            x = self.stem_block(x)
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x


class SeaFormer(nn.Module):
    """SeaFormer backbone: five MobileNetV2 stages, the last ``len(depths)`` each followed by a transformer stage.

    ``forward`` returns the feature maps the segmentation head consumes: the 1/8 output of ``smb2`` followed by
    the output of every transformer stage (1/32 and 1/64 for T/S/B; 1/16, 1/32 and 1/64 for L).

    Args:
        mv2_cfgs: one ``MV2Config`` per MobileNetV2 stage (five).
        channels: input channels of each stage, then the last stage's output channels.
        emb_dims: channels of each transformer stage (equal to the preceding MV2 stage's output).
        key_dims: per-head query/key channels of each transformer stage.
        depths: blocks per transformer stage.
        num_heads: attention heads.
        mlp_ratios: MLP expansion of each transformer stage.
        attn_ratio: value/key channel ratio.
        drop_path_rate: maximum stochastic-depth rate.
        act_layer: activation inside the transformer stages (the MV2 stages use ReLU, as officially).
    """

    def __init__(
        self,
        mv2_cfgs: Sequence[MV2Config],
        channels: Sequence[int],
        emb_dims: Sequence[int],
        key_dims: Sequence[int],
        depths: Sequence[int],
        num_heads: int,
        mlp_ratios: Sequence[float],
        attn_ratio: float = 2.0,
        drop_path_rate: float = 0.1,
        act_layer: type[nn.Module] = nn.ReLU6,
    ) -> None:
        super().__init__()
        self.num_mv2_stages = len(mv2_cfgs)
        self.num_trans_stages = len(depths)
        self.out_channels = channels[-1]
        for index, cfg in enumerate(mv2_cfgs):
            setattr(self, f"smb{index + 1}", StackedMV2Block(cfg, channels[index], stem=index == 0))
        for index, depth in enumerate(depths):
            stage = BasicLayer(
                depth, emb_dims[index], key_dims[index], num_heads, mlp_ratios[index], attn_ratio,
                drop_path_rate, act_layer,
            )
            setattr(self, f"trans{index + 1}", stage)

    def transformer_stage_after(self, mv2_index: int) -> nn.Module | None:
        """The transformer stage that follows MV2 stage ``mv2_index`` (0-based), if any."""
        trans_index = mv2_index - (self.num_mv2_stages - self.num_trans_stages)
        return getattr(self, f"trans{trans_index + 1}") if trans_index >= 0 else None

    def forward_stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Run all stages; return the 1/8 feature and the output of each transformer stage."""
        features = []
        for index in range(self.num_mv2_stages):
            x = getattr(self, f"smb{index + 1}")(x)
            if index == 1:
                features.append(x)
            stage = self.transformer_stage_after(index)
            if stage is not None:
                x = stage(x)
                features.append(x)
        return features

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.forward_stages(x)

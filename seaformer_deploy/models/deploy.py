"""Deploy transforms: turn a trained SeaFormer into the fixed-size graph an exporter should see.

Each transform is idempotent, keeps module paths (so per-layer profiles map back to the model) and is
numerically equivalent to the unmodified eval-mode model:
- ``strip_dropout``: Dropout / Dropout2d / DropPath become Identity;
- ``fold_batchnorm``: every BatchNorm is folded into the convolution before it;
- ``bake_positional_embeddings``: the squeeze-axial embeddings are resampled once for a fixed input size, so no
  interpolation of constants is left at run time;
- ``rewrite_attention_channels_last``: the squeeze-axial attention computed without layout permutes
  (``deploy_attention.py``), so the NHWC graph of a converter needs no TRANSPOSE for it;
- ``tile_stem_rows``: the high-resolution stem stage computed in horizontal strips whose intermediates stay in
  cache (``deploy_tiling.py``), when its tensors are larger than that at the deploy size;
- ``DeployModel``: fixes input layout and output mode (``logits`` at 1/8, ``upsampled`` bilinear to the input
  size as mmseg evaluates, or ``labels``, the integer class map at the input size computed by one of the
  ``label_maps`` methods).
"""

from __future__ import annotations

import re
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from seaformer_deploy.errors import UsageError
from seaformer_deploy.models.deploy_attention import rewrite_attention_channels_last
from seaformer_deploy.models.deploy_tiling import tile_stem_rows
from seaformer_deploy.models.label_maps import LabelMap
from seaformer_deploy.models.label_methods import DEFAULT_LABELS_METHOD, LabelsMethod, check_labels_method
from seaformer_deploy.models.layers import Conv2dBN, ConvModule, DropPath
from seaformer_deploy.models.seaformer import SqueezeAxialPositionalEmbedding

OutputMode = Literal["logits", "upsampled", "labels"]
Layout = Literal["nchw", "nhwc"]
AttentionForm = Literal["channels-last", "reference"]
OUTPUT_MODES: tuple[str, ...] = ("logits", "upsampled", "labels")
LAYOUTS: tuple[str, ...] = ("nchw", "nhwc")
ATTENTION_FORMS: tuple[str, ...] = ("channels-last", "reference")
SIZE_MULTIPLE = {"seg": 64, "cls": 32}
DEFAULT_SIZE = {"seg": (512, 512), "cls": (224, 224)}


def parse_input_size(text: str | int | tuple[int, int], task: str = "seg") -> tuple[int, int]:
    """Parse ``512`` or ``512x1024`` (H x W) and check it suits the network.

    Segmentation sizes must be multiples of 64 (the backbone's total stride), so every feature map aligns with
    the 1/8 head; classification sizes multiples of 32 (224 is the ImageNet size).
    """
    if isinstance(text, tuple):
        height, width = text
    else:
        match = re.fullmatch(r"\s*(\d+)\s*(?:[xX*,]\s*(\d+))?\s*", str(text))
        if not match:
            raise UsageError(f"bad input size {text!r}: use N or HxW, e.g. 512 or 512x1024")
        height = int(match.group(1))
        width = int(match.group(2) or height)
    multiple = SIZE_MULTIPLE[task]
    if height <= 0 or width <= 0 or height % multiple or width % multiple:
        raise UsageError(f"bad input size {height}x{width}: both sides must be positive multiples of {multiple}")
    return height, width


def strip_dropout(model: nn.Module) -> nn.Module:
    """Replace every Dropout, Dropout2d and DropPath by Identity (they are identities in eval mode)."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, (nn.Dropout, nn.Dropout2d, DropPath)):
                setattr(parent, name, nn.Identity())
    return model


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold each BatchNorm into its convolution (``c``/``conv`` gains a bias, ``bn`` becomes Identity)."""
    model.eval()
    for module in model.modules():
        if isinstance(module, Conv2dBN) and isinstance(module.bn, nn.BatchNorm2d):
            module.c = fuse_conv_bn_eval(module.c, module.bn)
            module.bn = nn.Identity()
        elif isinstance(module, ConvModule) and isinstance(module.bn, nn.BatchNorm2d):
            module.conv = fuse_conv_bn_eval(module.conv, module.bn)
            module.bn = nn.Identity()
    return model


class BakedPositionalEmbedding(nn.Module):
    """A squeeze-axial positional embedding already resampled to one feature length."""

    def __init__(self, pos_embed: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("pos_embed", pos_embed.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.pos_embed.shape[-1]:
            raise UsageError(
                f"positional embedding baked for length {self.pos_embed.shape[-1]}, got {x.shape[-1]}: "
                "deploy the model again for this input size"
            )
        return x + self.pos_embed


def bake_positional_embeddings(model: nn.Module, input_hw: tuple[int, int]) -> nn.Module:
    """Precompute every positional-embedding resampling for inputs of size ``input_hw``."""
    lengths: dict[SqueezeAxialPositionalEmbedding, int] = {}
    hooks = [
        module.register_forward_pre_hook(lambda mod, args: lengths.__setitem__(mod, args[0].shape[-1]))
        for module in model.modules()
        if isinstance(module, SqueezeAxialPositionalEmbedding)
    ]
    if not hooks:
        return model
    dtype = next(model.parameters()).dtype
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, *input_hw, dtype=dtype))
    finally:
        for hook in hooks:
            hook.remove()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, SqueezeAxialPositionalEmbedding):
                with torch.no_grad():
                    resampled = F.interpolate(child.pos_embed, size=lengths[child], mode="linear", align_corners=False)
                setattr(parent, name, BakedPositionalEmbedding(resampled))
    return model


class DeployModel(nn.Module):
    """A deploy-ready SeaFormer with a fixed input size, input layout and output mode.

    The wrapped network is reachable as ``model`` so module paths read ``model.backbone.smb1...``.
    """

    def __init__(
        self,
        model: nn.Module,
        input_hw: tuple[int, int],
        *,
        output_mode: OutputMode = "logits",
        layout: Layout = "nchw",
        labels_method: LabelsMethod = DEFAULT_LABELS_METHOD,
    ) -> None:
        super().__init__()
        if output_mode not in OUTPUT_MODES:
            raise UsageError(f"unknown output mode {output_mode!r}: choose one of {', '.join(OUTPUT_MODES)}")
        if layout not in LAYOUTS:
            raise UsageError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
        task = getattr(model, "task", "seg")
        if task == "cls" and output_mode != "logits":
            raise UsageError(f"output mode {output_mode!r} applies to segmentation; classification gives logits")
        self.model = model
        self.task = task
        self.input_hw = input_hw
        self.output_mode = output_mode
        self.layout = layout
        self.labels_method = check_labels_method(labels_method)
        if output_mode == "labels":
            # Named so per-op profiles attribute the label map's ops to post-processing.
            self.postprocess = LabelMap(input_hw, labels_method)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.layout == "nhwc":
            x = x.permute(0, 3, 1, 2)
        out = self.model(x)
        if self.task == "cls":
            return out
        if self.output_mode == "labels":
            return self.postprocess(out)
        if self.output_mode == "upsampled":
            out = F.interpolate(out, size=self.input_hw, mode="bilinear", align_corners=False)
        return out.permute(0, 2, 3, 1) if self.layout == "nhwc" else out

    def example_input(self, seed: int = 0) -> torch.Tensor:
        """A normalized-image-like random input in this model's layout."""
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(1, 3, *self.input_hw, generator=generator)
        return x.permute(0, 2, 3, 1).contiguous() if self.layout == "nhwc" else x


def prepare_for_deploy(
    model: nn.Module,
    input_size: str | int | tuple[int, int] | None = None,
    *,
    output_mode: OutputMode = "logits",
    layout: Layout = "nchw",
    attention: AttentionForm = "channels-last",
    labels_method: LabelsMethod = DEFAULT_LABELS_METHOD,
    activation_bytes: int = 4,
    row_strips: bool = True,
) -> DeployModel:
    """Apply every deploy transform to ``model`` (in place) and wrap it for a fixed input size.

    ``attention="reference"`` keeps the squeeze-axial attention as the official code writes it (for
    measuring what the channels-last rewrite gains). ``activation_bytes`` is the size of one activation at run
    time (4 float32, 2 float16, 1 int8); it decides how many strips the stem stage needs, and
    ``row_strips=False`` leaves the stage whole.
    """
    if attention not in ATTENTION_FORMS:
        raise UsageError(f"unknown attention form {attention!r}: choose one of {', '.join(ATTENTION_FORMS)}")
    task = getattr(model, "task", "seg")
    input_hw = parse_input_size(input_size if input_size is not None else DEFAULT_SIZE[task], task)
    model.eval()
    strip_dropout(model)
    fold_batchnorm(model)
    bake_positional_embeddings(model, input_hw)
    if attention == "channels-last":
        rewrite_attention_channels_last(model)
    if row_strips:
        tile_stem_rows(model, input_hw, activation_bytes)
    return DeployModel(model, input_hw, output_mode=output_mode, layout=layout, labels_method=labels_method).eval()

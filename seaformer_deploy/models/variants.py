"""The SeaFormer variants T, S, B and L: every architecture number lives here, once.

Numbers are those of the official configs (``seaformer-seg/local_configs/seaformer/seaformer_*.py`` and
``seaformer-cls/seaformer.py``). L differs in shape: three transformer stages and a four-input head.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from seaformer_deploy.errors import UsageError
from seaformer_deploy.models.seaformer import MV2Config

VARIANTS = ("T", "S", "B", "L")
TASKS = ("seg", "cls")
ADE20K_CLASSES = 150
IMAGENET_CLASSES = 1000


@dataclass(frozen=True)
class VariantConfig:
    """Backbone and head hyper-parameters of one SeaFormer variant."""

    name: str
    mv2_cfgs: tuple[MV2Config, ...]
    channels: tuple[int, ...]
    emb_dims: tuple[int, ...]
    key_dims: tuple[int, ...]
    depths: tuple[int, ...]
    num_heads: int
    head_channels: int
    head_embed_dims: tuple[int, ...]
    mlp_ratios: tuple[float, ...] = (2, 4)
    attn_ratio: float = 2.0
    drop_path_rate: float = 0.1
    paper: dict[str, float] = field(default_factory=dict)

    @property
    def head_in_channels(self) -> tuple[int, ...]:
        """The 1/8 feature (output of ``smb2``) followed by every transformer stage's output."""
        return (self.channels[2], *self.emb_dims)

    def backbone_kwargs(self) -> dict[str, object]:
        return {
            "mv2_cfgs": self.mv2_cfgs,
            "channels": self.channels,
            "emb_dims": self.emb_dims,
            "key_dims": self.key_dims,
            "depths": self.depths,
            "num_heads": self.num_heads,
            "mlp_ratios": self.mlp_ratios,
            "attn_ratio": self.attn_ratio,
            "drop_path_rate": self.drop_path_rate,
        }


def seaformer_t() -> VariantConfig:
    return VariantConfig(
        name="T",
        mv2_cfgs=(
            ((3, 1, 16, 1), (3, 4, 16, 2), (3, 3, 16, 1)),
            ((5, 3, 32, 2), (5, 3, 32, 1)),
            ((3, 3, 64, 2), (3, 3, 64, 1)),
            ((5, 3, 128, 2),),
            ((3, 6, 160, 2),),
        ),
        channels=(16, 16, 32, 64, 128, 160),
        emb_dims=(128, 160),
        key_dims=(16, 24),
        depths=(2, 2),
        num_heads=4,
        head_channels=96,
        head_embed_dims=(64, 96),
        paper={"seg_params_m": 1.7, "seg_gmacs_512": 0.6, "cls_params_m": 1.8, "miou": 35.0, "sd865_ms": 40},
    )


def seaformer_s() -> VariantConfig:
    return VariantConfig(
        name="S",
        mv2_cfgs=(
            ((3, 1, 16, 1), (3, 4, 24, 2), (3, 3, 24, 1)),
            ((5, 3, 48, 2), (5, 3, 48, 1)),
            ((3, 3, 96, 2), (3, 3, 96, 1)),
            ((5, 4, 160, 2),),
            ((3, 6, 192, 2),),
        ),
        channels=(16, 24, 48, 96, 160, 192),
        emb_dims=(160, 192),
        key_dims=(16, 24),
        depths=(3, 3),
        num_heads=6,
        head_channels=128,
        head_embed_dims=(96, 128),
        paper={"seg_params_m": 4.0, "seg_gmacs_512": 1.1, "cls_params_m": 4.1, "miou": 38.1, "sd865_ms": 67},
    )


def seaformer_b() -> VariantConfig:
    return VariantConfig(
        name="B",
        mv2_cfgs=(
            ((3, 1, 16, 1), (3, 4, 32, 2), (3, 3, 32, 1)),
            ((5, 3, 64, 2), (5, 3, 64, 1)),
            ((3, 3, 128, 2), (3, 3, 128, 1)),
            ((5, 4, 192, 2),),
            ((3, 6, 256, 2),),
        ),
        channels=(16, 32, 64, 128, 192, 256),
        emb_dims=(192, 256),
        key_dims=(16, 24),
        depths=(4, 4),
        num_heads=8,
        head_channels=160,
        head_embed_dims=(128, 160),
        paper={"seg_params_m": 8.6, "seg_gmacs_512": 1.8, "cls_params_m": 8.7, "miou": 40.2, "sd865_ms": 106},
    )


def seaformer_l() -> VariantConfig:
    return VariantConfig(
        name="L",
        mv2_cfgs=(
            ((3, 3, 32, 1), (3, 4, 64, 2), (3, 4, 64, 1)),
            ((5, 4, 128, 2), (5, 4, 128, 1)),
            ((3, 4, 192, 2), (3, 4, 192, 1)),
            ((5, 4, 256, 2),),
            ((3, 6, 320, 2),),
        ),
        channels=(32, 64, 128, 192, 256, 320),
        emb_dims=(192, 256, 320),
        key_dims=(16, 20, 24),
        depths=(3, 3, 3),
        num_heads=8,
        mlp_ratios=(2, 4, 6),
        head_channels=192,
        head_embed_dims=(128, 160, 192),
        paper={"seg_params_m": 14.0, "seg_gmacs_512": 6.5, "cls_params_m": 14.0, "miou": 42.7, "sd865_ms": 367},
    )


_VARIANT_FACTORIES: dict[str, Callable[[], VariantConfig]] = {
    "T": seaformer_t,
    "S": seaformer_s,
    "B": seaformer_b,
    "L": seaformer_l,
}


def normalize_variant(variant: str) -> str:
    """Return the canonical variant letter; accept any case and the long names (tiny, small, base, large)."""
    key = str(variant).strip().upper()
    key = {"TINY": "T", "SMALL": "S", "BASE": "B", "LARGE": "L"}.get(key, key)
    if key not in _VARIANT_FACTORIES:
        raise UsageError(f"unknown variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    return key


def normalize_task(task: str) -> str:
    """Return the canonical task name (``seg`` or ``cls``)."""
    key = str(task).strip().lower()
    if key not in TASKS:
        raise UsageError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    return key


def variant_config(variant: str) -> VariantConfig:
    """The ``VariantConfig`` of ``variant`` (T, S, B or L, case-insensitive)."""
    return _VARIANT_FACTORIES[normalize_variant(variant)]()

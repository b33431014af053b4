"""Reading official SeaFormer checkpoints and loading them strictly, with one clear error on mismatch.

Layouts understood:
- mmseg segmentation files: ``{"meta": ..., "state_dict": {"backbone.*", "decode_head.*"}}``;
- timm classification files: ``state_dict_ema`` (preferred, as the official code does), ``state_dict`` or
  ``model``;
- plain state dicts, with or without a ``module.`` (DataParallel) prefix;
- ``.pth`` / ``.pt`` / ``.bin`` (torch pickle, read with ``weights_only=True`` unless trusted) and
  ``.safetensors``.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from seaformer_deploy.errors import UsageError, first_line
from seaformer_deploy.fileio import sha256_file
from seaformer_deploy.model_facts import WeightSource
from seaformer_deploy.weights.provenance import CheckpointInfo

_WRAPPER_KEYS = ("state_dict_ema", "state_dict", "model")
_SEG_PREFIXES = ("backbone.", "decode_head.")
_SHOWN_KEYS = 4


def read_checkpoint_file(path: str | Path, *, trust: bool = False) -> object:
    """Load a checkpoint file into Python objects; unreadable or corrupt files are one clear UsageError."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"checkpoint {path} does not exist or is not a file")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise UsageError(f"checkpoint {path} is not a readable safetensors file: {exc}") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=not trust)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        if not trust and "Unsupported global" in str(exc):
            raise UsageError(
                f"checkpoint {path} holds Python objects beyond tensors; if you trust its source, pass "
                "--trust-checkpoint to load it anyway"
            ) from None
        raise UsageError(f"checkpoint {path} is corrupt or not a PyTorch file: {first_line(exc)}") from None


def state_fingerprint(model: nn.Module) -> str:
    """SHA-256 of the model's state dict (names, dtypes, shapes, values): identifies the weights themselves,
    so a later run can prove it rebuilt the very model an artifact was exported from."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def extract_state_dict(raw: object) -> tuple[dict[str, torch.Tensor], str]:
    """Unwrap a training checkpoint into a flat state dict; return it with the name of the layout found.

    Pure and idempotent: a state dict passed in comes out unchanged, apart from a ``module.`` prefix.
    """
    if not isinstance(raw, Mapping):
        raise UsageError(f"checkpoint holds a {type(raw).__name__}, not a dict of tensors")
    layout = "plain"
    for key in _WRAPPER_KEYS:
        if isinstance(raw.get(key), Mapping):
            raw, layout = raw[key], key
            break
    state = {str(k): v for k, v in raw.items() if isinstance(v, torch.Tensor)}
    if not state:
        raise UsageError("checkpoint holds no tensors")
    if all(k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
        layout += "+module"
    if layout.startswith("state_dict") and any(k.startswith(_SEG_PREFIXES) for k in state):
        layout = "mmseg" + layout.removeprefix("state_dict")
    return state, layout


def infer_num_classes(state: Mapping[str, torch.Tensor], task: str) -> int | None:
    """Number of classes of the checkpoint's classifier (``decode_head.conv_seg`` or ``linear``), if present."""
    key = "decode_head.conv_seg.weight" if task == "seg" else "linear.weight"
    weight = state.get(key)
    return int(weight.shape[0]) if weight is not None else None


def _describe(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOWN_KEYS])
    more = f" (+{len(keys) - _SHOWN_KEYS} more)" if len(keys) > _SHOWN_KEYS else ""
    return f"{len(keys)} [{shown}{more}]"


def check_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str], list[str]]:
    """Compare ``state`` with the model's; return (missing, unexpected, wrongly shaped) keys.

    BatchNorm's ``num_batches_tracked`` counters do not affect inference, so their absence is not a mismatch.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    wrong_shape = [
        f"{k} {tuple(state[k].shape)}!={tuple(expected[k].shape)}"
        for k in expected
        if k in state and state[k].shape != expected[k].shape
    ]
    return missing, unexpected, wrong_shape


@dataclass
class Checkpoint:
    """A checkpoint file read into a flat state dict."""

    path: Path
    state: dict[str, torch.Tensor]
    layout: str
    sha256: str


def read_checkpoint(path: str | Path, *, trust: bool = False) -> Checkpoint:
    """Read and unwrap a checkpoint file (any supported layout) into a ``Checkpoint``."""
    path = Path(path)
    state, layout = extract_state_dict(read_checkpoint_file(path, trust=trust))
    return Checkpoint(path=path, state=state, layout=layout, sha256=sha256_file(path))


def apply_checkpoint(
    model: nn.Module,
    checkpoint: Checkpoint,
    *,
    task: str,
    variant: str,
    allow_partial: bool = False,
) -> CheckpointInfo:
    """Load ``checkpoint`` into ``model`` strictly (or partially when asked) and describe what was loaded.

    Wrongly shaped keys are always an error: no tensor is ever loaded into a parameter of another shape.
    """
    state = checkpoint.state
    missing, unexpected, wrong_shape = check_state_dict(model, state)
    info = CheckpointInfo(
        source=WeightSource.CHECKPOINT, path=str(checkpoint.path), sha256=checkpoint.sha256, layout=checkpoint.layout,
        num_classes=infer_num_classes(state, task),
    )
    if missing or unexpected or wrong_shape:
        problems = "; ".join(
            f"{label} {_describe(keys)}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong_shape))
            if keys
        )
        if not allow_partial or wrong_shape:
            hint = "" if allow_partial or wrong_shape else " (pass --allow-partial to load the matching keys only)"
            raise UsageError(
                f"checkpoint {checkpoint.path} does not match SeaFormer-{variant} {task}: {problems}{hint}"
            )
        info.missing = missing
        info.warnings.append(f"partial load from {checkpoint.path.name}: {problems}")
    model.load_state_dict({k: v for k, v in state.items() if k not in unexpected}, strict=False)
    return info

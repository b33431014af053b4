"""What every quantizer here shares: the result type, argument checks and silencing third-party tools."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from seaformer_deploy.errors import UsageError, first_line
from seaformer_deploy.export.graph import Graph
from seaformer_deploy.fileio import ensure_writable_dir

QuantMode = Literal["fp16", "int8", "dynamic"]
Progress = Callable[[str], None]

_MODES: tuple[str, ...] = get_args(QuantMode)


@dataclass(frozen=True)
class QuantizationInfo:
    """What one quantization did: mode, tool and version, recipe summary, calibration size, I/O, notes, time."""

    mode: str
    tool: str
    recipe: str | dict[str, Any]
    calibration_count: int
    float_io: bool
    notes: list[str]
    seconds: float
    # Set by the export pipeline, which knows where the calibration images came from.
    calibration_source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantizationInfo:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def no_progress(_: str) -> None:
    return None


def tool_version(distribution: str) -> str:
    return f"{distribution} {metadata.version(distribution)}"


@contextlib.contextmanager
def quiet_tool() -> Iterator[None]:
    """Silence a third-party tool: its tqdm bars, prints, Python warnings and log records.

    The caller's progress callback must not run inside this block, or its output would be swallowed too.
    """
    previous_disable = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous_disable)


def check_mode(mode: str) -> None:
    if mode not in _MODES:
        raise UsageError(f"unknown quantization mode {mode!r}: expected one of {', '.join(_MODES)}")


def check_paths(
    float_model: str | os.PathLike[str], output: str | os.PathLike[str], suffix: str
) -> tuple[Path, Path]:
    source, target = Path(float_model), Path(output)
    if source.suffix.lower() != suffix:
        raise UsageError(f"float model {source} must be a {suffix} file")
    if target.suffix.lower() != suffix:
        raise UsageError(f"output {target} must end in {suffix}")
    if not source.is_file():
        raise UsageError(f"float model {source} not found")
    if target.resolve() == source.resolve():
        raise UsageError(f"output {target} would overwrite the float model")
    ensure_writable_dir(target.parent)
    return source, target


def check_calibration(
    mode: str, calibration: Sequence[np.ndarray] | None, input_shape: tuple[int, ...] | None
) -> list[np.ndarray]:
    """Calibration arrays as float32, each exactly the model's input shape; only mode int8 takes them."""
    if mode != "int8":
        if calibration is not None:
            raise UsageError(f"mode {mode!r} takes no calibration images (only int8 does)")
        return []
    if calibration is None:
        raise UsageError("mode 'int8' needs calibration images (preprocessed arrays in the model's input layout)")
    try:
        samples = [np.asarray(sample, dtype=np.float32) for sample in calibration]
    except (TypeError, ValueError) as exc:
        raise UsageError(f"calibration images must be numeric arrays: {first_line(exc)}") from exc
    if not samples:
        raise UsageError("calibration is empty: give at least one preprocessed image")
    for index, sample in enumerate(samples):
        if input_shape is not None and sample.shape != input_shape:
            raise UsageError(f"calibration[{index}] has shape {sample.shape}, the model input is {input_shape}")
        if not np.isfinite(sample).all():
            raise UsageError(f"calibration[{index}] contains NaN or infinite values")
    return samples


def single_float_input(graph: Graph, path: Path) -> tuple[str, tuple[int, ...] | None]:
    if len(graph.inputs) != 1:
        raise UsageError(f"{path}: expected one model input, found {len(graph.inputs)}")
    info = graph.tensors[graph.inputs[0]]
    # TFLite spells it float32, ONNX float.
    if info.dtype not in ("float32", "float"):
        raise UsageError(f"{path}: input is {info.dtype}; quantization needs a float32 model")
    return info.name, info.shape

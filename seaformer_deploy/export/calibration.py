"""Real-looking images for int8 calibration and parity: a user folder, or the built-in demo set by name."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from seaformer_deploy.data.datasets import IMAGE_SUFFIXES
from seaformer_deploy.errors import UsageError

DEMO_SOURCE = "demo"


def list_images(directory: str | os.PathLike[str]) -> list[Path]:
    """Image files under ``directory`` (recursively), sorted; missing or empty folders are UsageErrors."""
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"calibration folder {root} does not exist or is not a directory")
    if not os.access(root, os.R_OK | os.X_OK):
        raise UsageError(f"calibration folder {root} is not readable")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise UsageError(f"calibration folder {root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def load_images(source: str | os.PathLike[str], count: int) -> tuple[list[tuple[str, np.ndarray]], str]:
    """Up to ``count`` RGB images from a folder, or from the built-in demo dataset when ``source`` is "demo".

    Returns the (name, image) pairs and a description of the source for the report.
    """
    from seaformer_deploy.data.datasets import open_demo
    from seaformer_deploy.data.preprocess import load_image

    if count < 1:
        raise UsageError(f"calibration count must be at least 1, got {count}")
    if str(source) == DEMO_SOURCE:
        samples = list(open_demo(limit=count))
        return [(s.name, s.image) for s in samples], f"built-in synthetic demo dataset ({len(samples)} images)"
    files = list_images(source)[:count]
    return [(p.name, load_image(p)) for p in files], f"{Path(source).resolve()} ({len(files)} images)"

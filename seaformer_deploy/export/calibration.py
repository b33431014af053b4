"""Real-looking images for int8 calibration and for parity, kept apart so parity is judged on unseen images.

``demo`` names built-in synthetic scenes: calibration takes the demo training scenes, parity the demo evaluation
scenes, which are drawn with another seed. From a user folder, calibration takes the first images in sorted order
and parity the ones after them; only a folder with no other images is used for both, and the report says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from seaformer_deploy.data.datasets import IMAGE_SUFFIXES
from seaformer_deploy.errors import UsageError

DEMO_SOURCE = "demo"

Images = list[tuple[str, np.ndarray]]


def list_images(directory: str | os.PathLike[str], purpose: str = "calibration") -> list[Path]:
    """Image files under ``directory`` (recursively), sorted; missing or empty folders are UsageErrors."""
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"{purpose} folder {root} does not exist or is not a directory")
    if not os.access(root, os.R_OK | os.X_OK):
        raise UsageError(f"{purpose} folder {root} is not readable")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise UsageError(f"{purpose} folder {root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def same_source(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    """True when two image sources name the same images (``demo``, or one folder however it is spelled)."""
    if DEMO_SOURCE in (str(first), str(second)):
        return str(first) == str(second)
    return Path(first).resolve() == Path(second).resolve()


def _check_count(count: int, purpose: str) -> None:
    if count < 1:
        raise UsageError(f"{purpose} count must be at least 1, got {count}")


def _read(files: list[Path]) -> Images:
    from seaformer_deploy.data.preprocess import load_image

    return [(p.name, load_image(p)) for p in files]


def load_calibration_images(source: str | os.PathLike[str], count: int) -> tuple[Images, str]:
    """Up to ``count`` RGB images for calibration, and a description of them for the report."""
    from seaformer_deploy.data.datasets import DEMO_TRAIN_SEED, open_demo_train

    _check_count(count, "calibration")
    if str(source) == DEMO_SOURCE:
        samples = list(open_demo_train(limit=count))
        return [(s.name, s.image) for s in samples], (
            f"built-in synthetic demo training scenes ({len(samples)} images, seed {DEMO_TRAIN_SEED}; "
            "none is a parity or demo evaluation image)")
    files = list_images(source)[:count]
    return _read(files), f"{Path(source).resolve()} (the first {len(files)} images in sorted order)"


def load_parity_images(source: str | os.PathLike[str], count: int, *, skip: int = 0) -> tuple[Images, str, bool]:
    """Up to ``count`` RGB images for parity, a description, and whether they are calibration images too.

    ``skip`` is how many images at the start of a folder calibration used: parity takes the images after them
    when the folder has any, else the first ones again.
    """
    from seaformer_deploy.data.datasets import open_demo

    _check_count(count, "parity image")
    if str(source) == DEMO_SOURCE:
        samples = list(open_demo(limit=count))
        return [(s.name, s.image) for s in samples], (
            f"built-in synthetic demo evaluation scenes ({len(samples)} images)"), False
    folder = Path(source).resolve()
    files = list_images(source, "parity")
    unseen = files[skip:skip + count]
    if unseen:
        first = skip + 1
        return _read(unseen), f"{folder} (images {first}-{skip + len(unseen)} of {len(files)} in sorted order)", False
    chosen = files[:count]
    return _read(chosen), f"{folder} (the first {len(chosen)} images, also used for calibration)", skip > 0

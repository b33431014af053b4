"""A procedural classification set in ImageFolder layout, so the classification path runs without downloads.

Ten pattern classes (stripes at two angles, checkerboard, rings, dots, blobs, a grid, a cross, a gradient,
noise), each drawn with a random colour pair, scale, phase and illumination on images of varied size and aspect
ratio, so the official resize-and-crop has real work to do. Deterministic for a seed and idempotent: a manifest
records what was written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from seaformer_deploy.data.manifest import manifest_is_complete
from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import ensure_writable_dir, sha256_file, write_bytes_atomic, write_json_atomic

MANIFEST_NAME = "demo_cls_manifest.json"
_FORMAT = "seaformer-deploy-demo-cls"
_VERSION = 1
_JPEG_QUALITY = 92

Pattern = Callable[[np.ndarray, np.ndarray, float, np.random.Generator], np.ndarray]


def _stripes(angle_deg: float) -> Pattern:
    def pattern(ys: np.ndarray, xs: np.ndarray, period: float, rng: np.random.Generator) -> np.ndarray:
        theta = np.deg2rad(angle_deg + rng.uniform(-10, 10))
        return np.sin((xs * np.cos(theta) + ys * np.sin(theta)) * 2 * np.pi / period) > 0
    return pattern


def _checker(ys: np.ndarray, xs: np.ndarray, period: float, rng: np.random.Generator) -> np.ndarray:
    return ((xs // period).astype(int) + (ys // period).astype(int)) % 2 == 0


def _rings(ys: np.ndarray, xs: np.ndarray, period: float, rng: np.random.Generator) -> np.ndarray:
    cy, cx = rng.uniform(0.3, 0.7) * ys.shape[0], rng.uniform(0.3, 0.7) * xs.shape[1]
    return np.sin(np.hypot(ys - cy, xs - cx) * 2 * np.pi / period) > 0


def _dots(ys: np.ndarray, xs: np.ndarray, period: float, rng: np.random.Generator) -> np.ndarray:
    return np.hypot((xs % period) - period / 2, (ys % period) - period / 2) < period / 4


def _blobs(ys: np.ndarray, xs: np.ndarray, period: float, rng: np.random.Generator) -> np.ndarray:
    height, width = ys.shape
    small = rng.standard_normal((int(height / period) + 2, int(width / period) + 2)).astype(np.float32)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC) > 0.3


def _grid(ys: np.ndarray, xs: np.ndarray, period: float, rng: np.random.Generator) -> np.ndarray:
    return ((xs % period) < period / 6) | ((ys % period) < period / 6)


def _cross(ys: np.ndarray, xs: np.ndarray, period: float, rng: np.random.Generator) -> np.ndarray:
    height, width = ys.shape
    cy, cx = rng.uniform(0.35, 0.65) * height, rng.uniform(0.35, 0.65) * width
    arm = 0.12 * min(height, width)
    return (np.abs(ys - cy) < arm) | (np.abs(xs - cx) < arm)


def _gradient(ys: np.ndarray, xs: np.ndarray, period: float, rng: np.random.Generator) -> np.ndarray:
    theta = rng.uniform(0, 2 * np.pi)
    ramp = xs * np.cos(theta) + ys * np.sin(theta)
    return (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1.0)


def _noise(ys: np.ndarray, xs: np.ndarray, period: float, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(size=ys.shape) > 0.5


DEMO_CLS_PATTERNS: dict[str, Pattern] = {
    "blobs": _blobs, "checker": _checker, "cross": _cross, "dots": _dots, "gradient": _gradient,
    "grid": _grid, "noise": _noise, "rings": _rings, "stripes_diagonal": _stripes(45.0),
    "stripes_vertical": _stripes(0.0),
}


def demo_cls_image(class_name: str, seed: int, index: int) -> np.ndarray:
    """Image ``index`` of class ``class_name`` in the family ``seed``: RGB uint8 of varied size and ratio."""
    pattern = DEMO_CLS_PATTERNS[class_name]
    rng = np.random.default_rng([seed, sorted(DEMO_CLS_PATTERNS).index(class_name), index])
    height, width = int(rng.integers(160, 360)), int(rng.integers(160, 360))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    weight = pattern(ys, xs, float(rng.uniform(8, 40)), rng).astype(np.float32)[:, :, None]
    fore, back = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    image = weight * fore + (1 - weight) * back
    image = image * rng.uniform(0.7, 1.2) + rng.normal(0, 6, image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def make_demo_cls_dataset(root: str | os.PathLike[str], *, images_per_class: int = 4, seed: int = 0) -> Path:
    """Write ``root/<class>/demo_NNNN.jpg`` for every pattern class and return ``root``.

    Nothing is rewritten when a complete set with the same parameters is already there.
    """
    if images_per_class < 1:
        raise UsageError(f"demo-cls needs at least 1 image per class, got {images_per_class}")
    root = Path(root)
    expected: dict[str, object] = {"format": _FORMAT, "version": _VERSION, "images_per_class": images_per_class,
                                   "seed": seed, "classes": sorted(DEMO_CLS_PATTERNS)}
    if manifest_is_complete(root, MANIFEST_NAME, expected):
        return root
    ensure_writable_dir(root)
    (root / MANIFEST_NAME).unlink(missing_ok=True)
    files: dict[str, str] = {}
    for class_name in sorted(DEMO_CLS_PATTERNS):
        class_dir = ensure_writable_dir(root / class_name)
        names = {f"demo_{index:04d}.jpg" for index in range(images_per_class)}
        for stale in class_dir.glob("demo_*.jpg"):
            if stale.name not in names:
                stale.unlink()
        for index in range(images_per_class):
            image = demo_cls_image(class_name, seed, index)
            ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                                    [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
            if not ok:
                raise UsageError(f"cannot encode demo-cls image {class_name}/{index}")
            path = class_dir / f"demo_{index:04d}.jpg"
            write_bytes_atomic(path, jpeg.tobytes())
            files[path.relative_to(root).as_posix()] = sha256_file(path)
    write_json_atomic(root / MANIFEST_NAME, {**expected, "files": files})
    return root

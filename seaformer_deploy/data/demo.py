"""A small procedural dataset in ADE20K layout, so every command can run without downloads.

Scenes are drawn from a handful of real ADE20K classes (stored +1 as ADE does, 0 = ignore on a thin
border) and rendered with per-class colour, stripes and noise so predictions are not trivial.
Generation is deterministic for a seed and idempotent: a manifest records what was written.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import ensure_writable_dir, sha256_file, write_bytes_atomic, write_json_atomic

MANIFEST_NAME = "demo_manifest.json"
_FORMAT = "seaformer-deploy-demo"
_VERSION = 1
_BORDER_PX = 2
_JPEG_QUALITY = 95


@dataclass(frozen=True)
class _Look:
    """How a class is rendered: base RGB colour, stripe amplitude/period/angle, noise sigma."""

    color: tuple[int, int, int]
    stripes: float = 0.0
    period: float = 8.0
    angle_deg: float = 0.0
    noise: float = 6.0


# Zero-based ADE20K class ids (the index into the 150 classes).
DEMO_CLASSES: dict[str, int] = {
    "wall": 0,
    "building": 1,
    "sky": 2,
    "floor": 3,
    "tree": 4,
    "ceiling": 5,
    "road": 6,
    "grass": 9,
    "sidewalk": 11,
    "person": 12,
    "mountain": 16,
    "car": 20,
}

_LOOKS: dict[int, _Look] = {
    DEMO_CLASSES["wall"]: _Look((196, 184, 160), stripes=6.0, period=24.0, angle_deg=0.0, noise=4.0),
    DEMO_CLASSES["building"]: _Look((150, 110, 90), stripes=30.0, period=10.0, angle_deg=90.0, noise=8.0),
    DEMO_CLASSES["sky"]: _Look((120, 170, 230), noise=3.0),
    DEMO_CLASSES["floor"]: _Look((150, 105, 60), stripes=22.0, period=14.0, angle_deg=0.0, noise=7.0),
    DEMO_CLASSES["tree"]: _Look((40, 110, 40), stripes=10.0, period=5.0, angle_deg=60.0, noise=22.0),
    DEMO_CLASSES["ceiling"]: _Look((230, 228, 220), noise=3.0),
    DEMO_CLASSES["road"]: _Look((95, 95, 100), stripes=8.0, period=40.0, angle_deg=90.0, noise=12.0),
    DEMO_CLASSES["grass"]: _Look((90, 160, 60), stripes=12.0, period=4.0, angle_deg=80.0, noise=18.0),
    DEMO_CLASSES["sidewalk"]: _Look((175, 170, 160), stripes=18.0, period=16.0, angle_deg=45.0, noise=6.0),
    DEMO_CLASSES["person"]: _Look((200, 60, 70), noise=10.0),
    DEMO_CLASSES["mountain"]: _Look((110, 100, 120), stripes=14.0, period=20.0, angle_deg=30.0, noise=14.0),
    DEMO_CLASSES["car"]: _Look((30, 60, 170), stripes=20.0, period=12.0, angle_deg=0.0, noise=5.0),
}


def _poly(points: list[tuple[float, float]]) -> np.ndarray:
    return np.round(np.asarray(points, dtype=np.float64)).astype(np.int32)[None]


def _draw_outdoor(rng: np.random.Generator, classes: np.ndarray) -> None:
    height, width = classes.shape
    horizon = int(height * rng.uniform(0.35, 0.55))
    classes[:horizon] = DEMO_CLASSES["sky"]
    classes[horizon:] = DEMO_CLASSES["grass"]
    peak_x, peak_h = rng.uniform(0.2, 0.8) * width, rng.uniform(0.15, 0.3) * height
    cv2.fillPoly(classes, _poly([(0, horizon), (peak_x, horizon - peak_h), (width, horizon)]),
                 DEMO_CLASSES["mountain"])
    for _ in range(int(rng.integers(1, 4))):
        left = rng.uniform(0, 0.8) * width
        bw, bh = rng.uniform(0.1, 0.25) * width, rng.uniform(0.15, 0.35) * height
        cv2.rectangle(classes, (int(left), int(horizon - bh)), (int(left + bw), horizon),
                      DEMO_CLASSES["building"], thickness=-1)
    centre = rng.uniform(0.35, 0.65) * width
    near, far = rng.uniform(0.25, 0.4) * width, rng.uniform(0.02, 0.06) * width
    walk = 0.08 * width
    cv2.fillPoly(classes, _poly([(centre - far - walk / 4, horizon), (centre + far + walk / 4, horizon),
                                 (centre + near + walk, height), (centre - near - walk, height)]),
                 DEMO_CLASSES["sidewalk"])
    cv2.fillPoly(classes, _poly([(centre - far, horizon), (centre + far, horizon),
                                 (centre + near, height), (centre - near, height)]), DEMO_CLASSES["road"])
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = int(rng.uniform(0.05, 0.95) * width), int(horizon + rng.uniform(-0.05, 0.1) * height)
        radius = int(rng.uniform(0.05, 0.1) * min(height, width))
        cv2.circle(classes, (cx, cy - radius), radius, DEMO_CLASSES["tree"], thickness=-1)
    car_x = centre + rng.uniform(-0.5, 0.3) * near
    car_y = horizon + rng.uniform(0.3, 0.6) * (height - horizon)
    car_w, car_h = 0.2 * width, 0.08 * height
    cv2.rectangle(classes, (int(car_x), int(car_y)), (int(car_x + car_w), int(car_y + car_h)),
                  DEMO_CLASSES["car"], thickness=-1)
    px, py = int(rng.uniform(0.1, 0.9) * width), int(horizon + rng.uniform(0.2, 0.5) * (height - horizon))
    axes = (max(2, int(0.025 * width)), max(4, int(0.09 * height)))
    cv2.ellipse(classes, (px, py), axes, 0.0, 0.0, 360.0, DEMO_CLASSES["person"], thickness=-1)


def _draw_indoor(rng: np.random.Generator, classes: np.ndarray) -> None:
    height, width = classes.shape
    ceiling = int(height * rng.uniform(0.1, 0.2))
    floor = int(height * rng.uniform(0.6, 0.75))
    classes[:ceiling] = DEMO_CLASSES["ceiling"]
    classes[ceiling:] = DEMO_CLASSES["wall"]
    slant = rng.uniform(0.05, 0.15) * height
    cv2.fillPoly(classes, _poly([(0, floor + slant), (width, floor - slant), (width, height), (0, height)]),
                 DEMO_CLASSES["floor"])
    for _ in range(int(rng.integers(1, 3))):
        px, py = int(rng.uniform(0.1, 0.9) * width), int(floor + rng.uniform(-0.1, 0.1) * height)
        axes = (max(2, int(0.04 * width)), max(4, int(0.15 * height)))
        cv2.ellipse(classes, (px, py), axes, 0.0, 0.0, 360.0, DEMO_CLASSES["person"], thickness=-1)


def _render(rng: np.random.Generator, classes: np.ndarray) -> np.ndarray:
    height, width = classes.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    noise = rng.standard_normal((height, width)).astype(np.float32)
    image = np.zeros((height, width, 3), dtype=np.float32)
    for class_id in np.unique(classes):
        look = _LOOKS[int(class_id)]
        mask = classes == class_id
        theta = np.deg2rad(look.angle_deg)
        phase = (xs[mask] * np.cos(theta) + ys[mask] * np.sin(theta)) * (2 * np.pi / look.period)
        shade = look.stripes * np.sin(phase) + look.noise * noise[mask]
        image[mask] = np.asarray(look.color, dtype=np.float32) + shade[:, None]
    sky = classes == DEMO_CLASSES["sky"]
    image[sky] += (ys[sky] / height * 60.0)[:, None]
    image += rng.uniform(-20, 20, size=3).astype(np.float32)
    image = cv2.GaussianBlur(image, (3, 3), 0.8)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _scene(seed: int, index: int, size_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One RGB image and its stored ADE-style label (class + 1, 0 on the border)."""
    rng = np.random.default_rng([seed, index])
    classes = np.zeros(size_hw, dtype=np.uint8)
    if rng.uniform() < 0.7:
        _draw_outdoor(rng, classes)
    else:
        _draw_indoor(rng, classes)
    image = _render(rng, classes)
    stored = classes + 1
    stored[:_BORDER_PX] = stored[-_BORDER_PX:] = 0
    stored[:, :_BORDER_PX] = stored[:, -_BORDER_PX:] = 0
    return image, stored


def _check_params(num_images: int, size_hw: tuple[int, int]) -> tuple[int, int]:
    if num_images < 1:
        raise UsageError(f"demo dataset needs at least 1 image, got {num_images}")
    height, width = (int(v) for v in size_hw)
    if height < 32 or width < 32:
        raise UsageError(f"demo image size must be at least 32x32, got {size_hw!r}")
    return height, width


def _is_complete(root: Path, expected: dict[str, object]) -> bool:
    try:
        manifest = json.loads((root / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or {k: manifest.get(k) for k in expected} != expected:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict):
        return False
    try:
        return all(sha256_file(root / rel) == digest for rel, digest in files.items())
    except OSError:
        return False


def make_demo_dataset(
    root: str | os.PathLike[str],
    *,
    num_images: int = 8,
    size_hw: tuple[int, int] = (256, 256),
    seed: int = 0,
) -> Path:
    """Write the demo dataset under ``root`` in ADE20K layout and return ``root``.

    Files: ``images/validation/demo_NNNN.jpg`` (JPEG quality 95) and
    ``annotations/validation/demo_NNNN.png``. Nothing is rewritten if a complete dataset with the
    same parameters is already there; stale ``demo_*`` files from other parameters are removed.
    """
    height, width = _check_params(num_images, size_hw)
    root = Path(root)
    expected: dict[str, object] = {
        "format": _FORMAT, "version": _VERSION, "num_images": num_images,
        "size_hw": [height, width], "seed": seed,
    }
    if _is_complete(root, expected):
        return root
    image_dir = ensure_writable_dir(root / "images" / "validation")
    label_dir = ensure_writable_dir(root / "annotations" / "validation")
    # The manifest goes first and comes back last, so an interrupted run is never taken as complete.
    (root / MANIFEST_NAME).unlink(missing_ok=True)
    names = [f"demo_{index:04d}" for index in range(num_images)]
    for stale in [*image_dir.glob("demo_*.jpg"), *label_dir.glob("demo_*.png")]:
        if stale.stem not in names:
            stale.unlink()
    files: dict[str, str] = {}
    for index, name in enumerate(names):
        image, label = _scene(seed, index, (height, width))
        ok_image, jpeg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                                      [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
        ok_label, png = cv2.imencode(".png", label)
        if not (ok_image and ok_label):
            raise UsageError(f"cannot encode demo sample {name}")
        for path, payload in ((image_dir / f"{name}.jpg", jpeg), (label_dir / f"{name}.png", png)):
            write_bytes_atomic(path, payload.tobytes())
            files[path.relative_to(root).as_posix()] = hashlib.sha256(payload.tobytes()).hexdigest()
    write_json_atomic(root / MANIFEST_NAME, {**expected, "files": files})
    return root


def demo_image(size_hw: tuple[int, int] = (512, 512), seed: int = 0) -> np.ndarray:
    """One procedural RGB uint8 image for quick inference demos (no file written)."""
    _check_params(1, size_hw)
    return _scene(seed, 0, (int(size_hw[0]), int(size_hw[1])))[0]

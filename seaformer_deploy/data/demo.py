"""A small procedural dataset in ADE20K layout, so every command can run without downloads.

Scenes are built from twelve real ADE20K classes (stored +1 as ADE does, 0 = ignore on a thin border). They are
made to be hard enough that an mIoU on them says something:

- textures, not flat colours: every class has its own texture family (window grids, planks, tiles, foliage
  noise, clouds, lane marks, ...), and colours vary per instance and per image (illumination gain, colour cast),
  so colour alone does not name a class;
- scale changes: a per-scene zoom and a perspective rule (nearer objects are larger) scale objects and their
  textures over about a factor of six;
- occlusion: objects are painted far to near, so trees cover buildings, cars cover people and the other way
  round, and every object can be cut by the image border.

Generation is deterministic for a seed and idempotent: a manifest records what was written. Different seeds give
disjoint scenes (each scene is drawn from its own ``(seed, index)`` random stream).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from seaformer_deploy.data.manifest import manifest_is_complete
from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import ensure_writable_dir, write_bytes_atomic, write_json_atomic

MANIFEST_NAME = "demo_manifest.json"
_FORMAT = "seaformer-deploy-demo"
DEMO_FORMAT_VERSION = 2
_BORDER_PX = 2
_JPEG_QUALITY = 95

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
_C = DEMO_CLASSES

Texture = Callable[[np.random.Generator, np.ndarray, np.ndarray, float], np.ndarray]


# ---- textures: each returns an HxWx3 float image of one class's look over the whole frame ---------------------

def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    """Zero-mean, unit-ish noise with features about ``cell`` pixels wide (upsampled white noise)."""
    height, width = shape
    small = rng.standard_normal((max(2, int(height / cell) + 2), max(2, int(width / cell) + 2))).astype(np.float32)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def _jitter(rng: np.random.Generator, color: tuple[int, int, int], amount: float) -> np.ndarray:
    return np.asarray(color, np.float32) * rng.uniform(1 - amount, 1 + amount) + rng.uniform(-10, 10, 3)


def _paint(base: np.ndarray, shade: np.ndarray) -> np.ndarray:
    return base[None, None, :] + shade[:, :, None]


def _sky(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    height = ys.shape[0]
    base = _jitter(rng, (110, 160, 225), 0.1)
    image = _paint(base, ys / height * 70.0)
    clouds = np.clip(_smooth_noise(rng, ys.shape, 40 * zoom) - 0.3, 0, None)
    return image + clouds[:, :, None] * np.asarray([90, 80, 50], np.float32)


def _mountain(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    base = _jitter(rng, (115, 105, 130), 0.12)
    ridges = 12 * np.sin((xs * 0.6 + ys) * (2 * np.pi / (18 * zoom)))
    return _paint(base, ridges + 18 * _smooth_noise(rng, ys.shape, 6 * zoom))


def _building(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    base = _jitter(rng, ((150, 110, 90), (170, 160, 150), (120, 80, 70))[int(rng.integers(3))], 0.12)
    period = rng.uniform(8, 14) * zoom
    windows = ((xs % period) < 0.55 * period) & ((ys % (1.3 * period)) < 0.6 * period)
    shade = np.where(windows, -70.0, 0.0).astype(np.float32) + 5 * _smooth_noise(rng, ys.shape, 2)
    return _paint(base, shade)


def _tree(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    base = _jitter(rng, (45, 115, 40), 0.2)
    leaves = 30 * _smooth_noise(rng, ys.shape, 3 * zoom) + 12 * _smooth_noise(rng, ys.shape, 1.5)
    return _paint(base, leaves)


def _grass(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    base = _jitter(rng, (95, 165, 60), 0.15)
    blades = 14 * np.sin(xs * (2 * np.pi / (3.5 * zoom)) + 3 * _smooth_noise(rng, ys.shape, 8))
    return _paint(base, blades + 10 * _smooth_noise(rng, ys.shape, 1.2))


def _road(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    base = _jitter(rng, (92, 92, 98), 0.15)
    return _paint(base, 9 * _smooth_noise(rng, ys.shape, 1.0) + 6 * _smooth_noise(rng, ys.shape, 30))


def _sidewalk(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    base = _jitter(rng, (178, 172, 160), 0.1)
    tile = rng.uniform(9, 16) * zoom
    joints = ((xs % tile) < 1.5) | ((ys % tile) < 1.5)
    return _paint(base, np.where(joints, -45.0, 0.0).astype(np.float32) + 5 * _smooth_noise(rng, ys.shape, 2))


def _person(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    clothes = ((200, 55, 65), (230, 170, 40), (150, 60, 170), (40, 40, 45))[int(rng.integers(4))]
    return _paint(_jitter(rng, clothes, 0.15), 8 * _smooth_noise(rng, ys.shape, 3 * zoom))


def _car(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    body = ((30, 60, 170), (190, 30, 35), (210, 210, 215), (25, 25, 30))[int(rng.integers(4))]
    gloss = 25 * np.cos(ys * (2 * np.pi / (20 * zoom)))
    return _paint(_jitter(rng, body, 0.1), gloss + 4 * _smooth_noise(rng, ys.shape, 2))


def _wall(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    paint = ((200, 188, 160), (170, 195, 185), (215, 180, 170), (185, 185, 205))[int(rng.integers(4))]
    paper = 7 * np.sin(xs * (2 * np.pi / (16 * zoom)))
    return _paint(_jitter(rng, paint, 0.1), paper + 4 * _smooth_noise(rng, ys.shape, 4))


def _ceiling(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    base = _jitter(rng, (232, 230, 222), 0.05)
    panel = 60 * zoom
    seams = ((xs % panel) < 1.5) | ((ys % (0.5 * panel)) < 1.5)
    return _paint(base, np.where(seams, -30.0, 0.0).astype(np.float32) + 2 * _smooth_noise(rng, ys.shape, 3))


def _floor(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, zoom: float) -> np.ndarray:
    base = _jitter(rng, (150, 105, 60), 0.15)
    plank = rng.uniform(7, 12) * zoom
    grain = 14 * np.sin(xs * (2 * np.pi / (40 * zoom)) + 4 * _smooth_noise(rng, ys.shape, 10))
    joints = (ys % plank) < 1.2
    return _paint(base, grain + np.where(joints, -40.0, 0.0).astype(np.float32))


_TEXTURES: dict[int, Texture] = {
    _C["sky"]: _sky, _C["mountain"]: _mountain, _C["building"]: _building, _C["tree"]: _tree,
    _C["grass"]: _grass, _C["road"]: _road, _C["sidewalk"]: _sidewalk, _C["person"]: _person, _C["car"]: _car,
    _C["wall"]: _wall, _C["ceiling"]: _ceiling, _C["floor"]: _floor,
}


# ---- layouts: class maps drawn far to near, so nearer objects occlude farther ones ----------------------------

def _poly(points: list[tuple[float, float]]) -> np.ndarray:
    return np.round(np.asarray(points, dtype=np.float64)).astype(np.int32)[None]


def _draw_person(classes: np.ndarray, x: float, foot_y: float, tall: float) -> None:
    body_w = max(2, int(0.16 * tall))
    body_h = max(3, int(0.42 * tall))
    cv2.ellipse(classes, (int(x), int(foot_y - body_h)), (body_w, body_h), 0.0, 0.0, 360.0, _C["person"], -1)
    head = max(2, int(0.11 * tall))
    cv2.circle(classes, (int(x), int(foot_y - 2 * body_h - 0.8 * head)), head, _C["person"], -1)


def _draw_car(classes: np.ndarray, x: float, base_y: float, length: float) -> None:
    height = 0.32 * length
    cv2.rectangle(classes, (int(x), int(base_y - 0.6 * height)), (int(x + length), int(base_y)), _C["car"], -1)
    cv2.fillPoly(classes, _poly([(x + 0.2 * length, base_y - 0.6 * height), (x + 0.32 * length, base_y - height),
                                 (x + 0.72 * length, base_y - height), (x + 0.85 * length, base_y - 0.6 * height)]),
                 _C["car"])


def _draw_tree(classes: np.ndarray, rng: np.random.Generator, x: float, base_y: float, size: float) -> None:
    for _ in range(3):
        dx, dy = rng.uniform(-0.35, 0.35) * size, rng.uniform(-1.1, -0.6) * size
        cv2.circle(classes, (int(x + dx), int(base_y + dy)), max(2, int(rng.uniform(0.4, 0.6) * size)),
                   _C["tree"], -1)


def _draw_outdoor(rng: np.random.Generator, classes: np.ndarray, zoom: float) -> None:
    height, width = classes.shape
    horizon = height * rng.uniform(0.3, 0.55)
    classes[: int(horizon)] = _C["sky"]
    classes[int(horizon):] = _C["grass"]
    ridge = [(0.0, horizon)]
    for x in np.linspace(0, width, int(rng.integers(3, 7))):
        ridge.append((float(x), horizon - rng.uniform(0.05, 0.3) * height))
    cv2.fillPoly(classes, _poly([*ridge, (width, horizon)]), _C["mountain"])
    for _ in range(int(rng.integers(0, 4))):
        left, bw = rng.uniform(-0.1, 0.9) * width, rng.uniform(0.1, 0.3) * width * zoom
        top = horizon - rng.uniform(0.15, 0.4) * height * zoom
        cv2.rectangle(classes, (int(left), int(top)), (int(left + bw), int(horizon + 2)), _C["building"], -1)
    centre = rng.uniform(0.2, 0.8) * width
    near, far = rng.uniform(0.2, 0.45) * width, rng.uniform(0.01, 0.05) * width
    walk = rng.uniform(0.06, 0.15) * width
    cv2.fillPoly(classes, _poly([(centre - far - walk / 4, horizon), (centre + far + walk / 4, horizon),
                                 (centre + near + walk, height), (centre - near - walk, height)]), _C["sidewalk"])
    cv2.fillPoly(classes, _poly([(centre - far, horizon), (centre + far, horizon),
                                 (centre + near, height), (centre - near, height)]), _C["road"])
    # Objects stand on the ground below the horizon; nearer (lower) means larger, and they are painted in that
    # order so each one may hide part of those behind it.
    objects = []
    for kind, count in (("tree", rng.integers(1, 5)), ("car", rng.integers(0, 3)), ("person", rng.integers(0, 4))):
        for _ in range(int(count)):
            objects.append((horizon + rng.uniform(0.05, 1.0) * (height - horizon), kind, rng.uniform(-0.1, 1.0)))
    for base_y, kind, rel_x in sorted(objects):
        depth = (base_y - horizon) / (height - horizon)
        scale = zoom * (0.3 + 1.2 * depth) * height
        if kind == "tree":
            _draw_tree(classes, rng, rel_x * width, base_y, 0.2 * scale)
        elif kind == "car":
            road_x = centre + rng.uniform(-1.0, 0.4) * (far + (near - far) * depth)
            _draw_car(classes, road_x, base_y, 0.45 * scale)
        else:
            _draw_person(classes, rel_x * width, base_y, 0.45 * scale)


def _draw_indoor(rng: np.random.Generator, classes: np.ndarray, zoom: float) -> None:
    height, width = classes.shape
    ceiling = height * rng.uniform(0.05, 0.25)
    floor = height * rng.uniform(0.55, 0.75)
    classes[: int(ceiling)] = _C["ceiling"]
    classes[int(ceiling):] = _C["wall"]
    slant = rng.uniform(-0.12, 0.12) * height
    cv2.fillPoly(classes, _poly([(0, floor + slant), (width, floor - slant), (width, height), (0, height)]),
                 _C["floor"])
    feet = sorted(floor + rng.uniform(0.0, 1.0, int(rng.integers(1, 4))) * (height - floor))
    for foot_y in feet:
        depth = (foot_y - floor) / max(1.0, height - floor)
        _draw_person(classes, rng.uniform(0.0, 1.0) * width, foot_y, zoom * (0.35 + 0.45 * depth) * height)


def _render(rng: np.random.Generator, classes: np.ndarray, zoom: float) -> np.ndarray:
    height, width = classes.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.zeros((height, width, 3), dtype=np.float32)
    for class_id in np.unique(classes):
        # Textures are computed over the class's bounding box only; ys/xs keep image coordinates, so a texture
        # continues across the parts of a class the box holds.
        rows, cols = np.nonzero(classes == class_id)
        box = np.s_[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        mask = classes[box] == class_id
        image[box][mask] = _TEXTURES[int(class_id)](rng, ys[box], xs[box], zoom)[mask]
    # Illumination: a global gain, a colour cast and a soft light falloff, then sensor noise and lens blur.
    falloff = 1.0 + 0.25 * _smooth_noise(rng, (height, width), width / 2)
    image = image * rng.uniform(0.75, 1.2) * falloff[:, :, None] + rng.uniform(-15, 15, 3).astype(np.float32)
    image += 4.0 * rng.standard_normal(image.shape).astype(np.float32)
    image = cv2.GaussianBlur(image, (3, 3), 0.7)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def demo_scene(seed: int, index: int, size_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Scene ``index`` of the scene family ``seed``: an RGB uint8 image and its stored ADE-style label.

    The label holds class id + 1, with 0 (ignored) on a thin border, as ADE20K annotation files do.
    """
    height, width = _check_params(1, size_hw)
    rng = np.random.default_rng([seed, index])
    classes = np.zeros((height, width), dtype=np.uint8)
    zoom = float(np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
    if rng.uniform() < 0.7:
        _draw_outdoor(rng, classes, zoom)
    else:
        _draw_indoor(rng, classes, zoom)
    image = _render(rng, classes, zoom)
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
        "format": _FORMAT, "version": DEMO_FORMAT_VERSION, "num_images": num_images,
        "size_hw": [height, width], "seed": seed,
    }
    if manifest_is_complete(root, MANIFEST_NAME, expected):
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
        image, label = demo_scene(seed, index, (height, width))
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
    return demo_scene(seed, 0, size_hw)[0]

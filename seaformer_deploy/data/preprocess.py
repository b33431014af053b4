"""Image preprocessing and logit post-processing: the one place images become model inputs.

Segmentation follows the official SeaFormer ADE20K test pipeline (mmseg 0.x, ``local_configs/seaformer/*``):
LoadImageFromFile (cv2, BGR) -> Resize(keep_ratio, scale 2048x512, bilinear) -> Normalize(to_rgb=True).
Exported models have a fixed input size, so :func:`preprocess` resizes to exactly that size; the
keep-ratio rescale of the reference pipeline is :func:`rescale_keep_ratio`.

Classification follows the official seaformer-cls evaluation (``validate.py`` with the timm copy it ships). The
model defines no ``default_cfg``, so timm's defaults apply: decode with PIL and convert to RGB; resize with PIL
bicubic so the short side is ``floor(size / 0.875)`` (torchvision's ``Resize(int)`` rule, the long side
truncated); centre crop to the input size (torchvision's offsets, rounded half to even); then the prefetcher's
``(x - 255 * mean) / (255 * std)`` in float32 with the ImageNet mean and std. See
:func:`preprocess_classification`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from seaformer_deploy.errors import UsageError, first_line

LAYOUTS = ("nchw", "nhwc")
_COLOR_ORDERS = ("RGB", "BGR")


@dataclass(frozen=True)
class Normalization:
    """Per-channel ``(x - mean) / std`` applied to 0-255 pixels given in ``color_order``."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    color_order: str = "RGB"

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        if len(self.mean) != 3 or len(self.std) != 3:
            raise UsageError(f"normalization needs 3 means and 3 stds, got {self.mean} and {self.std}")
        if any(not s > 0 for s in self.std):
            raise UsageError(f"normalization std must be positive, got {self.std}")
        if self.color_order not in _COLOR_ORDERS:
            raise UsageError(f"color order must be RGB or BGR, got {self.color_order!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for export and bench reports."""
        return {"mean": list(self.mean), "std": list(self.std), "color_order": self.color_order}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normalization:
        """Inverse of :meth:`to_dict`; a malformed dict is a UsageError."""
        try:
            return cls(tuple(data["mean"]), tuple(data["std"]), str(data.get("color_order", "RGB")))
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"malformed normalization {data!r}: {exc}") from None


ADE20K_NORMALIZATION = Normalization(mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375))

# timm's IMAGENET_DEFAULT_MEAN / _STD (0-1 scale) as its prefetcher applies them: multiplied by 255 in Python.
_IMAGENET_MEAN_01 = (0.485, 0.456, 0.406)
_IMAGENET_STD_01 = (0.229, 0.224, 0.225)
IMAGENET_NORMALIZATION = Normalization(mean=tuple(m * 255 for m in _IMAGENET_MEAN_01),
                                       std=tuple(s * 255 for s in _IMAGENET_STD_01))


def normalization_for_task(task: str) -> Normalization:
    """The normalization the official evaluation of ``task`` (``seg`` or ``cls``) applies."""
    return IMAGENET_NORMALIZATION if task == "cls" else ADE20K_NORMALIZATION


# timm's DEFAULT_CROP_PCT and the interpolation resolve_data_config picks when the model names none.
CLASSIFICATION_CROP_PCT = 0.875
CLASSIFICATION_RESAMPLE = Image.Resampling.BICUBIC


def parse_layout(layout: str) -> str:
    """Return ``layout`` lower-cased if it is ``nchw`` or ``nhwc`` (any case)."""
    normalized = str(layout).lower()
    if normalized not in LAYOUTS:
        raise UsageError(f"layout must be NCHW or NHWC, got {layout!r}")
    return normalized


def _check_size(size_hw: tuple[int, int]) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in size_hw)
    except (TypeError, ValueError):
        raise UsageError(f"size must be a (height, width) pair, got {size_hw!r}") from None
    if height < 1 or width < 1:
        raise UsageError(f"size must be positive, got {size_hw!r}")
    return height, width


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as RGB uint8 ``HxWx3`` (decoded by cv2, like mmseg's LoadImageFromFile)."""
    try:
        data = np.frombuffer(Path(path).read_bytes(), dtype=np.uint8)
    except OSError as exc:
        raise UsageError(f"cannot read image {path}: {exc.strerror}") from None
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise UsageError(f"cannot decode image {path}: not a supported image file")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def load_label(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a label map as uint8 ``HxW``, unchanged (pillow, like mmseg's LoadAnnotations)."""
    try:
        with Image.open(path) as img:
            label = np.array(img)
    except OSError as exc:
        raise UsageError(f"cannot read label {path}: {exc}") from None
    label = label.squeeze() if label.ndim == 3 and label.shape[2] == 1 else label
    if label.ndim != 2:
        raise UsageError(f"label {path} must be a single-channel image, got shape {label.shape}")
    if label.dtype != np.uint8:
        # mmseg would silently wrap values above 255 with astype(uint8); refuse instead.
        if label.size and (label.min() < 0 or label.max() > 255):
            raise UsageError(f"label {path} has values outside 0..255")
        label = label.astype(np.uint8)
    return label


def resize_image(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear resize to ``size_hw`` with cv2 INTER_LINEAR (what mmcv.imresize does)."""
    height, width = _check_size(size_hw)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def rescale_size_hw(image_hw: tuple[int, int], scale: tuple[int, int] = (2048, 512)) -> tuple[int, int]:
    """Output ``(h, w)`` of mmcv.imrescale: largest size keeping the ratio within ``scale``.

    The factor is ``min(max(scale) / long_edge, min(scale) / short_edge)``; each side is rounded
    half up as ``int(side * factor + 0.5)``.
    """
    height, width = _check_size(image_hw)
    long_max, short_max = max(scale), min(scale)
    if short_max <= 0:
        raise UsageError(f"rescale bounds must be positive, got {scale!r}")
    factor = min(long_max / max(height, width), short_max / min(height, width))
    return int(height * factor + 0.5), int(width * factor + 0.5)


def rescale_keep_ratio(image: np.ndarray, scale: tuple[int, int] = (2048, 512)) -> np.ndarray:
    """Resize keeping the aspect ratio, as the official test pipeline's ``Resize(keep_ratio=True)``."""
    return resize_image(image, rescale_size_hw(image.shape[:2], scale))


def _rgb_uint8(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise UsageError(f"expected an RGB uint8 HxWx3 image, got {array.dtype} array of shape {array.shape}")
    return array


def preprocess(
    image_rgb_uint8: np.ndarray,
    size_hw: tuple[int, int],
    *,
    layout: str = "nchw",
    normalization: Normalization = ADE20K_NORMALIZATION,
) -> np.ndarray:
    """Turn an RGB uint8 image into a float32 batch of one: ``[1,3,H,W]`` or ``[1,H,W,3]``.

    Resizes (bilinear) to exactly ``size_hw`` while still uint8, as mmseg resizes before it
    normalizes, then applies ``normalization``.
    """
    layout = parse_layout(layout)
    image = _rgb_uint8(image_rgb_uint8)
    height, width = _check_size(size_hw)
    if image.shape[:2] != (height, width):
        image = resize_image(image, (height, width))
    if normalization.color_order == "BGR":
        image = image[:, :, ::-1]
    mean = np.asarray(normalization.mean, dtype=np.float32)
    # mmcv.imnormalize multiplies by the reciprocal of std rather than dividing.
    inv_std = np.asarray([1.0 / s for s in normalization.std], dtype=np.float32)
    normalized = (image.astype(np.float32) - mean) * inv_std
    if layout == "nchw":
        normalized = normalized.transpose(2, 0, 1)
    return np.ascontiguousarray(normalized[None])


def logits_to_labels(
    logits: np.ndarray | torch.Tensor,
    out_size_hw: tuple[int, int],
    *,
    layout: str = "nchw",
    input_size_hw: tuple[int, int] | None = None,
) -> np.ndarray:
    """Class map ``HxW`` (int64) from logits ``[1,C,h,w]`` or ``[1,h,w,C]``, the way mmseg evaluates.

    Logits are resized bilinearly (align_corners=False) to ``out_size_hw`` and reduced by argmax.
    mmseg's whole-image inference first upsamples to the network input size and only then to the
    original image size; pass ``input_size_hw`` to reproduce those two steps exactly.
    """
    layout = parse_layout(layout)
    tensor = logits if isinstance(logits, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(logits))
    if tensor.ndim != 4 or tensor.shape[0] != 1:
        raise UsageError(f"expected logits of shape [1,C,h,w] or [1,h,w,C], got {tuple(tensor.shape)}")
    tensor = tensor.detach().to(torch.float32)
    if layout == "nhwc":
        tensor = tensor.permute(0, 3, 1, 2)
    targets = [_check_size(input_size_hw)] if input_size_hw is not None else []
    targets.append(_check_size(out_size_hw))
    with torch.no_grad():
        for size in targets:
            if tuple(tensor.shape[2:]) != size:
                tensor = F.interpolate(tensor, size=size, mode="bilinear", align_corners=False)
        labels = tensor.argmax(dim=1)[0]
    return labels.numpy().astype(np.int64, copy=False)


def load_image_pil(path: str | os.PathLike[str]) -> Image.Image:
    """Read an image file as a PIL RGB image, as timm's ImageDataset does (``Image.open(f).convert("RGB")``)."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except OSError as exc:
        raise UsageError(f"cannot read image {path}: {first_line(exc)}") from None


def classification_resize_hw(image_hw: tuple[int, int], size_hw: tuple[int, int]) -> tuple[int, int]:
    """``(h, w)`` an image of ``image_hw`` is resized to before the centre crop to ``size_hw``.

    A square input resizes the short side to ``floor(size / crop_pct)`` keeping the ratio, the long side
    ``int(short * long / old_short)``; a non-square input resizes to exactly ``int(side / crop_pct)`` per side.
    """
    height, width = _check_size(image_hw)
    out_h, out_w = _check_size(size_hw)
    if out_h != out_w:
        return int(out_h / CLASSIFICATION_CROP_PCT), int(out_w / CLASSIFICATION_CROP_PCT)
    short_target = math.floor(out_h / CLASSIFICATION_CROP_PCT)
    short, long = min(height, width), max(height, width)
    if short == short_target:
        return height, width
    new_long = int(short_target * long / short)
    return (short_target, new_long) if height <= width else (new_long, short_target)


def center_crop_box(image_hw: tuple[int, int], crop_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """PIL ``(left, top, right, bottom)`` of torchvision's centre crop (offsets rounded half to even)."""
    height, width = _check_size(image_hw)
    crop_h, crop_w = _check_size(crop_hw)
    if crop_h > height or crop_w > width:
        raise UsageError(f"cannot crop {crop_h}x{crop_w} from a {height}x{width} image")
    top, left = round((height - crop_h) / 2.0), round((width - crop_w) / 2.0)
    return left, top, left + crop_w, top + crop_h


def classification_crop(image: Image.Image | np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """The resized, centre-cropped RGB uint8 ``HxWx3`` the official evaluation feeds to normalisation."""
    pil = image if isinstance(image, Image.Image) else Image.fromarray(_rgb_uint8(image), "RGB")
    if pil.mode != "RGB":
        pil = pil.convert("RGB")
    resized_h, resized_w = classification_resize_hw((pil.height, pil.width), size_hw)
    if (resized_h, resized_w) != (pil.height, pil.width):
        pil = pil.resize((resized_w, resized_h), CLASSIFICATION_RESAMPLE)
    cropped = pil.crop(center_crop_box((pil.height, pil.width), size_hw))
    return np.asarray(cropped, dtype=np.uint8)


def preprocess_classification(
    image: Image.Image | np.ndarray, size_hw: tuple[int, int], *, layout: str = "nchw"
) -> np.ndarray:
    """An RGB image (PIL, or uint8 ``HxWx3``) as the official evaluation's float32 batch of one.

    Resize and crop as :func:`classification_crop`, then ``(x - mean) / std`` with
    :data:`IMAGENET_NORMALIZATION` in float32, a division as timm's prefetcher does.
    """
    layout = parse_layout(layout)
    pixels = classification_crop(image, size_hw).astype(np.float32)
    mean = np.asarray(IMAGENET_NORMALIZATION.mean, dtype=np.float32)
    std = np.asarray(IMAGENET_NORMALIZATION.std, dtype=np.float32)
    normalized = (pixels - mean) / std
    if layout == "nchw":
        normalized = normalized.transpose(2, 0, 1)
    return np.ascontiguousarray(normalized[None])

"""Classification preprocessing equals the official seaformer-cls evaluation transform.

The oracle is written from the published definitions, not from our code: Pillow's bicubic resampling
(``libImaging/Resample.c``: a = -0.5 cubic kernel widened by the downscale factor, 22-bit fixed-point
coefficients, a horizontal pass rounded to uint8, then a vertical pass), torchvision's ``Resize(int)`` and
``CenterCrop`` geometry, and timm's prefetcher normalisation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from seaformer_deploy.data.preprocess import (
    IMAGENET_NORMALIZATION,
    center_crop_box,
    classification_crop,
    classification_resize_hw,
    load_image_pil,
    preprocess_classification,
)
from seaformer_deploy.errors import UsageError

_PRECISION_BITS = 32 - 8 - 2


def _cubic(x: float) -> float:
    a = -0.5
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def _fixed_point_weights(in_size: int, out_size: int) -> list[tuple[int, np.ndarray]]:
    """(first input index, integer weights) per output pixel, as Pillow precomputes them."""
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support = 2.0 * filter_scale
    rows = []
    for out in range(out_size):
        center = (out + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_size)
        weights = np.array([_cubic((x - center + 0.5) / filter_scale) for x in range(lo, hi)])
        weights = weights / weights.sum()
        fixed = np.where(weights < 0, np.trunc(-0.5 + weights * (1 << _PRECISION_BITS)),
                         np.trunc(0.5 + weights * (1 << _PRECISION_BITS))).astype(np.int64)
        rows.append((lo, fixed))
    return rows


def _resample_axis(pixels: np.ndarray, out_size: int, axis: int) -> np.ndarray:
    moved = np.moveaxis(pixels.astype(np.int64), axis, 0)
    out = np.empty((out_size, *moved.shape[1:]), dtype=np.uint8)
    for index, (lo, weights) in enumerate(_fixed_point_weights(moved.shape[0], out_size)):
        acc = (1 << (_PRECISION_BITS - 1)) + np.tensordot(weights, moved[lo:lo + len(weights)], axes=1)
        out[index] = np.clip(acc >> _PRECISION_BITS, 0, 255)
    return np.moveaxis(out, 0, axis)


def _oracle_bicubic(pixels: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    height, width = pixels.shape[:2]
    if out_hw[1] != width:
        pixels = _resample_axis(pixels, out_hw[1], axis=1)
    if out_hw[0] != height:
        pixels = _resample_axis(pixels, out_hw[0], axis=0)
    return pixels


def _oracle_eval_transform(pixels: np.ndarray, size: int) -> np.ndarray:
    """torchvision Resize(floor(size / 0.875)) + CenterCrop(size) + ToNumpy + timm prefetcher normalisation."""
    height, width = pixels.shape[:2]
    short_target = math.floor(size / 0.875)
    if min(height, width) != short_target:
        if width <= height:
            new_w, new_h = short_target, int(short_target * height / width)
        else:
            new_h, new_w = short_target, int(short_target * width / height)
        pixels = _oracle_bicubic(pixels, (new_h, new_w))
    top = round((pixels.shape[0] - size) / 2.0)
    left = round((pixels.shape[1] - size) / 2.0)
    crop = pixels[top:top + size, left:left + size].astype(np.float32)
    mean = np.array([0.485 * 255, 0.456 * 255, 0.406 * 255], dtype=np.float32)
    std = np.array([0.229 * 255, 0.224 * 255, 0.225 * 255], dtype=np.float32)
    return ((crop - mean) / std).transpose(2, 0, 1)[None]


def _textured(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = 127 + 100 * np.sin(xs / 3.0)[..., None] * np.cos(ys / 5.0)[..., None] * np.array([1.0, -0.6, 0.3])
    return np.clip(base + rng.normal(0, 25, (height, width, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("height", "width"), [(375, 500), (500, 333), (181, 203), (256, 300), (120, 90)])
def test_matches_the_official_eval_transform_exactly(height, width, tmp_path):
    pixels = _textured(height, width, seed=height)
    path = tmp_path / "image.png"
    Image.fromarray(pixels).save(path)
    ours = preprocess_classification(load_image_pil(path), (224, 224))
    expected = _oracle_eval_transform(pixels, 224)
    assert ours.shape == (1, 3, 224, 224) and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, expected)


def test_nhwc_layout_and_array_input_agree_with_pil_input():
    pixels = _textured(300, 260, seed=1)
    nchw = preprocess_classification(Image.fromarray(pixels), (224, 224))
    nhwc = preprocess_classification(pixels, (224, 224), layout="nhwc")
    np.testing.assert_array_equal(nhwc.transpose(0, 3, 1, 2), nchw)


def test_geometry_hand_checked():
    # 500 wide, 375 tall: short side 375 -> 256, long side int(256 * 500 / 375) = int(341.33) = 341.
    assert classification_resize_hw((375, 500), (224, 224)) == (256, 341)
    assert classification_resize_hw((500, 375), (224, 224)) == (341, 256)
    assert classification_resize_hw((256, 999), (224, 224)) == (256, 999)  # short side already right: untouched
    assert classification_resize_hw((400, 400), (256, 256)) == (292, 292)  # floor(256 / 0.875) = 292
    assert classification_resize_hw((400, 600), (224, 320)) == (256, 365)  # non-square: int(side / 0.875) each
    # (341 - 224) / 2 = 58.5 rounds half to even: 58, as Python's round in torchvision's center_crop.
    assert center_crop_box((256, 341), (224, 224)) == (58, 16, 282, 240)
    assert center_crop_box((256, 343), (224, 224)) == (60, 16, 284, 240)  # 59.5 -> 60


def test_normalization_is_timm_imagenet():
    assert IMAGENET_NORMALIZATION.mean == pytest.approx((123.675, 116.28, 103.53))
    assert IMAGENET_NORMALIZATION.std == pytest.approx((58.395, 57.12, 57.375))
    flat = np.full((224, 224, 3), 200, dtype=np.uint8)
    got = preprocess_classification(flat, (224, 224))[0, :, 0, 0]
    np.testing.assert_allclose(got, [(200 / 255 - m) / s for m, s in
                                     zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225), strict=True)], rtol=1e-6)


def test_crop_output_is_uint8_at_the_input_size():
    crop = classification_crop(_textured(100, 150, seed=2), (64, 96))
    assert crop.shape == (64, 96, 3) and crop.dtype == np.uint8


def test_bad_inputs_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="missing.jpg"):
        load_image_pil(tmp_path / "missing.jpg")
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    with pytest.raises(UsageError, match="junk.jpg"):
        load_image_pil(tmp_path / "junk.jpg")
    with pytest.raises(UsageError, match="RGB uint8"):
        preprocess_classification(np.zeros((8, 8), dtype=np.uint8), (224, 224))
    with pytest.raises(UsageError, match="crop"):
        center_crop_box((100, 100), (224, 224))

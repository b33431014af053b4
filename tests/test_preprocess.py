"""Preprocessing matches the official SeaFormer ADE20K test pipeline; logits become labels like mmseg."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from seaformer_deploy.data.preprocess import (
    ADE20K_NORMALIZATION,
    Normalization,
    load_image,
    load_label,
    logits_to_labels,
    parse_layout,
    preprocess,
    rescale_keep_ratio,
    rescale_size_hw,
    resize_image,
)
from seaformer_deploy.errors import UsageError


def test_ade20k_normalization_values_and_round_trip():
    assert ADE20K_NORMALIZATION.mean == (123.675, 116.28, 103.53)
    assert ADE20K_NORMALIZATION.std == (58.395, 57.12, 57.375)
    assert ADE20K_NORMALIZATION.color_order == "RGB"
    as_dict = ADE20K_NORMALIZATION.to_dict()
    assert as_dict == {
        "mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375], "color_order": "RGB",
    }
    assert Normalization.from_dict(as_dict) == ADE20K_NORMALIZATION
    with pytest.raises(dataclasses.FrozenInstanceError):
        ADE20K_NORMALIZATION.mean = (0.0, 0.0, 0.0)  # type: ignore[misc]


@pytest.mark.parametrize(
    "data",
    [{"std": [1, 1, 1]}, {"mean": [0, 0], "std": [1, 1, 1]}, {"mean": [0, 0, 0], "std": [1, 0, 1]},
     {"mean": [0, 0, 0], "std": [1, 1, 1], "color_order": "RGBA"}],
)
def test_malformed_normalization_is_usage_error(data):
    with pytest.raises(UsageError):
        Normalization.from_dict(data)


def test_load_image_returns_rgb(tmp_path):
    pixels = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(tmp_path / "rgb.png")
    loaded = load_image(tmp_path / "rgb.png")
    assert loaded.dtype == np.uint8 and loaded.shape == (2, 2, 3)
    np.testing.assert_array_equal(loaded, pixels)


def test_load_image_errors_name_the_path(tmp_path):
    with pytest.raises(UsageError, match="missing.jpg"):
        load_image(tmp_path / "missing.jpg")
    (tmp_path / "text.jpg").write_text("not an image")
    with pytest.raises(UsageError, match="text.jpg"):
        load_image(tmp_path / "text.jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(UsageError, match="empty.png"):
        load_image(tmp_path / "empty.png")


def test_load_label_keeps_values_unchanged(tmp_path):
    values = np.array([[0, 1, 150], [254, 255, 7]], dtype=np.uint8)
    Image.fromarray(values, "L").save(tmp_path / "gray.png")
    palette = Image.fromarray(values, "L").convert("P")
    palette.putpalette(list(range(256)) * 3)
    palette.save(tmp_path / "palette.png")
    for name in ("gray.png", "palette.png"):
        label = load_label(tmp_path / name)
        assert label.dtype == np.uint8
        np.testing.assert_array_equal(label, values)


def test_load_label_errors(tmp_path):
    with pytest.raises(UsageError, match="nope.png"):
        load_label(tmp_path / "nope.png")
    Image.fromarray(np.zeros((3, 3, 3), np.uint8), "RGB").save(tmp_path / "rgb.png")
    with pytest.raises(UsageError, match="single-channel"):
        load_label(tmp_path / "rgb.png")
    Image.fromarray(np.full((2, 2), 300, np.uint16)).save(tmp_path / "wide.png")
    with pytest.raises(UsageError, match="outside 0..255"):
        load_label(tmp_path / "wide.png")


def test_resize_image_is_half_pixel_bilinear():
    # Width 2 -> 4: output centres map to source x = -0.25, 0.25, 0.75, 1.25 (edges clamp).
    row = np.array([[0, 100]], dtype=np.uint8)
    np.testing.assert_array_equal(resize_image(row, (1, 4)), [[0, 25, 75, 100]])
    image = np.zeros((5, 7, 3), dtype=np.uint8)
    assert resize_image(image, (3, 11)).shape == (3, 11, 3)
    with pytest.raises(UsageError):
        resize_image(image, (0, 4))


@pytest.mark.parametrize(
    ("image_hw", "expected_hw"),
    [
        ((512, 683), (512, 683)),  # already within 2048x512: factor min(2048/683, 512/512) = 1
        ((375, 500), (512, 683)),  # factor 512/375: 500 * 1.3653 = 682.67 -> 683
        ((1024, 2048), (512, 1024)),  # Cityscapes: factor 0.5
        ((800, 300), (1365, 512)),  # portrait: factor 512/300, 800 * 1.70667 = 1365.3
        ((100, 5000), (41, 2048)),  # very wide: long edge binds, 100 * 0.4096 = 40.96 -> 41
    ],
)
def test_rescale_size_follows_imrescale(image_hw, expected_hw):
    assert rescale_size_hw(image_hw) == expected_hw
    image = np.zeros((*image_hw, 3), dtype=np.uint8)
    assert rescale_keep_ratio(image).shape == (*expected_hw, 3)


def test_preprocess_hand_checked_values():
    image = np.array([[[255, 0, 128], [123, 116, 103]], [[0, 0, 0], [255, 255, 255]]], dtype=np.uint8)
    out = preprocess(image, (2, 2))
    assert out.dtype == np.float32 and out.shape == (1, 3, 2, 2)
    # (255 - 123.675) / 58.395, (0 - 116.28) / 57.12, (128 - 103.53) / 57.375
    np.testing.assert_allclose(out[0, :, 0, 0], [2.248909, -2.035714, 0.426492], atol=1e-5)
    np.testing.assert_allclose(out[0, :, 1, 1], [2.248909, 2.428571, 2.640000], atol=1e-5)
    mean, std = np.array([123.675, 116.28, 103.53]), np.array([58.395, 57.12, 57.375])
    expected = (image.astype(np.float64) - mean) / std
    np.testing.assert_allclose(out[0].transpose(1, 2, 0), expected, atol=1e-5)


def test_preprocess_layouts_and_resize():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    nchw = preprocess(image, (64, 128))
    nhwc = preprocess(image, (64, 128), layout="NHWC")
    assert nchw.shape == (1, 3, 64, 128) and nhwc.shape == (1, 64, 128, 3)
    assert nchw.flags["C_CONTIGUOUS"] and nhwc.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(nchw[0].transpose(1, 2, 0), nhwc[0])
    resized = resize_image(image, (64, 128)).astype(np.float64)
    expected = (resized - np.array([123.675, 116.28, 103.53])) / np.array([58.395, 57.12, 57.375])
    np.testing.assert_allclose(nhwc[0], expected, atol=1e-5)


def test_preprocess_bgr_normalization_swaps_channels():
    image = np.zeros((1, 1, 3), dtype=np.uint8)
    image[0, 0] = (200, 100, 50)
    bgr = Normalization(mean=(0, 0, 0), std=(1, 2, 4), color_order="BGR")
    np.testing.assert_allclose(preprocess(image, (1, 1), normalization=bgr)[0, :, 0, 0], [50, 50, 50])


@pytest.mark.parametrize("layout", ["nchw", "NCHW", "nhwc", "Nhwc"])
def test_parse_layout_case_insensitive(layout):
    assert parse_layout(layout) == layout.lower()


def test_preprocess_errors():
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    with pytest.raises(UsageError, match="chwn"):
        preprocess(image, (4, 4), layout="chwn")
    with pytest.raises(UsageError, match="float32"):
        preprocess(image.astype(np.float32), (4, 4))
    with pytest.raises(UsageError):
        preprocess(np.zeros((4, 4), dtype=np.uint8), (4, 4))
    with pytest.raises(UsageError):
        preprocess(image, (4, -1))


def test_logits_to_labels_hand_checked():
    # 1x2 -> 1x4 with align_corners=False samples x = -0.25, 0.25, 0.75, 1.25, so class 0 becomes
    # [1, .75, .25, 0] against a constant 0.7 for class 1. (align_corners=True would give .667 at x=1.)
    logits = np.array([[[[1.0, 0.0]], [[0.7, 0.7]]]], dtype=np.float32)
    labels = logits_to_labels(logits, (1, 4))
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [[0, 0, 1, 1]])


def test_logits_to_labels_matches_torch_and_layouts():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((1, 6, 7, 9)).astype(np.float32)
    expected = F.interpolate(torch.from_numpy(logits), size=(30, 41), mode="bilinear", align_corners=False)
    expected = expected.argmax(dim=1)[0].numpy()
    np.testing.assert_array_equal(logits_to_labels(logits, (30, 41)), expected)
    nhwc = logits.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(logits_to_labels(nhwc, (30, 41), layout="NHWC"), expected)
    np.testing.assert_array_equal(logits_to_labels(torch.from_numpy(logits), (30, 41)), expected)
    np.testing.assert_array_equal(logits_to_labels(logits, (7, 9)), logits[0].argmax(axis=0))


def test_logits_to_labels_two_step_resize_like_mmseg():
    rng = np.random.default_rng(2)
    logits = torch.from_numpy(rng.standard_normal((1, 5, 8, 8)).astype(np.float32))
    to_input = F.interpolate(logits, size=(64, 64), mode="bilinear", align_corners=False)
    to_original = F.interpolate(to_input, size=(50, 75), mode="bilinear", align_corners=False)
    expected = to_original.argmax(dim=1)[0].numpy()
    got = logits_to_labels(logits.numpy(), (50, 75), input_size_hw=(64, 64))
    np.testing.assert_array_equal(got, expected)
    # The direct resize differs from the two-step one somewhere, so the option matters.
    assert (logits_to_labels(logits.numpy(), (50, 75)) != expected).any()


def test_logits_to_labels_errors():
    with pytest.raises(UsageError, match="logits"):
        logits_to_labels(np.zeros((3, 4, 4), np.float32), (4, 4))
    with pytest.raises(UsageError, match="logits"):
        logits_to_labels(np.zeros((2, 3, 4, 4), np.float32), (4, 4))
    with pytest.raises(UsageError):
        logits_to_labels(np.zeros((1, 3, 4, 4), np.float32), (4, 4), layout="hwc")

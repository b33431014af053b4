"""Dataset readers: layouts, label conventions, ordering and one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seaformer_deploy.data.datasets import (
    ADE20K_CLASSES,
    CITYSCAPES_CLASSES,
    DEMO_VAL_IMAGES,
    open_dataset,
    reduce_zero_label,
)
from seaformer_deploy.data.demo import DEMO_FORMAT_VERSION
from seaformer_deploy.errors import UsageError


def write_pair(image_path: Path, label_path: Path | None, label: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(*label.shape, 3), dtype=np.uint8)
    image_path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(image_path)
    if label_path is not None:
        label_path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(label.astype(np.uint8), "L").save(label_path)
    return image


def make_ade(root: Path, stems: list[str]) -> dict[str, np.ndarray]:
    labels = {}
    for index, stem in enumerate(stems):
        label = np.array([[0, 1, 2], [150, 255, 7]], dtype=np.uint8) + np.uint8(index % 2)
        label[0, 0] = 0
        # JPEG is lossy, so image content is not compared for ADE; PNG is used elsewhere.
        write_pair(root / "images" / "validation" / f"{stem}.jpg",
                   root / "annotations" / "validation" / f"{stem}.png", label, index)
        labels[stem] = label
    return labels


def test_reduce_zero_label_matches_mmseg_convention():
    stored = np.array([0, 1, 2, 150, 254, 255], dtype=np.uint8)
    np.testing.assert_array_equal(reduce_zero_label(stored), [255, 0, 1, 149, 253, 255])
    assert reduce_zero_label(stored).dtype == np.uint8


def test_class_tables():
    assert len(ADE20K_CLASSES) == 150 and len(set(ADE20K_CLASSES)) == 150
    assert ADE20K_CLASSES[:4] == ("wall", "building", "sky", "floor") and ADE20K_CLASSES[-1] == "flag"
    assert len(CITYSCAPES_CLASSES) == 19 and CITYSCAPES_CLASSES[0] == "road"


def test_ade20k_reader(tmp_path):
    labels = make_ade(tmp_path, ["b_0002", "a_0001", "c_0003"])
    dataset = open_dataset(f"ade20k:{tmp_path}")
    assert dataset.name == "ade20k" and dataset.num_classes == 150 and dataset.ignore_index == 255
    assert dataset.class_names == ADE20K_CLASSES and dataset.reduce_zero_label
    assert len(dataset) == 3
    samples = list(dataset)
    assert [s.name for s in samples] == ["a_0001", "b_0002", "c_0003"]
    for sample in samples:
        assert sample.image.dtype == np.uint8 and sample.image.shape == (2, 3, 3)
        stored = labels[sample.name].astype(np.int64)
        expected = np.where(stored == 0, 255, stored - 1)
        expected[expected == 254] = 255
        np.testing.assert_array_equal(sample.label, expected)
    assert dataset.describe()["num_samples"] == 3


def test_limit_keeps_first_in_sorted_order(tmp_path):
    make_ade(tmp_path, ["z", "m", "a", "q"])
    dataset = open_dataset(f"ade20k:{tmp_path}", limit=2)
    assert len(dataset) == 2 and [s.name for s in dataset] == ["a", "m"]
    assert open_dataset(f"ade20k:{tmp_path}", limit=10).names == ("a", "m", "q", "z")


def test_cityscapes_reader(tmp_path):
    stems = {
        "frankfurt": ["frankfurt_000001_000002", "frankfurt_000000_000001"],
        "lindau": ["lindau_000000_000019"],
    }
    train_ids = np.array([[0, 18, 255], [7, 3, 11]], dtype=np.uint8)
    images = {}
    for seed, (city, names) in enumerate(stems.items()):
        for name in names:
            images[name] = write_pair(
                tmp_path / "leftImg8bit" / "val" / city / f"{name}_leftImg8bit.png",
                tmp_path / "gtFine" / "val" / city / f"{name}_gtFine_labelTrainIds.png", train_ids, seed)
    dataset = open_dataset(f"cityscapes:{tmp_path}", num_classes=19)
    assert dataset.num_classes == 19 and dataset.class_names == CITYSCAPES_CLASSES
    samples = list(dataset)
    assert [s.name for s in samples] == sorted(images)
    for sample in samples:
        np.testing.assert_array_equal(sample.label, train_ids)  # no reduction
        np.testing.assert_array_equal(sample.image, images[sample.name])  # PNG is lossless, RGB order


def test_cityscapes_missing_train_ids(tmp_path):
    write_pair(tmp_path / "leftImg8bit" / "val" / "ulm" / "ulm_000000_000001_leftImg8bit.png", None,
               np.zeros((2, 2), np.uint8), 0)
    (tmp_path / "gtFine" / "val" / "ulm").mkdir(parents=True)
    with pytest.raises(UsageError, match="labelTrainIds"):
        open_dataset(f"cityscapes:{tmp_path}")


def test_folder_reader_with_and_without_reduction(tmp_path):
    label = np.array([[0, 1], [2, 3]], dtype=np.uint8)
    image = write_pair(tmp_path / "img" / "x.png", tmp_path / "lbl" / "x.png", label, 0)
    plain = open_dataset(f"folder:{tmp_path / 'img'},{tmp_path / 'lbl'}", num_classes=4)
    sample = next(iter(plain))
    assert plain.class_names == ("class_0", "class_1", "class_2", "class_3")
    np.testing.assert_array_equal(sample.label, label)
    np.testing.assert_array_equal(sample.image, image)
    spec = f"folder:{tmp_path / 'img'},{tmp_path / 'lbl'}"
    reduced = open_dataset(spec, num_classes=3, reduce_zero_label=True)
    np.testing.assert_array_equal(next(iter(reduced)).label, [[255, 0], [1, 2]])


def test_images_only(tmp_path):
    for index, stem in enumerate(["b", "a"]):
        write_pair(tmp_path / f"{stem}.png", None, np.zeros((4, 5), np.uint8), index)
    (tmp_path / "notes.txt").write_text("ignored")
    dataset = open_dataset(f"images:{tmp_path}")
    samples = list(dataset)
    assert [s.name for s in samples] == ["a", "b"] and all(s.label is None for s in samples)
    assert not dataset.has_labels and dataset.num_classes is None


def test_demo_spec_generates_into_path(tmp_path):
    dataset = open_dataset(f"demo:{tmp_path / 'demo'}", limit=3)
    assert dataset.name == "demo" and dataset.num_classes == 150 and len(dataset) == 3
    for sample in dataset:
        assert sample.label.shape == sample.image.shape[:2]
        assert (sample.label == 255).any() and (sample.label < 150).any()


def test_demo_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    dataset = open_dataset("demo", limit=1)
    # The generator version is in the folder name, so other generators' scenes never mix with these.
    assert (tmp_path / "seaformer-deploy" / f"demo-v{DEMO_FORMAT_VERSION}" / "images" / "validation").is_dir()
    assert len(dataset) == 1
    assert len(open_dataset("demo")) == DEMO_VAL_IMAGES


def test_label_image_size_mismatch(tmp_path):
    write_pair(tmp_path / "img" / "x.png", None, np.zeros((4, 4), np.uint8), 0)
    (tmp_path / "lbl").mkdir()
    Image.fromarray(np.zeros((3, 4), np.uint8), "L").save(tmp_path / "lbl" / "x.png")
    dataset = open_dataset(f"folder:{tmp_path / 'img'},{tmp_path / 'lbl'}", num_classes=2)
    with pytest.raises(UsageError, match="x.png"):
        list(dataset)


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ("coco:/data", {}, "unknown dataset"),
        ("ade20k", {}, "needs a path"),
        ("ade20k:{missing}", {}, "not found"),
        ("folder:{img}", {"num_classes": 2}, "IMAGES_DIR,LABELS_DIR"),
        ("folder:{img},{lbl}", {}, "num_classes"),
        ("folder:{img},{lbl}", {"num_classes": 2, "limit": 0}, "limit"),
        ("ade20k:{ade}", {"num_classes": 19}, "150 classes"),
        ("ade20k:{ade}", {"reduce_zero_label": True}, "reduce_zero_label"),
        ("images:{empty}", {}, "no images"),
        ("folder:{img},{empty}", {"num_classes": 2}, "have no label"),
    ],
)
def test_bad_specs_are_usage_errors(tmp_path, spec, kwargs, message):
    write_pair(tmp_path / "img" / "x.png", tmp_path / "lbl" / "x.png", np.zeros((2, 2), np.uint8), 0)
    make_ade(tmp_path / "ade", ["a"])
    (tmp_path / "empty").mkdir()
    paths = {name: tmp_path / name for name in ("img", "lbl", "ade", "empty", "missing")}
    with pytest.raises(UsageError, match=message) as info:
        open_dataset(spec.format(**paths), **kwargs)
    assert "\n" not in str(info.value)

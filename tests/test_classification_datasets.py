"""Classification datasets: ImageFolder read as the official evaluation reads it, the demo set, and bad layouts."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from seaformer_deploy.data.classification import natural_key, open_imagefolder
from seaformer_deploy.data.datasets import open_dataset
from seaformer_deploy.data.demo_cls import DEMO_CLS_PATTERNS, MANIFEST_NAME, make_demo_cls_dataset
from seaformer_deploy.errors import UsageError


def _image(path, value: int = 100, size=(24, 32)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), value, dtype=np.uint8)).save(path)


def test_imagefolder_classes_in_natural_order_and_targets(tmp_path):
    for folder, files in {"class10": ["b.jpg"], "class2": ["a.PNG", "c.jpeg"], "Apple": ["x.jpg"]}.items():
        for name in files:
            _image(tmp_path / folder / name)
    (tmp_path / "class2" / "notes.txt").write_text("ignored, as timm ignores it")
    dataset = open_dataset(f"imagenet:{tmp_path}")
    # Natural order: case-insensitive, digit runs as numbers ("class2" before "class10").
    assert dataset.class_names == ("Apple", "class2", "class10")
    assert dataset.num_classes == 3
    samples = list(dataset)
    assert [(s.name, s.target) for s in samples] == [
        ("Apple/x.jpg", 0), ("class2/a.PNG", 1), ("class2/c.jpeg", 1), ("class10/b.jpg", 2)]
    assert all(s.image.mode == "RGB" and s.image.size == (32, 24) for s in samples)
    assert len(open_dataset(f"imagenet:{tmp_path}", limit=2)) == 2


def test_natural_key_matches_timm_rule():
    assert sorted(["n10", "n9", "N1"], key=natural_key) == ["N1", "n9", "n10"]
    assert sorted(["n01440764", "n01443537", "n00000001"], key=natural_key) == sorted(
        ["n01440764", "n01443537", "n00000001"])


def test_grayscale_and_palette_images_become_rgb(tmp_path):
    tmp_path.joinpath("a").mkdir()
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8), "L").save(tmp_path / "a" / "gray.png")
    sample = next(iter(open_imagefolder(tmp_path)))
    assert sample.image.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(sample.image)[..., 0], np.arange(64).reshape(8, 8))


def test_images_directly_in_root_are_not_imagefolder(tmp_path):
    _image(tmp_path / "loose.jpg")
    _image(tmp_path / "cat" / "a.jpg")
    with pytest.raises(UsageError, match=r"not in ImageFolder layout: it holds images directly \(e.g. loose.jpg\)"):
        open_dataset(f"imagenet:{tmp_path}")


def test_class_folder_without_images_is_refused(tmp_path):
    _image(tmp_path / "cat" / "a.jpg")
    (tmp_path / "dog").mkdir()
    with pytest.raises(UsageError, match="class folder 'dog' has no images"):
        open_dataset(f"imagenet:{tmp_path}")
    _image(tmp_path / "dog" / "deeper" / "b.jpg")
    with pytest.raises(UsageError, match="nested deeper"):
        open_dataset(f"imagenet:{tmp_path}")


@pytest.mark.parametrize("make", ["empty", "files_only"])
def test_no_images_is_one_error(tmp_path, make):
    if make == "files_only":
        (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(UsageError, match="no class folders and no images"):
        open_dataset(f"imagenet:{tmp_path}")


def test_missing_path_and_missing_dir(tmp_path):
    with pytest.raises(UsageError, match="needs a path"):
        open_dataset("imagenet")
    with pytest.raises(UsageError, match="not found"):
        open_dataset(f"imagenet:{tmp_path / 'nope'}")


def test_class_count_must_match_the_model(tmp_path):
    _image(tmp_path / "a" / "1.jpg")
    _image(tmp_path / "b" / "1.jpg")
    assert open_dataset(f"imagenet:{tmp_path}", num_classes=2).num_classes == 2
    with pytest.raises(UsageError, match="has 2 classes but the model outputs 1000"):
        open_dataset(f"imagenet:{tmp_path}", num_classes=1000)
    with pytest.raises(UsageError, match="--num-classes 10"):
        open_dataset(f"demo-cls:{tmp_path / 'demo'}", num_classes=1000)


def test_demo_cls_is_imagefolder_deterministic_and_idempotent(tmp_path):
    dataset = open_dataset(f"demo-cls:{tmp_path / 'a'}")
    assert dataset.class_names == tuple(sorted(DEMO_CLS_PATTERNS)) and dataset.num_classes == 10
    samples = list(dataset)
    assert len(samples) == 40
    assert sorted({s.target for s in samples}) == list(range(10))
    assert len({s.image.size for s in samples}) > 10, "sizes and aspect ratios vary"
    def digest(root):
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.jpg")}

    assert len(digest(tmp_path / "a")) == 40
    assert digest(make_demo_cls_dataset(tmp_path / "b")) == digest(tmp_path / "a")
    stamp = (tmp_path / "a" / MANIFEST_NAME).stat().st_mtime_ns
    open_dataset(f"demo-cls:{tmp_path / 'a'}")
    assert (tmp_path / "a" / MANIFEST_NAME).stat().st_mtime_ns == stamp

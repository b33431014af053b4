"""The procedural demo dataset: deterministic, idempotent, ADE20K-shaped, small and fast."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from seaformer_deploy.data.datasets import ADE20K_CLASSES, open_dataset
from seaformer_deploy.data.demo import DEMO_CLASSES, MANIFEST_NAME, demo_image, demo_scene, make_demo_dataset
from seaformer_deploy.data.preprocess import load_image, load_label


def tree_digest(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


def test_layout_and_labels(tmp_path):
    root = make_demo_dataset(tmp_path, num_images=3, size_hw=(64, 96), seed=5)
    assert root == tmp_path
    images = sorted((root / "images" / "validation").iterdir())
    labels = sorted((root / "annotations" / "validation").iterdir())
    assert [p.name for p in images] == ["demo_0000.jpg", "demo_0001.jpg", "demo_0002.jpg"]
    assert [p.name for p in labels] == ["demo_0000.png", "demo_0001.png", "demo_0002.png"]
    allowed = {0} | {ade_id + 1 for ade_id in DEMO_CLASSES.values()}
    for image_path, label_path in zip(images, labels, strict=True):
        image, label = load_image(image_path), load_label(label_path)
        assert image.shape == (64, 96, 3) and label.shape == (64, 96)
        assert set(np.unique(label).tolist()) <= allowed
        assert len(np.unique(label)) >= 4  # several classes, not a single blob
        assert (label[0] == 0).all() and (label[-1] == 0).all() and (label[:, 0] == 0).all()
        assert (label[2:-2, 2:-2] > 0).all()  # ignore only on the thin border


def test_class_ids_are_real_ade20k_ids():
    for name, ade_id in DEMO_CLASSES.items():
        assert ADE20K_CLASSES[ade_id] == name


def test_same_seed_is_byte_identical_and_seed_matters(tmp_path):
    first = tree_digest(make_demo_dataset(tmp_path / "a", num_images=4, seed=3))
    second = tree_digest(make_demo_dataset(tmp_path / "b", num_images=4, seed=3))
    other = tree_digest(make_demo_dataset(tmp_path / "c", num_images=4, seed=4))
    assert first == second
    assert len(first) == 9  # 4 images, 4 labels, the manifest
    assert first["images/validation/demo_0000.jpg"] != other["images/validation/demo_0000.jpg"]


def test_idempotent_and_regenerates_on_change(tmp_path):
    make_demo_dataset(tmp_path, num_images=4)
    stats = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    make_demo_dataset(tmp_path, num_images=4)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == stats

    # A damaged file makes the dataset incomplete: it is rewritten.
    damaged = tmp_path / "images" / "validation" / "demo_0001.jpg"
    damaged.write_bytes(b"broken")
    make_demo_dataset(tmp_path, num_images=4)
    assert load_image(damaged).shape == (256, 256, 3)

    make_demo_dataset(tmp_path, num_images=2, size_hw=(64, 64))
    kept = sorted(p.name for p in (tmp_path / "images" / "validation").iterdir())
    assert kept == ["demo_0000.jpg", "demo_0001.jpg"]
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert manifest["num_images"] == 2 and manifest["size_hw"] == [64, 64]
    assert load_image(tmp_path / "images" / "validation" / "demo_0000.jpg").shape == (64, 64, 3)


def test_images_are_textured_not_flat(tmp_path):
    make_demo_dataset(tmp_path, num_images=2)
    for sample in open_dataset(f"demo:{tmp_path}"):
        for class_id in np.unique(sample.label):
            if class_id == 255:
                continue
            region = sample.image[sample.label == class_id].astype(np.float64)
            if len(region) > 200:
                assert region.std(axis=0).max() > 2.0, ADE20K_CLASSES[class_id]


def test_default_generation_writes_the_default_count(tmp_path):
    make_demo_dataset(tmp_path)
    assert len(list((tmp_path / "images" / "validation").iterdir())) == 8


def test_train_and_validation_seeds_give_disjoint_scenes():
    validation = {hashlib.sha256(demo_scene(0, i, (64, 64))[0].tobytes()).hexdigest() for i in range(32)}
    training = {hashlib.sha256(demo_scene(1, i, (64, 64))[0].tobytes()).hexdigest() for i in range(32)}
    assert len(validation) == len(training) == 32
    assert not validation & training


def test_scenes_cover_every_class_at_changing_scales():
    labels = [demo_scene(0, i, (128, 128))[1] for i in range(40)]
    present = set(np.unique(np.stack(labels)).tolist()) - {0}
    assert present == {ade_id + 1 for ade_id in DEMO_CLASSES.values()}
    person = DEMO_CLASSES["person"] + 1
    areas = [int((label == person).sum()) for label in labels if (label == person).any()]
    assert max(areas) > 6 * min(areas), "people appear at very different scales"


def test_demo_image():
    image = demo_image()
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8
    assert image.std() > 10
    np.testing.assert_array_equal(image, demo_image())
    assert demo_image((64, 128)).shape == (64, 128, 3)

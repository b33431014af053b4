"""Calibration and parity images are kept apart, and when they cannot be, the report says so."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from seaformer_deploy.cli.export import main as export_main
from seaformer_deploy.errors import UsageError
from seaformer_deploy.export.calibration import load_calibration_images, load_parity_images, same_source


def _folder(path, count):
    path.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        cv2.imwrite(str(path / f"img{index:02d}.png"), rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    return path


def test_demo_calibration_and_parity_scenes_are_different_images():
    calibration, calib_text = load_calibration_images("demo", 8)
    parity, parity_text, in_sample = load_parity_images("demo", 4)
    assert len(calibration) == 8 and len(parity) == 4 and not in_sample
    assert "training scenes" in calib_text and "evaluation scenes" in parity_text
    seen = {image.tobytes() for _, image in calibration}
    assert not any(image.tobytes() in seen for _, image in parity)


def test_folder_parity_takes_the_images_after_the_calibration_ones(tmp_path):
    folder = _folder(tmp_path / "images", 6)
    calibration, _ = load_calibration_images(folder, 4)
    parity, text, in_sample = load_parity_images(folder, 4, skip=len(calibration))
    assert [name for name, _ in calibration] == ["img00.png", "img01.png", "img02.png", "img03.png"]
    assert [name for name, _ in parity] == ["img04.png", "img05.png"]
    assert not in_sample and "images 5-6 of 6" in text


def test_folder_with_no_other_images_is_reused_and_flagged(tmp_path):
    folder = _folder(tmp_path / "images", 3)
    parity, text, in_sample = load_parity_images(folder, 4, skip=3)
    assert [name for name, _ in parity] == ["img00.png", "img01.png", "img02.png"]
    assert in_sample and "also used for calibration" in text
    assert load_parity_images(folder, 4)[2] is False


def test_missing_parity_folder_names_its_purpose(tmp_path):
    with pytest.raises(UsageError, match="parity folder .* does not exist"):
        load_parity_images(tmp_path / "missing", 4)
    with pytest.raises(UsageError, match="parity image count must be at least 1"):
        load_parity_images("demo", 0)


@pytest.mark.slow
def test_in_sample_parity_is_a_report_warning(tmp_path):
    folder = _folder(tmp_path / "images", 2)
    result = CliRunner().invoke(export_main, [
        "--variant", "T", "--format", "onnx", "--quant", "int8", "--input-size", "64", "--calib-data", str(folder),
        "--calib-count", "2", "--output-dir", str(tmp_path / "out"), "--json"])
    summary = json.loads(result.stdout)
    assert any("measured in-sample" in warning for warning in summary["warnings"])
    # Noise images on random weights may pass or fail the agreement gate; the report is written either way.
    report = json.loads(Path(summary["report"]).read_text())
    assert "also used for calibration" in report["parity"]["images"]


def test_same_source_sees_through_spelling(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "images", 1)
    monkeypatch.chdir(tmp_path)
    assert same_source("images", folder) and same_source("images/", f"{folder}/../images")
    assert same_source("demo", "demo") and not same_source("demo", folder)
    assert not same_source(folder, tmp_path)

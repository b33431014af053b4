"""seaformer-bench on classification models: top-1/top-5 on ImageFolder data as the official evaluation computes
them, agreement with PyTorch, the cls modules in the profile, and one clear error per bad dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from seaformer_deploy.cli.bench import main as bench_cli
from seaformer_deploy.data.datasets import open_dataset
from seaformer_deploy.data.preprocess import preprocess_classification
from seaformer_deploy.runtime import load_exported

FAST = ["--warmup", "1", "--runs", "3", "--repeats", "2", "--allow-unstable"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cls10(tmp_path_factory):
    """SeaFormer-T classification with 10 classes (the demo-cls count), ONNX at 64x64."""
    from seaformer_deploy.export.pipeline import ExportOptions, export

    return export(ExportOptions(variant="T", task="cls", format="onnx", input_size="64", num_classes=10),
                  tmp_path_factory.mktemp("cls10"))


def _bench(args: list[str]):
    return CliRunner().invoke(bench_cli, args)


def test_top1_top5_agreement_and_cls_modules(cls10, tmp_path):
    result = _bench(["--model", str(cls10.model_path), "--dataset", "demo-cls", "--reference", *FAST,
                     "--output-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    (path,) = tmp_path.glob("*.bench.json")
    report = json.loads(path.read_text())
    accuracy = report["accuracy"]
    # An independent top-1/top-5 over the same exported model and the official preprocessing.
    exported = load_exported(cls10.model_path)
    top1 = top5 = 0
    samples = list(open_dataset("demo-cls"))
    for sample in samples:
        scores = exported.run(preprocess_classification(sample.image, (64, 64))).reshape(-1)
        ranked = np.argsort(-scores)
        top1 += int(ranked[0] == sample.target)
        top5 += int(sample.target in ranked[:5])
    assert accuracy["metrics"]["num_images"] == len(samples) == 40
    assert accuracy["metrics"]["top1"] == pytest.approx(top1 / 40)
    assert accuracy["metrics"]["top5"] == pytest.approx(top5 / 40)
    assert summary["top1"] == accuracy["metrics"]["top1"]
    assert accuracy["agreement_with_pytorch"]["top1"] == 1.0  # fp32 ONNX picks PyTorch's class on every image
    modules = {row["module"] for row in report["profile"]["modules"]["modules"]}
    assert {"stem", "cls.pool", "cls.linear"} <= modules
    assert "top-1" in result.stderr and "top-1 agreement 100.00" in result.stderr


def _imagefolder(root, classes: int, per_class: int = 1):
    for index in range(classes):
        folder = root / f"class{index:02d}"
        folder.mkdir(parents=True)
        for item in range(per_class):
            Image.fromarray(np.full((40, 50, 3), 10 * index + item, np.uint8)).save(folder / f"{item}.png")
    return root


def test_imagefolder_dataset(cls10, tmp_path):
    data = _imagefolder(tmp_path / "data", 10)
    result = _bench(["--model", str(cls10.model_path), "--dataset", f"imagenet:{data}", *FAST, "--no-profile",
                     "--output-dir", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["top5"] is not None


@pytest.mark.parametrize(("make", "message"), [
    (lambda root: _imagefolder(root, 3), "has 3 classes but the model outputs 10"),
    (lambda root: (root.mkdir(), Image.new("RGB", (8, 8)).save(root / "x.png")),
     "not in ImageFolder layout: it holds images directly"),
    (lambda root: root.mkdir(), "has no class folders and no images"),
    (lambda root: (root.mkdir(), (root / "a").mkdir()), "class folder 'a' has no images"),
])
def test_bad_imagefolder_is_one_line_and_exit_2(cls10, tmp_path, make, message):
    make(tmp_path / "data")
    result = _bench(["--model", str(cls10.model_path), "--dataset", f"imagenet:{tmp_path / 'data'}", *FAST,
                     "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.bench.json"))


def test_task_mismatch_is_one_error(cls10, exported_t64, tmp_path):
    seg_on_cls = _bench(["--model", str(exported_t64.model_path), "--dataset", "demo-cls", *FAST,
                         "--output-dir", str(tmp_path)])
    assert seg_on_cls.exit_code == 2 and "classification dataset but the model is a seg model" in seg_on_cls.stderr
    cls_on_seg = _bench(["--model", str(cls10.model_path), "--dataset", "demo", *FAST, "--output-dir", str(tmp_path)])
    assert cls_on_seg.exit_code == 2 and "segmentation dataset but the model is a cls model" in cls_on_seg.stderr

"""The demo checkpoint shipped for SeaFormer-T: official mmseg layout, small, strict, instant, and accurate."""

from __future__ import annotations

import dataclasses
import warnings

import pytest
import torch

from seaformer_deploy import build_model
from seaformer_deploy.bench.pytorch_eager import eager_accuracy
from seaformer_deploy.data.datasets import open_demo
from seaformer_deploy.models.deploy import prepare_for_deploy
from seaformer_deploy.weights import demo as demo_weights
from seaformer_deploy.weights.checkpoints import read_checkpoint
from seaformer_deploy.weights.demo import DemoWeightsWarning, shipped_demo_checkpoint
from seaformer_deploy.weights.training import DEFAULT_TRAINING

MAX_BYTES = 8 * 1024 * 1024
TARGET_MIOU = 0.75


@pytest.fixture(scope="module")
def shipped():
    path = shipped_demo_checkpoint("T")
    assert path is not None, "the package ships no SeaFormer-T demo checkpoint"
    return path


def test_official_mmseg_layout_small_and_from_the_default_training(shipped):
    assert shipped.stat().st_size <= MAX_BYTES
    raw = torch.load(shipped, weights_only=True, map_location="cpu")
    assert set(raw) == {"meta", "state_dict"}
    assert all(key.startswith(("backbone.", "decode_head.")) for key in raw["state_dict"])
    assert any(key.startswith("decode_head.conv_seg.") for key in raw["state_dict"])
    meta = raw["meta"]["seaformer_deploy_demo_weights"]
    assert meta["variant"] == "T"
    assert meta["training"] == dataclasses.asdict(DEFAULT_TRAINING)
    assert read_checkpoint(shipped).layout == "mmseg"


def test_checkpoint_demo_loads_the_shipped_file_strictly_without_training(shipped, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def must_not_train(*args, **kwargs):
        raise AssertionError("SeaFormer-T demo weights were trained instead of loaded")

    monkeypatch.setattr(demo_weights, "train_demo_weights", must_not_train)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = build_model("T", checkpoint="demo")
    assert [w for w in caught if issubclass(w.category, DemoWeightsWarning)]
    assert model.weights.source == "demo" and model.weights.path == str(shipped)
    assert not model.weights.missing
    expected = torch.load(shipped, weights_only=True)["state_dict"]
    assert all(torch.equal(model.state_dict()[key], value) for key, value in expected.items())
    assert not (tmp_path / "seaformer-deploy" / "weights").exists()


def test_reaches_the_target_miou_at_256(shipped):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DemoWeightsWarning)
        deployed = prepare_for_deploy(build_model("T", checkpoint="demo"), 256)
    accuracy = eager_accuracy(deployed, open_demo())
    assert accuracy.num_samples == 16
    assert accuracy.miou >= TARGET_MIOU, accuracy.miou

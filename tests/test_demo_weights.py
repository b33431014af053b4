"""Demo weights: training really learns and is reproducible, T loads the shipped file at once, the other variants
are trained on demand and cached, and every model built on them says so."""

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from seaformer_deploy import build_model
from seaformer_deploy.cli.export import main as export_main
from seaformer_deploy.errors import UsageError
from seaformer_deploy.weights import demo as demo_weights
from seaformer_deploy.weights.checkpoints import read_checkpoint, state_fingerprint
from seaformer_deploy.weights.demo import DemoWeightsWarning, demo_checkpoint, demo_checkpoint_path
from seaformer_deploy.weights.training import DEFAULT_TRAINING, DemoTraining, train_demo_weights

TINY = DemoTraining(steps=16, batch_size=2, crop_size=64, scene_size=64, scenes=4, learning_rate=3e-3, warmup_steps=2)
# No checkpoint ships for S: it exercises the train-on-demand path.
ON_DEMAND = "S"


@dataclass(frozen=True)
class TrainedOnce:
    path: Path
    cache_root: Path
    messages: list[str]


@pytest.fixture(scope="session")
def trained_once(tmp_path_factory) -> TrainedOnce:
    """The tiny demo checkpoint of SeaFormer-S, trained once for every test of this file."""
    root = tmp_path_factory.mktemp("demo-cache")
    messages: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root))
        path = demo_checkpoint(ON_DEMAND.lower(), TINY, progress=messages.append)
    return TrainedOnce(path, root, messages)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def _install_as_default(trained: TrainedOnce) -> Path:
    """Put the tiny checkpoint where ``checkpoint="demo"`` looks (the current cache's default-training path)."""
    default = demo_checkpoint_path(ON_DEMAND)
    default.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(trained.path, default)
    return default


@pytest.mark.slow
def test_training_lowers_the_loss_and_is_reproducible(cache, trained_once):
    model = build_model(ON_DEMAND)
    before = state_fingerprint(model)
    losses = train_demo_weights(model, TINY)
    assert len(losses) == TINY.steps
    assert sum(losses[-3:]) / 3 < 0.8 * losses[0]
    assert state_fingerprint(model) != before
    assert not model.training
    # The cached run started from the same seeded weights with the same settings: the same weights came out.
    cached = read_checkpoint(trained_once.path).state
    assert all(torch.equal(model.state_dict()[k], v) for k, v in cached.items())
    meta = torch.load(trained_once.path, weights_only=True)["meta"]["seaformer_deploy_demo_weights"]
    assert meta["first_loss"] == losses[0] and meta["final_loss"] == losses[-1]


@pytest.mark.slow
def test_checkpoint_is_cached_in_the_official_layout_and_reused(trained_once, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(trained_once.cache_root))
    path = trained_once.path
    assert path == demo_checkpoint_path(ON_DEMAND, TINY) and path.is_relative_to(trained_once.cache_root)
    assert trained_once.messages[0].startswith(f"no demo checkpoint ships for SeaFormer-{ON_DEMAND}: training one now")
    assert trained_once.messages[-1].startswith(f"training demo weights: step {TINY.steps}/{TINY.steps}")
    loaded = read_checkpoint(path)
    assert loaded.layout == "mmseg"
    meta = torch.load(path, weights_only=True)["meta"]["seaformer_deploy_demo_weights"]
    assert meta["variant"] == ON_DEMAND and meta["training"]["steps"] == TINY.steps
    assert meta["final_loss"] < meta["first_loss"]

    def must_not_train(*args, **kwargs):
        raise AssertionError("cached demo weights were trained again")

    monkeypatch.setattr(demo_weights, "train_demo_weights", must_not_train)
    assert demo_checkpoint(ON_DEMAND, TINY) == path
    assert not list(path.parent.glob("*.partial"))


def test_cache_key_follows_every_training_setting():
    keys = {DemoTraining().key("T"), DemoTraining().key("B"), DemoTraining(steps=201).key("T"),
            DemoTraining(scene_seed=2).key("T"), DemoTraining(learning_rate=2e-3).key("T"),
            DemoTraining(crop_size=96).key("T"), DemoTraining(threads=1).key("T")}
    assert len(keys) == 7
    assert DemoTraining().key("T") == DEFAULT_TRAINING.key("T")


@pytest.mark.slow
def test_build_model_demo_loads_the_cached_weights_and_says_so(cache, trained_once):
    default = _install_as_default(trained_once)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = build_model(ON_DEMAND, checkpoint="demo")
    assert [w for w in caught if issubclass(w.category, DemoWeightsWarning)]
    assert model.weights.source == "demo"
    assert model.weights.path == str(default)
    assert any("DEMO WEIGHTS" in w and "SYNTHETIC" in w for w in model.weights.warnings)
    expected = read_checkpoint(trained_once.path).state
    assert all(torch.equal(model.state_dict()[k], v) for k, v in expected.items())


@pytest.mark.parametrize(("task", "num_classes", "message"), [
    ("cls", None, "seg task only"),
    ("seg", 19, "150 classes"),
])
def test_demo_weights_refuse_what_they_cannot_be(cache, task, num_classes, message):
    with pytest.raises(UsageError, match=message):
        build_model("T", task, num_classes, checkpoint="demo")
    assert not (cache / "seaformer-deploy" / "weights").exists()


def test_cli_demo_checkpoint_for_cls_is_one_error_line(cache, tmp_path):
    result = CliRunner().invoke(export_main, ["--variant", "T", "--task", "cls", "--checkpoint", "demo",
                                              "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["error: demo weights exist for the seg task only"]


@pytest.mark.slow
def test_export_on_demo_weights_records_them_in_the_report(cache, tmp_path, trained_once):
    from seaformer_deploy.bench.model_info import load_model_info
    from seaformer_deploy.export.pipeline import ExportOptions, export

    default = _install_as_default(trained_once)
    result = export(ExportOptions(variant=ON_DEMAND, format="onnx", input_size="64", checkpoint="demo"),
                    tmp_path / "out")
    assert result.ok
    report = result.report.to_dict()
    assert report["weights"]["source"] == "demo" and report["weights"]["path"] == str(default)
    assert any(w.startswith(f"DEMO WEIGHTS: SeaFormer-{ON_DEMAND}") for w in report["warnings"])
    assert not any("RANDOM" in w for w in report["warnings"])
    bench_warnings = load_model_info(result.model_path).warnings
    assert any("DEMO weights" in w for w in bench_warnings) and not any("RANDOM" in w for w in bench_warnings)

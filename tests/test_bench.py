"""seaformer-bench on this host and on the simulated phone: latency, per-module profile, accuracy, faults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sim.phone import SIM_ROOT_ENV, create_sim, install_fake_benchmark_model, sd865_config, write_adb_launcher

from seaformer_deploy.bench import measures as measures_module
from seaformer_deploy.bench.report import BENCH_SCHEMA, BenchReport
from seaformer_deploy.cli.bench import main as bench_cli
from seaformer_deploy.data.datasets import open_dataset
from seaformer_deploy.data.preprocess import preprocess
from seaformer_deploy.runtime import load_exported
from seaformer_deploy.schema import SchemaError

FAST = ["--warmup", "1", "--runs", "4", "--repeats", "2"]


def _bench(args: list[str]):
    return CliRunner().invoke(bench_cli, args)


def _report(output_dir: Path) -> dict:
    (path,) = output_dir.glob("*.bench.json")
    return json.loads(path.read_text())


def _typed_round_trip(output_dir: Path) -> BenchReport:
    """The written report read back as a BenchReport: it writes the same JSON and survives to_dict/from_dict."""
    (path,) = output_dir.glob("*.bench.json")
    written = json.loads(path.read_text())
    typed = BenchReport.read(path)
    assert typed.to_dict() == written
    assert BenchReport.from_dict(json.loads(json.dumps(typed.to_dict()))) == typed
    return typed


@pytest.fixture
def phone(tmp_path, monkeypatch):
    """A simulated SD865 phone behind a fake adb, and a fake benchmark_model for it."""

    def make(**overrides) -> list[str]:
        root = create_sim(tmp_path / "sim", sd865_config(**overrides))
        monkeypatch.setenv(SIM_ROOT_ENV, str(root))
        adb = write_adb_launcher(tmp_path / "platform-tools")
        binary = install_fake_benchmark_model(tmp_path / "benchmark_model")
        return ["--device", "adb:SIM865A", "--adb", str(adb), "--benchmark-binary", str(binary)]

    return make


def _independent_miou(predictions: list[np.ndarray], labels: list[np.ndarray], num_classes: int) -> float:
    """mIoU from a confusion matrix, written independently of seaformer_deploy.metrics."""
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    for pred, label in zip(predictions, labels, strict=True):
        keep = label != 255
        confusion += np.bincount(num_classes * label[keep].astype(np.int64) + pred[keep],
                                 minlength=num_classes**2).reshape(num_classes, num_classes)
    intersect = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - intersect
    return float(np.mean(intersect[union > 0] / union[union > 0]))


def test_local_bench_latency_profile_and_miou(exported_t64, tmp_path) -> None:
    model = exported_t64.model_path
    result = _bench(["--model", str(model), "--dataset", "demo", "--limit", "3", "--reference", *FAST,
                     "--output-dir", str(tmp_path), "--allow-unstable", "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    report = _report(tmp_path)
    assert report["schema"] == BENCH_SCHEMA and summary["report"].endswith(".local.bench.json")
    launches = report["latency"]["launches"]
    assert len(launches) == 2 and all(launch["stats_us"]["count"] == 4 for launch in launches)
    assert report["latency"]["summary"]["median_ms"] > 0
    modules = {row["module"]: row for row in report["profile"]["modules"]["modules"]}
    assert {"stem", "smb1", "trans1.block0.attn", "trans2.block1.mlp", "head.conv_seg", "gap"} <= modules.keys()
    assert modules["unattributed"]["op_count"] == 0
    # Accuracy equals an independent computation on the same exported model.
    exported = load_exported(model)
    predictions, labels = [], []
    for sample in open_dataset("demo", limit=3):
        logits = exported.run(preprocess(sample.image, (64, 64), layout="nhwc"))
        from seaformer_deploy.data.preprocess import logits_to_labels

        predictions.append(logits_to_labels(logits, sample.label.shape, layout="nhwc", input_size_hw=(64, 64)))
        labels.append(sample.label)
    expected = _independent_miou(predictions, labels, 150)
    assert report["accuracy"]["metrics"]["mIoU"] == pytest.approx(expected, abs=1e-6)
    assert report["accuracy"]["agreement_with_pytorch"]["aAcc"] > 0.999
    assert any("RANDOM" in warning for warning in report["warnings"])
    assert "accuracy on demo (3 images, on local): mIoU" in result.stderr
    typed = _typed_round_trip(tmp_path)
    assert typed.latency.summary.median_ms == summary["median_ms"] and typed.accuracy.miou == summary["mIoU"]
    assert typed.accuracy.pixel_agreement == report["accuracy"]["agreement_with_pytorch"]["aAcc"]
    assert typed.model.facts.input_size_hw == (64, 64) and typed.device.spec == "local"
    assert typed.profile.modules.row("stem").op_count == modules["stem"]["op_count"]


def _delegate_nodes(model) -> int:
    """How many DELEGATE nodes the interpreter holds (one per XNNPACK partition; none on the builtin kernels)."""
    return sum(op["op_name"] == "DELEGATE" for op in model._interpreter._get_ops_details())


def test_builtin_tflite_kernels_apply_no_delegate_and_compute_the_same(exported_t64) -> None:
    xnnpack = load_exported(exported_t64.model_path)
    builtin = load_exported(exported_t64.model_path, tflite_kernels="builtin")
    assert _delegate_nodes(xnnpack) >= 1 and _delegate_nodes(builtin) == 0
    x = np.random.default_rng(3).standard_normal(xnnpack.input.shape).astype(np.float32)
    np.testing.assert_allclose(builtin.run(x), xnnpack.run(x), rtol=1e-4, atol=1e-4)


def test_local_delegate_cpu_runs_tflite_on_the_builtin_kernels(exported_t64, tmp_path) -> None:
    result = _bench(["--model", str(exported_t64.model_path), "--delegate", "cpu", *FAST,
                     "--output-dir", str(tmp_path), "--allow-unstable"])
    assert result.exit_code == 0, result.stderr
    report = _report(tmp_path)
    assert report["protocol"]["delegate"] == "cpu" and report["protocol"]["execution_provider"] is None
    assert report["profile"]["kernel_mode"] == "builtin"
    assert not any("--delegate" in warning for warning in report["warnings"])
    assert _typed_round_trip(tmp_path).protocol.delegate == "cpu"


def test_phone_bench_matches_host_and_attributes_ops(exported_t64, tmp_path, phone) -> None:
    args = phone()
    out = tmp_path / "out"
    result = _bench(["--model", str(exported_t64.model_path), *args, *FAST, "--dataset", "demo", "--limit", "2",
                     "--reference", "--output-dir", str(out), "--allow-unstable"])
    assert result.exit_code == 0, result.stderr
    report = _report(out)
    assert report["device"]["model"] == "SM-G981B" and report["device"]["soc"] == "SM8250"
    assert report["device"]["cpu_mask"] == "80"
    assert [launch["source"] for launch in report["latency"]["launches"]] == ["benchmark_model"] * 2
    assert all(launch["thermal_before"]["status"] == 0 for launch in report["latency"]["launches"])
    modules = {row["module"] for row in report["profile"]["modules"]["modules"]}
    assert {"stem", "trans1.block0.attn", "head.conv_seg"} <= modules
    assert report["profile"]["engine"] == "benchmark_model"
    # XNNPACK rows are aggregated by operator type, so modules come from a builtin-kernel launch, labelled so.
    assert report["profile"]["kernel_mode"] == "builtin"
    delegate_ops = report["profile"]["delegate_ops"]
    assert delegate_ops["kernel_mode"] == "xnnpack"
    assert delegate_ops["ops"] and all(op["name"].startswith("Delegate/") for op in delegate_ops["ops"])
    # The phone's outputs came back through --output_filepath and agree with PyTorch.
    assert report["accuracy"]["evaluated_on"] == "adb:SIM865A"
    assert report["accuracy"]["agreement_with_pytorch"]["aAcc"] > 0.999
    typed = _typed_round_trip(out)
    assert typed.device.kind == "adb" and typed.device.description == "SM-G981B"
    assert typed.profile.delegate_ops.kernel_mode == "xnnpack"
    assert [launch.thermal_before.status for launch in typed.latency.launches] == [0, 0]


def test_phone_disappearing_keeps_finished_launches(exported_t64, tmp_path, phone) -> None:
    args = phone(faults={"disconnect_after_launches": 1})
    out = tmp_path / "out"
    result = _bench(["--model", str(exported_t64.model_path), *args, "--warmup", "0", "--runs", "2",
                     "--repeats", "3", "--no-profile", "--output-dir", str(out)])
    assert result.exit_code == 2
    assert "finished launch(es) kept" in result.stderr and "Traceback" not in result.stderr
    report = _report(out)
    assert report["incomplete"] and len(report["latency"]["launches"]) == 1
    assert _typed_round_trip(out).incomplete == report["incomplete"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"state": "unauthorized"}, "unauthorized"), ({"state": "offline"}, "offline"),
     ({"getprop": {"ro.product.cpu.abi": "x86_64", "ro.product.cpu.abilist": "x86_64"}}, "x86_64")],
)
def test_unusable_phones_exit_2(exported_t64, tmp_path, phone, overrides, message) -> None:
    result = _bench(["--model", str(exported_t64.model_path), *phone(**overrides), *FAST,
                     "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").glob("*.json"))


def test_missing_adb_and_binary_exit_2(exported_t64, tmp_path, monkeypatch) -> None:
    missing = tmp_path / "nowhere" / "adb"
    result = _bench(["--model", str(exported_t64.model_path), "--device", "adb", "--adb", str(missing)])
    assert result.exit_code == 2 and "not an executable" in result.stderr
    monkeypatch.delenv("SEAFORMER_BENCHMARK_MODEL", raising=False)
    adb = write_adb_launcher(tmp_path / "pt")
    result = _bench(["--model", str(exported_t64.model_path), "--device", "adb", "--adb", str(adb)])
    assert result.exit_code == 2 and "benchmark_model" in result.stderr


def test_corrupt_model_and_empty_dataset_exit_2(exported_t64, tmp_path) -> None:
    corrupt = tmp_path / "broken.tflite"
    corrupt.write_bytes(b"\x00" * 64)
    result = _bench(["--model", str(corrupt), "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 2 and "broken.tflite" in result.stderr
    empty = tmp_path / "ade"
    (empty / "images" / "validation").mkdir(parents=True)
    (empty / "annotations" / "validation").mkdir(parents=True)
    result = _bench(["--model", str(exported_t64.model_path), "--dataset", f"ade20k:{empty}",
                     "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 2 and "empty" in result.stderr.lower()


def test_unstable_measurement_exits_3_but_keeps_the_report(exported_t64, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(measures_module, "UNSTABLE_CV", -1.0)
    result = _bench(["--model", str(exported_t64.model_path), *FAST, "--no-profile", "--output-dir", str(tmp_path)])
    assert result.exit_code == 3 and "inconclusive" in result.stderr
    assert _report(tmp_path)["latency"]["summary"]["stable"] is False


def test_import_log_turns_a_benchmark_model_log_into_a_report(exported_t64, tmp_path, fixtures_dir) -> None:
    log = fixtures_dir / "benchmark_model" / "s4_litert_xnnpack_stdout_generated.txt"
    csv = fixtures_dir / "benchmark_model" / "s5_op_profile_generated.csv"
    result = CliRunner().invoke(bench_cli, ["import-log", str(log), "--model", str(exported_t64.model_path),
                                            "--op-profile-csv", str(csv), "--device-name", "pixel7",
                                            "--output-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    report = _report(tmp_path)
    stats = report["latency"]["launches"][0]["stats_us"]
    assert (stats["count"], stats["avg_us"], stats["median_us"]) == (107, 5300.31, 5281)
    assert report["latency"]["summary"]["median_ms"] == pytest.approx(5.281)
    assert report["benchmark_log"]["delegations"][0]["partitions"] == 5
    assert report["profile"]["engine"] == "benchmark_model" and report["profile"]["ops"]
    assert _typed_round_trip(tmp_path).benchmark_log == report["benchmark_log"]


def test_import_log_rejects_a_non_log(exported_t64, tmp_path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello\n")
    result = CliRunner().invoke(bench_cli, ["import-log", str(bogus), "--model", str(exported_t64.model_path),
                                            "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not benchmark_model output" in result.stderr
    shutil.rmtree(tmp_path / "o", ignore_errors=True)


def test_truncated_model_file_is_one_line_and_exit_2(exported_t64, tmp_path) -> None:
    # What an interrupted copy leaves: the first 100 kB of a real export.
    truncated = tmp_path / exported_t64.model_path.name
    truncated.write_bytes(exported_t64.model_path.read_bytes()[:100_000])
    result = _bench(["--model", str(truncated), "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "truncated or corrupt" in lines[0] and str(truncated) in lines[0]
    assert "unpack_from" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_bench_report_of_another_schema_or_no_report_is_one_error(exported_t64, tmp_path) -> None:
    assert _bench(["--model", str(exported_t64.model_path), *FAST, "--no-profile", "--output-dir", str(tmp_path),
                   "--allow-unstable"]).exit_code == 0
    report = _report(tmp_path)
    newer = {**report, "schema": "seaformer-deploy/bench-report@2"}
    with pytest.raises(SchemaError) as error:
        BenchReport.from_dict(newer, "new.json")
    assert "bench-report@2" in str(error.value) and BENCH_SCHEMA in str(error.value)
    assert error.value.exit_code == 2 and "\n" not in str(error.value)
    export_report = json.loads(exported_t64.model_path.with_name(exported_t64.model_path.name + ".json").read_text())
    for not_a_report in (export_report, [report], "text", {"latency": report["latency"]}):
        with pytest.raises(SchemaError, match=f"not a {BENCH_SCHEMA} document|has schema"):
            BenchReport.from_dict(not_a_report)
    broken = {key: value for key, value in report.items() if key != "latency"}
    with pytest.raises(SchemaError, match="malformed.*latency"):
        BenchReport.from_dict(broken)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(SchemaError, match="not readable JSON"):
        BenchReport.read(garbage)


def test_suite_runs_its_entries_for_the_device_and_skips_the_others(exported_t64, tmp_path) -> None:
    recipe = tmp_path / "t64.json"
    recipe.write_text(json.dumps({"variant": "T", "format": "tflite", "input_size": "64"}))
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps({"models_dir": str(exported_t64.model_path.parent), "entries": [
        {"recipe": str(recipe), "warmup": 1, "runs": 3, "repeats": 2, "profile": False},
        {"recipe": str(recipe), "devices": ["adb"]},
    ]}))
    out = tmp_path / "out"
    result = _bench(["suite", str(suite), "--output-dir", str(out), "--allow-unstable"])
    assert result.exit_code == 0, result.stderr
    assert "skipped" in result.stderr and len(list(out.glob("*.bench.json"))) == 1
    typed = _typed_round_trip(out)
    assert typed.model.file == exported_t64.model_path.name and typed.protocol.runs == 3
    assert [launch.stats.count for launch in typed.latency.launches] == [3, 3]
    bad = tmp_path / "bad.json"
    for entry, message in (({"recipe": str(recipe), "runz": 3}, "unknown keys ['runz']"),
                           ({"recipe": str(recipe), "devices": ["usb"]}, "'devices' must list device kinds")):
        bad.write_text(json.dumps({"entries": [entry]}))
        result = _bench(["suite", str(bad), "--output-dir", str(out)])
        assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_export_report_of_another_schema_beside_the_model_exits_2(exported_t64, tmp_path) -> None:
    model = tmp_path / exported_t64.model_path.name
    shutil.copy(exported_t64.model_path, model)
    report = json.loads(exported_t64.report_path.read_text())
    beside = model.with_name(model.name + ".json")
    for content, message in ((json.dumps({**report, "schema": "seaformer-deploy/export-report@0"}), "has schema"),
                             ("{truncated", "not readable JSON")):
        beside.write_text(content)
        result = _bench(["--model", str(model), *FAST, "--output-dir", str(tmp_path / "o")])
        assert result.exit_code == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

"""seaformer-export: artifacts, reports, metadata, parity and lint gates, atomicity and bad input."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import seaformer_deploy as sd
from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.bench.runner import benchmark
from seaformer_deploy.cli.export import main as export_cli
from seaformer_deploy.errors import UsageError
from seaformer_deploy.export import parity as parity_module
from seaformer_deploy.export import pipeline
from seaformer_deploy.export.lint import LayoutOpBudget
from seaformer_deploy.export.metadata import read_model_facts
from seaformer_deploy.export.pipeline import ExportOptions, export
from seaformer_deploy.export.report import ExportReport
from seaformer_deploy.model_facts import WeightSource
from seaformer_deploy.runtime import load_exported


@pytest.fixture(scope="module")
def tflite_export(exported_t64):
    return exported_t64


@pytest.fixture(scope="module")
def onnx_export(tmp_path_factory):
    return export(ExportOptions(variant="T", format="onnx", input_size="64x128"), tmp_path_factory.mktemp("onnx"))


def _run(args: list[str]):
    return CliRunner().invoke(export_cli, args)


def test_tflite_artifact_report_and_metadata(tflite_export) -> None:
    result = tflite_export
    assert result.ok and result.model_path.name == "seaformer-t-seg-64x64-fp32.tflite"
    assert result.report_path.name == "seaformer-t-seg-64x64-fp32.tflite.json"
    report = json.loads(result.report_path.read_text())
    # A third party can run the model from the report alone.
    assert report["layout"] == "nhwc" and report["input"]["shape"] == [1, 64, 64, 3]
    assert report["output"]["shape"] == [1, 8, 8, 150] and report["output_mode"] == "logits"
    assert report["normalization"]["mean"] == [123.675, 116.28, 103.53]
    assert report["normalization"]["std"] == [58.395, 57.12, 57.375]
    assert report["weights"]["source"] == "random" and any("RANDOM" in w for w in report["warnings"])
    assert report["parity"]["passed"] and report["parity"]["all_inputs"]["rel_l2"] <= 1e-4
    assert report["parity"]["image_inputs"]["argmax_agreement"] == 1.0
    assert report["delegation"]["partitions"] == 1 and report["delegation"]["undelegated"] == []
    assert {f["rule"]: f["status"] for f in report["lint"]["findings"]}["activation-fused"] == "PASS"
    # 51: every convolution once, with each attention block's q, k and v stacked into one (and no CONCATENATION).
    assert report["op_histogram"]["CONV_2D"] == 51 and "BATCH_NORM" not in report["op_histogram"]
    assert "CONCATENATION" not in report["op_histogram"]
    assert report["artifact"]["bytes"] == result.model_path.stat().st_size
    assert report["export_seconds"] > 0 and report["tool_versions"]["litert-torch"] == "0.10.0"
    assert report["host"] == {"machine": platform.machine(), "system": platform.system(),
                              "torch_threads": torch.get_num_threads()}
    facts = read_model_facts(result.model_path)
    assert facts.variant == "T" and facts.input_size_hw == (64, 64) and facts.num_classes == 150
    assert facts.weights is WeightSource.RANDOM and facts == result.report.facts
    # The report file reads back into the same typed report.
    assert ExportReport.read(result.report_path) == result.report
    assert ExportReport.read(result.report_path).to_dict() == report
    assert not [p for p in result.model_path.parent.iterdir() if p.name.startswith(".")]


def test_exported_tflite_computes_what_pytorch_computes(tflite_export) -> None:
    model = sd.build_model("T")
    deployed = sd.prepare_for_deploy(model, 64, layout="nhwc")
    x = deployed.example_input(seed=7)
    with torch.no_grad():
        expected = deployed(x).numpy()
    got = load_exported(tflite_export.model_path).run(x.numpy())
    assert np.linalg.norm(got - expected) / np.linalg.norm(expected) < 1e-4


@pytest.mark.slow
def test_onnx_artifact_is_nchw_and_runtime_fuses_activations(onnx_export) -> None:
    report = onnx_export.report
    assert onnx_export.model_path.name == "seaformer-t-seg-64x128-fp32.onnx"
    assert report.facts.input.shape == (1, 3, 64, 128) and report.facts.output.shape == (1, 150, 8, 16)
    statuses = {f.rule: f.status for f in report.lint.findings}
    assert statuses["no-batchnorm"] == "PASS" and statuses["activation-fused"] == "PASS"
    assert "after onnxruntime" in next(f.message for f in report.lint.findings if f.rule == "activation-fused")
    assert report.parity.passed and read_model_facts(onnx_export.model_path).layout == "nchw"
    assert ExportReport.from_dict(json.loads(onnx_export.report_path.read_text())) == report


@pytest.mark.slow
@pytest.mark.parametrize("delegate", ["xnnpack", "cpu"])
def test_onnx_bench_records_the_provider_that_ran(onnx_export, tmp_path, delegate) -> None:
    options = BenchOptions(delegate=delegate, warmup=1, runs=3, repeats=2, profile=False)
    report = benchmark(onnx_export.model_path, options, tmp_path).report
    assert report.protocol.delegate == "cpu" and report.protocol.execution_provider == "CPUExecutionProvider"
    said = [warning for warning in report.warnings if warning.startswith("--delegate")]
    if delegate == "xnnpack":
        assert said == [f"--delegate xnnpack does not apply to {onnx_export.model_path.name} on local: it ran on "
                        "CPUExecutionProvider, recorded as delegate cpu"]
    else:
        assert said == []


@pytest.mark.slow
@pytest.mark.parametrize(("quant", "float_stem"), [("fp16", False), ("int8", False), ("int8", True)])
def test_quantized_tflite_exports_carry_metadata_and_pass_parity(tmp_path, quant, float_stem) -> None:
    # 128 px: at 64 px the 1/64 feature map is 1x1 and the converter folds the attention core differently.
    # int8 is judged on the demo weights: random weights' logits are nearly tied (top-2 margin ~0.2 of their
    # spread), so their argmax agreement sits at the 0.95 gate whatever the graph (0.948 for the channels-last
    # attention at 128 px) and would judge the weights, not the quantizer.
    int8 = quant == "int8"
    options = ExportOptions(variant="T", format="tflite", quant=quant, input_size="128",
                            checkpoint="demo" if int8 else None, calib_data="demo" if int8 else None, calib_count=8,
                            float_stem=float_stem)
    result = export(options, tmp_path)
    assert result.ok, result.report.failures
    report = result.report.to_dict()
    assert read_model_facts(result.model_path).quantization == quant
    assert report["quantization_details"]["mode"] == quant and report["delegation"]["partitions"] == 1
    if quant == "int8":
        assert report["parity"]["gate"]["metric"] == "argmax_agreement" and report["parity"]["gate"]["value"] >= 0.95
        assert report["op_histogram"]["QUANTIZE"] >= 1 and any("SYNTHETIC" in w for w in report["warnings"])
        assert report["quantization_details"]["calibration_count"] == 8
        assert (report["quantization_details"]["recipe"]["float_stem"] > 0) == float_stem
        assert result.model_path.name.endswith("-floatstem.tflite") == float_stem
    else:
        assert report["parity"]["all_inputs"]["rel_l2"] <= 1e-2


@pytest.mark.slow
def test_cli_json_summary_is_the_only_stdout(tmp_path) -> None:
    result = _run(["--variant", "t", "--format", "onnx", "--input-size", "64", "--output-dir", str(tmp_path),
                   "--output-mode", "labels", "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] and summary["model"].endswith("seaformer-t-seg-64x64-fp32-labels.onnx")
    assert summary["parity"]["metric"] == "argmax_agreement" and summary["parity"]["value"] >= 0.999
    assert "RANDOM" in result.stderr


@pytest.mark.slow
def test_labels_method_names_the_artifact_and_is_in_its_metadata(tmp_path) -> None:
    result = _run(["--variant", "T", "--format", "onnx", "--input-size", "64", "--output-dir", str(tmp_path),
                   "--output-mode", "labels", "--labels-method", "fast", "--json"])
    assert result.exit_code == 0, result.stderr
    model = Path(json.loads(result.stdout)["model"])
    assert model.name == "seaformer-t-seg-64x64-fp32-labels-fast.onnx"
    facts = read_model_facts(model)
    assert facts is not None and facts.output_mode == "labels" and facts.labels_method == "fast"


@pytest.mark.slow
def test_parity_failure_fails_the_export_without_an_artifact(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(parity_module.REL_L2_LIMIT, "fp32", 0.0)
    result = _run(["--variant", "T", "--format", "onnx", "--input-size", "64", "--output-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: parity FAILED")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seaformer-t-seg-64x64-fp32.onnx.failed.json"]


@pytest.mark.slow
def test_strict_lint_failure_exits_1_and_plain_mode_keeps_the_artifact(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("seaformer_deploy.export.budgets.layout_op_budget",
                        lambda fmt, variant, layout, output_mode="logits": LayoutOpBudget(transpose=1, reshape=1))
    args = ["--variant", "T", "--format", "onnx", "--input-size", "64", "--output-dir", str(tmp_path)]
    assert _run(args).exit_code == 0
    assert (tmp_path / "seaformer-t-seg-64x64-fp32.onnx").exists()
    strict = _run([*args, "--strict"])
    assert strict.exit_code == 1 and "layout-op-budget" in strict.stderr


def test_interrupted_export_leaves_nothing_behind(tmp_path, monkeypatch) -> None:
    def interrupted(model, example, output: Path) -> str:
        output.write_bytes(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr("seaformer_deploy.export.convert.convert_to_onnx", interrupted)
    result = _run(["--variant", "T", "--format", "onnx", "--input-size", "64", "--output-dir", str(tmp_path)])
    assert result.exit_code == 130 and "interrupted" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variant", "X"], "Invalid value for '--variant'"),
        (["--variant", "T", "--format", "coreml"], "Invalid value for '--format'"),
        (["--variant", "T", "--input-size", "500"], "multiples of 64"),
        (["--variant", "T", "--input-size", "big"], "bad input size"),
        (["--variant", "T", "--quant", "int8"], "int8 needs calibration images"),
        (["--variant", "T", "--quant", "fp16", "--no-float-io"], "integer I/O"),
        (["--variant", "T", "--float-stem"], "--float-stem applies to int8 TFLite"),
        (["--variant", "T", "--quant", "int8", "--calib-data", "demo", "--no-float-io", "--float-stem"],
         "--float-stem applies to int8 TFLite exports with float I/O only"),
        (["--variant", "T", "--labels-method", "fast"], "applies to --output-mode labels only"),
        (["--variant", "T", "--output-mode", "labels", "--labels-method", "bicubic"], "Invalid value for"),
    ],
)
def test_bad_usage_exits_2_with_one_line(tmp_path, args, message) -> None:
    result = _run([*args, "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unreadable_and_mismatched_checkpoints_exit_2(tmp_path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    result = _run(["--variant", "T", "--checkpoint", str(garbage), "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 2 and "corrupt" in result.stderr
    other = tmp_path / "s.pth"
    torch.save({"state_dict": sd.build_model("S").state_dict()}, other)
    result = _run(["--variant", "T", "--checkpoint", str(other), "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 2 and "does not match SeaFormer-T seg" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_output_dir_exits_2(tmp_path, monkeypatch) -> None:
    # Tests may run as root, which ignores permission bits; the access check itself is what is exercised.
    real_access = os.access
    target = tmp_path / "ro"
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != target and real_access(path, mode))
    result = _run(["--variant", "T", "--input-size", "64", "--output-dir", str(tmp_path / "ro")])
    assert result.exit_code == 2 and "is not writable" in result.stderr


def test_output_dir_that_is_a_file_exits_2(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = _run(["--variant", "T", "--input-size", "64", "--output-dir", str(blocker / "sub")])
    assert result.exit_code == 2 and "cannot be created" in result.stderr


def test_empty_or_missing_calibration_folder_exits_2(tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    for folder, message in ((empty, "holds no images"), (tmp_path / "missing", "does not exist")):
        result = _run(["--variant", "T", "--quant", "int8", "--calib-data", str(folder), "--input-size", "64",
                       "--output-dir", str(tmp_path / "out")])
        assert result.exit_code == 2 and message in result.stderr


def test_unreadable_calibration_folder_exits_2(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "calib"
    folder.mkdir()
    # Tests may run as root, which reads anything; the access check itself is what is exercised.
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != folder and real_access(path, mode))
    result = _run(["--variant", "T", "--quant", "int8", "--calib-data", str(folder), "--input-size", "64",
                   "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2 and "is not readable" in result.stderr


def test_artifact_names_follow_one_convention() -> None:
    assert pipeline.artifact_stem("B", "seg", (512, 512), "fp32", "logits", "nhwc", "tflite") == (
        "seaformer-b-seg-512x512-fp32")
    assert pipeline.artifact_stem("L", "seg", (512, 1024), "int8", "labels", "nchw", "tflite") == (
        "seaformer-l-seg-512x1024-int8-labels-nchw")
    float_stem = pipeline.ExportOptions(variant="T", quant="int8", calib_data="demo", float_stem=True)
    assert float_stem.artifact_name() == "seaformer-t-seg-512x512-int8-floatstem.tflite"


def test_every_export_option_is_a_cli_option_of_the_same_name() -> None:
    from dataclasses import fields

    cli_names = {param.name for param in export_cli.params}
    assert {f.name for f in fields(ExportOptions)} <= cli_names
    assert cli_names - {f.name for f in fields(ExportOptions)} == {"recipe", "output_dir", "as_json", "debug",
                                                                    "verbose"}


def test_report_of_another_schema_version_is_one_clear_error(tflite_export, tmp_path) -> None:
    data = json.loads(tflite_export.report_path.read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**data, "schema": "seaformer-deploy/export-report@2"}))
    with pytest.raises(UsageError, match="export-report@2.*export-report@1"):
        ExportReport.read(other)
    other.write_text("[1, 2, 3]")
    with pytest.raises(UsageError, match="not a seaformer-deploy/export-report@1 document"):
        ExportReport.read(other)

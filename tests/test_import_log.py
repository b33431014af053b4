"""``seaformer-bench import-log LOG`` without ``--model``: any model's log, any generation of the tool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from seaformer_deploy.cli.bench import main as bench_cli

FIXTURES = Path(__file__).parent / "fixtures" / "benchmark_model"


def _import(log: str, out: Path, *extra: str):
    return CliRunner().invoke(bench_cli, ["import-log", str(FIXTURES / log), "--output-dir", str(out), *extra])


def _report(out: Path) -> dict:
    (path,) = out.glob("*.bench.json")
    return json.loads(path.read_text())


def test_litert2_log_of_another_model_imports_latency_memory_and_ops(tmp_path: Path) -> None:
    result = _import("s8_litert2_compiled_model_generated.txt", tmp_path, "--device-name", "pixel8", "--json")
    assert result.exit_code == 0, result.stderr
    report = _report(tmp_path)
    assert next(tmp_path.glob("*.bench.json")).name == "s8_litert2_compiled_model_generated.txt.pixel8.bench.json"
    (launch,) = report["latency"]["launches"]
    assert (launch["stats_us"]["count"], launch["stats_us"]["avg_us"], launch["stats_us"]["median_us"]) == (
        1211, 824.173, 817)
    assert launch["memory"]["init_mb"] == 7.31 and launch["memory"]["overall_mb"] == 9.87
    assert report["model"]["facts"] is None and report["model"]["sha256"] is None
    assert report["benchmark_log"]["litert_results"]["inference_avg_ms"] == 0.82
    profile = report["profile"]
    assert profile["modules"] is None  # no module attribution without our model
    assert [op["name"] for op in profile["ops"]][:2] == ["LiteRT::Run[buffer registration]/0",
                                                         "Delegate/Transpose (ND, X32):0"]
    assert "slowest ops" in result.stderr and "LiteRT::Run[Buffer sync]/0" in result.stderr
    assert json.loads(result.stdout)["median_ms"] == pytest.approx(0.817)


def test_summary_only_excerpt_imports_its_average(tmp_path: Path) -> None:
    result = _import("s10_readme_excerpt_summary_after_generated.txt", tmp_path)
    assert result.exit_code == 0, result.stderr
    report = _report(tmp_path)
    stats = report["latency"]["launches"][0]["stats_us"]
    assert (stats["avg_us"], stats["count"], stats["min_us"]) == (24812.6, 0, None)
    assert report["latency"]["summary"]["median_ms"] == pytest.approx(24.8126)
    assert any("no statistics line" in warning for warning in report["warnings"])
    assert len(report["profile"]["ops"]) == 6


def test_profile_fragment_imports_its_ops_and_says_there_is_no_latency(tmp_path: Path) -> None:
    result = _import("s12_profile_fragment_generated.txt", tmp_path)
    assert result.exit_code == 0, result.stderr
    report = _report(tmp_path)
    assert report["latency"]["launches"] == [] and report["latency"]["summary"]["median_ms"] is None
    assert any("no latency imported" in warning for warning in report["warnings"])
    assert [op["name"] for op in report["profile"]["ops"]][-1] == "logits, logits_1, logits_2"
    assert report["profile"]["e2e_us"] == [101781]


def test_failed_run_exits_1_with_the_tools_error_line(tmp_path: Path) -> None:
    result = _import("s13_nnapi_delegate_failed_generated.txt", tmp_path / "out")
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "Node number 97 (TfLiteNnapiDelegate) failed to prepare" in line and "Traceback" not in line
    assert not list((tmp_path / "out").glob("*.json")) if (tmp_path / "out").exists() else True


def test_missing_log_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(bench_cli, ["import-log", str(tmp_path / "absent.txt"), "--output-dir", str(tmp_path)])
    assert result.exit_code == 2 and "absent.txt" in result.stderr


@pytest.mark.parametrize(("generation", "aligned"), [("litert2", True), ("current", False)])
def test_xnnpack_rows_of_our_model_are_aligned_to_modules_when_one_per_operator(
        exported_t64, tmp_path: Path, generation: str, aligned: bool) -> None:
    import subprocess

    from sim.phone import install_fake_benchmark_model

    binary = install_fake_benchmark_model(tmp_path / "benchmark_model", generation)
    flag = "--use_profiler=true" if generation == "litert2" else "--enable_op_profiling=true"
    run = subprocess.run([str(binary), f"--graph={exported_t64.model_path}", "--num_runs=3", "--warmup_runs=1",
                          "--min_secs=0", "--warmup_min_secs=0", flag], capture_output=True, text=True, check=True)
    log = tmp_path / f"{generation}.log"
    log.write_text(run.stdout + run.stderr)
    out = tmp_path / "out"
    result = CliRunner().invoke(bench_cli, ["import-log", str(log), "--model", str(exported_t64.model_path),
                                            "--output-dir", str(out)])
    assert result.exit_code == 0, result.stderr
    profile = _report(out)["profile"]
    modules = {row["module"]: row for row in profile["modules"]["modules"]}
    delegate_ops = [op for op in profile["ops"] if op["name"].startswith("Delegate/")]
    # benchmark_model prints per-op averages, not single runs: the module times are means and say so.
    assert profile["modules"]["statistic"] == "mean"
    if aligned:
        # One row per XNNPACK operator, in execution order: aligned to nodes, so modules are known.
        assert all(op["node_index"] is not None for op in delegate_ops)
        assert {"stem", "smb1", "head.conv_seg"} <= modules.keys()
        assert modules["unattributed"]["op_count"] == 2  # LiteRT::Run bookkeeping
    else:
        # Rows aggregated by operator type stand for several nodes each: left unattributed, not guessed.
        assert all(op["node_index"] is None for op in delegate_ops)
        assert not {"stem", "smb1", "head.conv_seg"} & modules.keys()

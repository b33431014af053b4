"""seaformer-bench on simulated phones running each benchmark_model generation (tests/sim/generations.py),
through the real adb code path: the build's flags are learned, the profile is read from wherever the build put
it, and a profile that fails or cannot exist never costs the latency or accuracy measured around it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sim.phone import SIM_ROOT_ENV, create_sim, install_fake_benchmark_model, read_log, sd865_config, write_adb_launcher

from seaformer_deploy.cli.bench import main as bench_cli

FAST = ["--warmup", "0", "--runs", "3", "--repeats", "2", "--allow-unstable"]
SERIAL = "SIM865A"


@pytest.fixture
def phone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def make(generation: str, **overrides) -> tuple[list[str], Path]:
        root = create_sim(tmp_path / "sim", sd865_config(SERIAL, **overrides))
        monkeypatch.setenv(SIM_ROOT_ENV, str(root))
        adb = write_adb_launcher(tmp_path / "platform-tools")
        binary = install_fake_benchmark_model(tmp_path / f"benchmark_model_{generation}", generation)
        return ["--device", f"adb:{SERIAL}", "--adb", str(adb), "--benchmark-binary", str(binary)], root

    return make


def _bench(model: Path, args: list[str], out: Path, *extra: str):
    return CliRunner().invoke(bench_cli, ["--model", str(model), *args, *FAST, "--output-dir", str(out), *extra])


def _report(out: Path) -> dict:
    (path,) = out.glob("*.bench.json")
    return json.loads(path.read_text())


def _printed_averages(root: Path) -> list[float]:
    """The regular runs' average of every benchmark_model process, as the phone's tool computed it."""
    events = [json.loads(line) for line in (root / SERIAL / "events.jsonl").read_text().splitlines()]
    return [event["inference_avg_us"] for event in events if event["event"] == "end"]


def _launch_commands(root: Path) -> list[str]:
    return [" ".join(entry["argv"]) for entry in read_log(root)
            if entry.get("cmd") == "shell" and "sh ./run_benchmark.sh" in " ".join(entry["argv"])]


@pytest.mark.parametrize(("generation", "delegate", "csv_flag"), [
    ("current", "xnnpack", "--op_profiling_output_file="),
    ("csv-legacy", "xnnpack", "--profiling_output_csv_file="),
    ("csv-less", "xnnpack", None),
    ("oldest", "cpu", None),
])
def test_every_generation_gives_a_complete_report(exported_t64, tmp_path, phone, generation, delegate,
                                                  csv_flag) -> None:
    args, root = phone(generation)
    out = tmp_path / "out"
    result = _bench(exported_t64.model_path, args, out, "--delegate", delegate, "--dataset", "demo", "--limit", "1")
    assert result.exit_code == 0, result.stderr
    report = _report(out)
    # Latency is what the phone's tool printed for each of the two latency launches.
    launches = report["latency"]["launches"]
    assert [launch["stats_us"]["avg_us"] for launch in launches] == pytest.approx(_printed_averages(root)[:2],
                                                                                  rel=1e-5)
    modules = {row["module"] for row in report["profile"]["modules"]["modules"]}
    assert {"stem", "trans1.block0.attn", "head.conv_seg"} <= modules
    assert report["profile"]["kernel_mode"] == "builtin"
    assert report["accuracy"]["evaluated_on"] == f"adb:{SERIAL}" and report["accuracy"]["metrics"]["mIoU"] >= 0
    profiling = [command for command in _launch_commands(root) if "enable_op_profiling" in command]
    assert len(profiling) == (2 if delegate == "xnnpack" else 1)
    if csv_flag is not None:
        assert all(csv_flag in command for command in profiling)
        assert not any("stdout" in note for note in report["profile"]["notes"])
    else:
        assert any("stdout" in note for note in report["profile"]["notes"])
    if generation == "csv-less":
        # Without --help the build's flags are learned from its warning: only the first profiling launch asks
        # for a CSV file, and the report says which flags were ignored.
        assert "--op_profiling_output_file=" in profiling[0] and "--op_profiling_output_file=" not in profiling[1]
        assert any("ignored flags" in warning and "--op_profiling_output_file" in warning
                   for warning in report["warnings"])


def test_a_build_that_ignores_the_delegate_flag_is_reported(exported_t64, tmp_path, phone) -> None:
    # A 2018 build without --help cannot say in advance that it has no XNNPACK: it ignores the flag.
    args, _ = phone("oldest")
    result = _bench(exported_t64.model_path, args, tmp_path / "out", "--no-profile")
    assert result.exit_code == 0, result.stderr
    report = _report(tmp_path / "out")
    assert any("ignored flags" in warning and "--use_xnnpack=true" in warning for warning in report["warnings"])
    assert "--use_xnnpack=true" in result.stderr


def test_litert2_tool_gives_latency_and_per_operator_rows(exported_t64, tmp_path, phone) -> None:
    args, root = phone("litert2")
    out = tmp_path / "out"
    result = _bench(exported_t64.model_path, args, out)
    assert result.exit_code == 0, result.stderr
    report = _report(out)
    launches = report["latency"]["launches"]
    assert [launch["stats_us"]["avg_us"] for launch in launches] == pytest.approx(_printed_averages(root)[:2],
                                                                                  rel=1e-5)
    assert launches[0]["memory"]["init_mb"] is not None
    profile = report["profile"]
    names = [op["name"] for op in profile["ops"]]
    assert names[0] == "LiteRT::Run[buffer registration]/0" and names[-1] == "LiteRT::Run[Buffer sync]/0"
    assert len({name for name in names if name.startswith("Delegate/")}) > 10  # one row per operator
    # The tool cannot run the builtin kernels; its per-operator XNNPACK rows are aligned to the model's nodes.
    assert profile["kernel_mode"] == "xnnpack" and any("aligned" in note for note in profile["notes"])
    modules = {row["module"]: row for row in profile["modules"]["modules"]}
    assert {"stem", "smb1", "trans1.block0.attn", "head.conv_seg"} <= modules.keys()
    assert modules["unattributed"]["op_count"] == 2  # LiteRT's own buffer bookkeeping rows
    assert all(op["node_index"] is not None for op in profile["ops"] if op["name"].startswith("Delegate/"))
    commands = _launch_commands(root)
    assert all("--use_cpu=true" in command and "use_xnnpack" not in command for command in commands)
    assert any("--use_profiler=true" in command for command in commands)


def test_litert2_tool_cannot_measure_accuracy_on_the_phone(exported_t64, tmp_path, phone) -> None:
    args, _ = phone("litert2")
    result = _bench(exported_t64.model_path, args, tmp_path / "out", "--dataset", "demo", "--limit", "1")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "writes no output tensors" in line


def test_a_failed_profile_keeps_latency_and_accuracy(exported_t64, tmp_path, phone) -> None:
    # Launches 1-2 measure latency, launch 3 is the XNNPACK profiling launch: it crashes.
    args, _ = phone("current", faults={"crash_on_launches": [3]})
    out = tmp_path / "out"
    result = _bench(exported_t64.model_path, args, out, "--dataset", "demo", "--limit", "1")
    assert result.exit_code == 0, result.stderr
    report = _report(out)
    assert len(report["latency"]["launches"]) == 2 and report["accuracy"]["metrics"]["mIoU"] >= 0
    assert report["profile"] is None
    (warning,) = [w for w in report["warnings"] if w.startswith("per-op profile failed")]
    assert "SIGSEGV" in warning
    assert "per-op profile failed" in result.stderr


def test_a_phone_lost_during_the_profile_keeps_its_latency(exported_t64, tmp_path, phone) -> None:
    # The phone vanishes after the second run it finished: both latency launches are done, the profile is not.
    args, _ = phone("current", faults={"disconnect_after_launches": 2})
    out = tmp_path / "out"
    result = _bench(exported_t64.model_path, args, out)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "disconnected" in line and "kept" in line and "Traceback" not in line
    report = _report(out)
    assert report["incomplete"]
    if len(report["latency"]["launches"]) == 2:  # else the loss was noticed inside the second launch already
        assert any(w.startswith("per-op profile failed") for w in report["warnings"])

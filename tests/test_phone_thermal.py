"""The cooldown gate on a simulated phone through the CLI: --cooldown-temp / --cooldown-max-s control it, and
the time it waited and the throttled launches it retried are in the report and on the console."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sim.phone import SIM_ROOT_ENV, create_sim, install_fake_benchmark_model, sd865_config, write_adb_launcher

from seaformer_deploy.bench.adb import launches as launches_module
from seaformer_deploy.bench.options import COOLDOWN_MAX_S, COOLDOWN_TEMP_C
from seaformer_deploy.cli.bench import main as bench_cli


def _bench(exported_t64, tmp_path: Path, monkeypatch, config: dict, *extra: str) -> tuple[object, dict]:
    root = create_sim(tmp_path / "sim", config)
    monkeypatch.setenv(SIM_ROOT_ENV, str(root))
    adb = write_adb_launcher(tmp_path / "platform-tools")
    binary = install_fake_benchmark_model(tmp_path / "benchmark_model")
    out = tmp_path / "out"
    result = CliRunner().invoke(bench_cli, [
        "--model", str(exported_t64.model_path), "--device", f"adb:{config['serial']}", "--adb", str(adb),
        "--benchmark-binary", str(binary), "--warmup", "0", "--runs", "2", "--repeats", "2", "--no-profile",
        "--allow-unstable", "--output-dir", str(out), *extra])
    assert result.exit_code == 0, result.stderr
    (path,) = out.glob("*.bench.json")
    return result, json.loads(path.read_text())


def test_cooldown_wait_is_reported_and_controlled_by_the_flags(exported_t64, tmp_path, monkeypatch) -> None:
    # Every run heats this phone by 20 degC and it cools with a 2 s time constant: launch 2 must wait.
    hot = sd865_config("HOT1", thermal={"heat_per_launch_c": 20.0, "cool_tau_s": 2.0})
    result, report = _bench(exported_t64, tmp_path, monkeypatch, hot, "--cooldown-temp", "45",
                            "--cooldown-max-s", "20")
    first, second = report["latency"]["launches"]
    assert first["cooldown_wait_s"] < 0.5 < second["cooldown_wait_s"] < 20
    assert second["thermal_before"]["hottest_c"] < 45 < first["thermal_after"]["hottest_c"]
    assert (report["protocol"]["cooldown_temp_c"], report["protocol"]["cooldown_max_s"]) == (45.0, 20.0)
    assert "thermal gate:" in result.stderr and "0 throttled launch(es) retried" in result.stderr


def test_cooldown_max_s_caps_the_wait(exported_t64, tmp_path, monkeypatch) -> None:
    # 10 degC is colder than the room: the gate can only give up, after --cooldown-max-s.
    _, report = _bench(exported_t64, tmp_path, monkeypatch, sd865_config("ROOM1"), "--cooldown-temp", "10",
                       "--cooldown-max-s", "0.3")
    assert all(0.3 <= launch["cooldown_wait_s"] < 5 for launch in report["latency"]["launches"])


def test_throttled_launch_retries_are_reported(exported_t64, tmp_path, monkeypatch) -> None:
    # The first run on the phone ends throttled: it is thrown away and run again after the back-off (90 s,
    # recorded here instead of slept).
    slept: list[float] = []
    monkeypatch.setattr(launches_module.time, "sleep", slept.append)
    throttling = sd865_config("THR1", faults={"throttle_after_launches": [1]})
    result, report = _bench(exported_t64, tmp_path, monkeypatch, throttling, "--cooldown-max-s", "0")
    assert [launch["retries"] for launch in report["latency"]["launches"]] == [1, 0]
    assert slept.count(90.0) == 1
    assert "1 throttled launch(es) retried" in result.stderr


def test_cooldown_defaults_follow_the_measuring_practice() -> None:
    assert (COOLDOWN_TEMP_C, COOLDOWN_MAX_S) == (45.0, 300.0)
    result = CliRunner().invoke(bench_cli, ["run", "--help"])
    assert "--cooldown-temp" in result.output and "--cooldown-max-s" in result.output

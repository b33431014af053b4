"""A fleet of simulated phones (``--device adb:all`` / ``adb:S1,S2``) through the real adb code path: one worker
per phone, a report per phone, one combined table, failures reported per phone, the worst exit code.

Parallelism is asserted from what the simulated phones recorded (when each benchmark_model process ran), never
from wall-clock thresholds."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sim.phone import (
    SIM_ROOT_ENV,
    create_sim,
    device_fs,
    install_fake_benchmark_model,
    read_log,
    sd865_config,
    write_adb_launcher,
)

from seaformer_deploy.bench.devices.fleet import FLEET_SCHEMA
from seaformer_deploy.cli.bench import main as bench_cli

FAST = ["--warmup", "0", "--runs", "3", "--repeats", "2", "--allow-unstable", "--cooldown-max-s", "0"]


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def make(*configs: dict) -> tuple[list[str], Path]:
        root = create_sim(tmp_path / "sim", *configs)
        monkeypatch.setenv(SIM_ROOT_ENV, str(root))
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the demo dataset, away from other runs
        adb = write_adb_launcher(tmp_path / "platform-tools")
        binary = install_fake_benchmark_model(tmp_path / "benchmark_model")
        return ["--adb", str(adb), "--benchmark-binary", str(binary)], root

    return make


def _phones(*serials: str, **overrides: dict) -> list[dict]:
    return [sd865_config(serial, usb=f"1-{i}", **overrides.get(serial, {})) for i, serial in enumerate(serials, 1)]


def _busy_windows(root: Path, serial: str) -> list[tuple[float, float]]:
    """(start, end) host times of every benchmark_model process that ran on the phone."""
    path = root / serial / "events.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    starts = {e["pid"]: e["t"] for e in events if e["event"] == "start"}
    return sorted((starts[e["pid"]], e["t"]) for e in events if e["event"] == "end")


def _worked_at_once(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    """Whether two phones' jobs overlapped: one phone started a launch before the other finished its last.

    One after the other, the second phone's first launch would start after the first phone's last one ended.
    """
    return bool(a and b) and a[0][0] < b[-1][1] and b[0][0] < a[-1][1]


def test_adb_all_benchmarks_two_phones_in_parallel(exported_t64, tmp_path, fleet) -> None:
    args, root = fleet(*_phones("PHONE_A", "PHONE_B"))
    out = tmp_path / "out"
    result = CliRunner().invoke(bench_cli, ["--model", str(exported_t64.model_path), "--device", "adb:all", *args,
                                            *FAST, "--dataset", "demo", "--limit", "1", "--output-dir", str(out),
                                            "--json"])
    assert result.exit_code == 0, result.stderr
    name = exported_t64.model_path.name
    reports = sorted(path.name for path in out.glob("*.bench.json"))
    assert reports == [f"{name}.adb-PHONE_A.bench.json", f"{name}.adb-PHONE_B.bench.json"]
    for serial in ("PHONE_A", "PHONE_B"):
        report = json.loads((out / f"{name}.adb-{serial}.bench.json").read_text())
        assert report["device"]["serial"] == serial and len(report["latency"]["launches"]) == 2
        # Each phone has its own file system: the model was pushed to each, and each was cleaned afterwards.
        assert any(entry.get("serial") == serial and entry.get("cmd") == "push" and entry["argv"][-1].endswith(name)
                   for entry in read_log(root))
        assert device_fs(root, serial).is_dir() and not (device_fs(root, serial) / "data/local/tmp/seaformer").exists()
    table = json.loads((out / f"{name}.fleet.json").read_text())
    assert table["schema"] == FLEET_SCHEMA
    rows = {row["phone"]: row for row in table["rows"]}
    assert rows.keys() == {"PHONE_A", "PHONE_B"}
    for row in rows.values():
        # Two launches on a shared host may vary by more than 10%: stability is the row's, not the test's.
        assert row["status"] == ("ok" if row["stable"] else "inconclusive")
        assert row["median_ms"] > 0 and row["device_model"] == "SM-G981B"
        assert row["hottest_c"] > 30 and row["top_module"] not in (None, "gap", "unattributed")
        assert row["miou"] is not None
    assert set(json.loads(result.stdout)["phones"]) == {"PHONE_A", "PHONE_B"}
    assert "PHONE_A" in result.stderr and f"fleet table: {out / (name + '.fleet.json')}" in result.stderr
    # One worker per phone: the phones ran at the same time, each phone one process at a time.
    windows_a, windows_b = _busy_windows(root, "PHONE_A"), _busy_windows(root, "PHONE_B")
    assert len(windows_a) == len(windows_b) == 5  # 2 latency + 2 profiling launches + 1 accuracy image
    assert _worked_at_once(windows_a, windows_b)
    for windows in (windows_a, windows_b):
        assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(windows))


def test_unusable_and_vanishing_phones_are_reported_and_the_others_go_on(exported_t64, tmp_path, fleet) -> None:
    phones = _phones("GOOD", "LOCKED", "FLAKY", LOCKED={"state": "unauthorized"},
                     FLAKY={"faults": {"disconnect_after_launches": 1}})
    args, _ = fleet(*phones)
    out = tmp_path / "out"
    result = CliRunner().invoke(bench_cli, ["--model", str(exported_t64.model_path), "--device",
                                            "adb:GOOD,LOCKED,FLAKY,GONE", *args, *FAST, "--no-profile",
                                            "--output-dir", str(out)])
    assert result.exit_code == 2  # the worst of the phones'
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "3 phone(s) failed" in line and "LOCKED" in line and "FLAKY" in line and "GONE" in line
    name = exported_t64.model_path.name
    good = json.loads((out / f"{name}.adb-GOOD.bench.json").read_text())
    assert good["incomplete"] is None and len(good["latency"]["launches"]) == 2
    flaky = json.loads((out / f"{name}.adb-FLAKY.bench.json").read_text())
    assert flaky["incomplete"] and len(flaky["latency"]["launches"]) == 1  # what it finished is kept
    rows = {row["phone"]: row for row in json.loads((out / f"{name}.fleet.json").read_text())["rows"]}
    assert rows["GOOD"]["status"] in ("ok", "inconclusive") and rows["GOOD"]["median_ms"] > 0
    assert rows["LOCKED"]["status"].startswith("failed: device LOCKED is unauthorized")
    assert "disconnected" in rows["FLAKY"]["status"] and "not connected" in rows["GONE"]["status"]


def test_adb_all_skips_phones_that_are_not_authorized(exported_t64, tmp_path, fleet) -> None:
    args, _ = fleet(*_phones("ONLY", "LOCKED", LOCKED={"state": "unauthorized"}))
    out = tmp_path / "out"
    result = CliRunner().invoke(bench_cli, ["--model", str(exported_t64.model_path), "--device", "adb:all", *args,
                                            *FAST, "--no-profile", "--output-dir", str(out)])
    assert result.exit_code == 0, result.stderr
    assert [path.name.split(".adb-")[1] for path in out.glob("*.bench.json")] == ["ONLY.bench.json"]
    rows = {row["phone"]: row for row in json.loads(next(out.glob("*.fleet.json")).read_text())["rows"]}
    assert rows["LOCKED"]["status"].startswith("skipped: device LOCKED is unauthorized")


def test_suite_runs_every_entry_on_every_phone(exported_t64, tmp_path, fleet) -> None:
    args, root = fleet(*_phones("S1", "S2"))
    recipe = tmp_path / "t64.json"
    recipe.write_text(json.dumps({"variant": "T", "format": "tflite", "quant": "fp32", "input_size": "64"}))
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps({"models_dir": str(exported_t64.model_path.parent), "entries": [
        {"recipe": str(recipe), "warmup": 0, "runs": 2, "repeats": 2, "profile": False, "cooldown_max_s": 0}]}))
    out = tmp_path / "out"
    result = CliRunner().invoke(bench_cli, ["suite", str(suite), "--device", "adb:S1,S2", *args, "--allow-unstable",
                                            "--output-dir", str(out)])
    assert result.exit_code == 0, result.stderr
    assert len(list(out.glob("*.bench.json"))) == 2 and len(list(out.glob("*.fleet.json"))) == 1
    assert "adb:S1" in result.stderr and "adb:S2" in result.stderr
    assert _worked_at_once(_busy_windows(root, "S1"), _busy_windows(root, "S2"))


def test_interleaved_ab_refuses_several_phones(exported_t64, tmp_path, fleet) -> None:
    args, root = fleet(*_phones("S1", "S2"))
    model = str(exported_t64.model_path)
    result = CliRunner().invoke(bench_cli, ["--model", model, "--baseline", model, "--device", "adb:S1,S2", *args,
                                            *FAST, "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "interleaved A/B runs on one device" in result.output
    assert "Traceback" not in result.output
    assert not _busy_windows(root, "S1") and not _busy_windows(root, "S2")

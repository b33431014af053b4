"""seaformer-report on bad input (one line, exit 2, no traceback) and its import weight (no torch)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_helpers import synthetic_report

from seaformer_deploy.bench.report import BENCH_SCHEMA
from seaformer_deploy.cli.report import main as report_cli


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    """A baseline at ~10 ms and a current at ~12 ms, written as real bench report JSON (``to_dict``)."""
    base = synthetic_report([10.0, 10.1, 9.9, 10.05, 9.95, 10.02, 10.03, 9.98], sha256="a" * 64)
    cur = synthetic_report([12.0, 12.1, 11.9, 12.05, 11.95, 12.02, 12.03, 11.98], sha256="b" * 64)
    return (_write(tmp_path / "base.bench.json", base.report.to_dict()),
            _write(tmp_path / "cur.bench.json", cur.report.to_dict()))


def _report(args: list) -> object:
    return CliRunner().invoke(report_cli, [str(arg) for arg in args])


def _one_error_line(result, exit_code: int) -> str:
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output, result.stderr
    return lines[0]


def test_a_written_synthetic_pair_is_a_regression(pair) -> None:
    result = _report(["compare", *pair, "--json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)[0]["verdict"] == "REGRESSION"


@pytest.mark.parametrize(("case", "expected"), [
    ("missing", "does not exist"),
    ("folder", "holds no *.bench.json bench report"),
    ("empty", "is empty"),
    ("corrupt", "is not readable JSON: "),
    ("not_a_report", f"is not a {BENCH_SCHEMA} document (it has no 'schema' field)"),
    ("other_schema", f"has schema 'seaformer-deploy/bench-report@2', this version of seaformer-deploy reads "
                     f"'{BENCH_SCHEMA}'"),
    ("no_latency", "has no latency measurements (the run stopped early: phone disconnected)"),
    ("malformed", f"is a malformed {BENCH_SCHEMA} document (KeyError"),
])
def test_bad_input_is_one_line_and_exit_2(pair, tmp_path, case, expected) -> None:
    good = json.loads(pair[0].read_text())
    bad = tmp_path / f"{case}.bench.json"
    if case == "folder":
        bad = tmp_path / "no-reports"
        bad.mkdir()
    elif case == "empty":
        bad.write_text("")
    elif case == "corrupt":
        bad.write_text(pair[0].read_text()[:200])
    elif case == "not_a_report":
        _write(bad, {"benchmark": "export_times", "rows": []})
    elif case == "other_schema":
        _write(bad, {**good, "schema": "seaformer-deploy/bench-report@2"})
    elif case == "no_latency":
        _write(bad, {**good, "latency": {"summary": {"launches": 0, "median_ms": None, "stable": False,
                                                     "reasons": ["no launch produced timings"]}, "launches": []},
                     "incomplete": "phone disconnected"})
    elif case == "malformed":
        _write(bad, {key: value for key, value in good.items() if key != "protocol"})
    line = _one_error_line(_report(["compare", pair[0], bad]), 2)
    assert str(bad) in line and expected in line, line


def test_reports_that_must_not_be_compared_exit_3_with_the_reason(pair, tmp_path) -> None:
    other = json.loads(pair[1].read_text())
    other["model"]["facts"]["output_mode"] = "labels"
    result = _report(["compare", pair[0], _write(tmp_path / "labels.bench.json", other)])
    assert result.exit_code == 3 and "INCONCLUSIVE" in result.stdout
    assert "output mode differs: logits vs labels" in result.stdout


def test_usage_errors_are_one_line(pair) -> None:
    assert "compare needs BASELINE and CURRENT, got 1" in _one_error_line(_report(["compare", pair[0]]), 2)
    assert "with --baselines-dir give one CURRENT" in _one_error_line(
        _report(["compare", *pair, "--baselines-dir", pair[0].parent]), 2)
    result = _report(["compare", *pair, "--threshold", "abc"])
    assert result.exit_code == 2 and "is not a fraction (0.05) or a percentage (5%)" in result.stderr
    percent = _report(["compare", *pair, "--threshold", "25%", "--json"])
    assert percent.exit_code == 0 and json.loads(percent.stdout)[0]["rule"]["threshold"] == 0.25


def test_compare_never_imports_torch(pair) -> None:
    """The whole compare path, CLI included, runs without torch, a runtime or matplotlib."""
    code = ("import sys\nfrom seaformer_deploy.cli.report import main\n"
            f"sys.argv = ['seaformer-report', 'compare', {str(pair[0])!r}, {str(pair[1])!r}, '--json']\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            "heavy = sorted(m for m in ('torch', 'onnxruntime', 'ai_edge_litert', 'matplotlib', 'cv2')\n"
            "               if m in sys.modules)\n"
            "print('EXIT', code, 'HEAVY', heavy, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "EXIT 1 HEAVY []" in done.stderr, done.stderr
    assert json.loads(done.stdout)[0]["verdict"] == "REGRESSION"

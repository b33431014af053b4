"""Every command shows our output only: third-party logs (native ones on fd 2 included) go to a log file, unless
--verbose. Run as real processes, because native libraries write to the file descriptor, not to sys.stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
NOISE = ("INFO: Created TensorFlow Lite XNNPACK", "Failed to load", "oneDNN", "_pytree", "absl::InitializeLog",
         "environment.cc", "Warning: Detected no triton")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=1200, check=False)


def test_export_and_bench_consoles_are_quiet_and_verbose_shows_everything(tmp_path):
    export = _run(BIN / "seaformer-export", "--variant", "T", "--input-size", "64", "--output-dir", tmp_path)
    assert export.returncode == 0, export.stderr
    assert not [noise for noise in NOISE if noise in export.stderr], export.stderr
    assert "warning: NO CHECKPOINT" in export.stderr  # our own warnings still show, as one line
    log = (tmp_path / "third-party.log").read_text()
    assert "Failed to load" in log or "XNNPACK" in log
    model = tmp_path / "seaformer-t-seg-64x64-fp32.tflite"
    fast = ["--warmup", "1", "--runs", "3", "--repeats", "2", "--allow-unstable", "--dataset", "demo", "--limit", "2"]
    bench = _run(BIN / "seaformer-bench", "--model", model, *fast, "--output-dir", tmp_path / "bench")
    assert bench.returncode == 0, bench.stderr
    assert not [noise for noise in NOISE if noise in bench.stderr], bench.stderr
    assert "accuracy on demo" in bench.stderr
    verbose = _run(BIN / "seaformer-bench", "--model", model, *fast, "--output-dir", tmp_path / "loud", "--verbose")
    assert verbose.returncode == 0, verbose.stderr
    assert "XNNPACK" in verbose.stderr and not (tmp_path / "loud" / "third-party.log").exists()


def test_errors_still_reach_the_console(tmp_path):
    result = _run(BIN / "seaformer-bench", "--model", tmp_path / "missing.tflite", "--output-dir", tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1

"""make demo's command: every runtime exported and benchmarked on the demo split, one side-by-side table."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from seaformer_deploy.cli.demo import main as demo_main

pytestmark = pytest.mark.slow

RUNTIMES = ("PyTorch eager", "ONNX fp32", "TFLite fp32", "TFLite int8", "TFLite labels (fast)")


def test_demo_prints_one_table_of_every_runtime_and_writes_their_reports(tmp_path):
    result = CliRunner().invoke(demo_main, ["--input-size", "64", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for runtime in RUNTIMES:
        assert runtime in result.stderr
    assert "[9/10] bench TFLite labels (fast)" in result.stderr and "[10/10] HTML report" in result.stderr
    assert "demo took" in result.stdout
    html = tmp_path / "demo-report.html"
    assert f"html report: {html}" in result.stdout
    page = html.read_text()
    assert page.count("<svg") + page.count("<img") >= 1 and "seaformer-t-seg-64x64-int8.tflite" in page
    assert "DEMO WEIGHTS" not in result.stderr, "the per-export warning is said once, under the table"
    assert len(list(tmp_path.glob("*.bench.json"))) == 4
    assert {p.name for p in tmp_path.glob("*.tflite")} == {
        "seaformer-t-seg-64x64-fp32.tflite", "seaformer-t-seg-64x64-int8.tflite",
        "seaformer-t-seg-64x64-fp32-labels-fast.tflite"}
    fp32, int8 = (tmp_path / f"seaformer-t-seg-64x64-{q}.tflite" for q in ("fp32", "int8"))
    assert int8.stat().st_size < fp32.stat().st_size / 2
    # The PyTorch row is its own reference; the fp32 runtimes agree with it on every pixel.
    table = result.stderr[result.stderr.index("┏"):]
    eager_line = next(line for line in table.splitlines() if line.startswith("│ PyTorch"))
    assert eager_line.rstrip(" │").endswith("100.00")

"""``make demo`` as one library call: SeaFormer with its demo checkpoint, exported to every runtime and measured
side by side on this host, on the demo validation split.

Steps: PyTorch eager (latency and mIoU, the reference every other row is compared with) -> for each runtime
(ONNX fp32, TFLite fp32, TFLite int8 calibrated on the demo training split, TFLite with the label map in the
graph): export (parity-checked, linted) then ``benchmark`` on the local device with ``--reference`` -> one row
per runtime for ``bench.side_by_side`` -> the HTML page of the bench reports (``seaformer-report html``'s
overview: latency, modules, accuracy vs latency).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.bench.side_by_side import RuntimeRow, eager_row, row_from_bench
from seaformer_deploy.export.options import ExportOptions
from seaformer_deploy.export.report import ExportResult

Progress = Callable[[str], None]

HTML_NAME = "demo-report.html"

DEMO_BENCH = BenchOptions(device="local", warmup=3, runs=20, repeats=3, dataset="demo", reference=True)


def demo_exports(variant: str, input_size: str) -> list[tuple[str, ExportOptions]]:
    """The runtimes the demo compares, each with the export that makes its model."""
    common = {"variant": variant, "input_size": input_size, "checkpoint": "demo"}
    return [
        ("ONNX fp32", ExportOptions(format="onnx", **common)),
        ("TFLite fp32", ExportOptions(format="tflite", **common)),
        ("TFLite int8", ExportOptions(format="tflite", quant="int8", calib_data="demo", **common)),
        ("TFLite labels (fast)", ExportOptions(format="tflite", output_mode="labels", labels_method="fast", **common)),
    ]


@dataclass
class DemoResult:
    """The side-by-side rows, the exports behind them and how long the whole demo took."""

    title: str
    rows: list[RuntimeRow] = field(default_factory=list)
    exports: list[ExportResult] = field(default_factory=list)
    html_path: Path | None = None
    seconds: float = 0.0


def run_demo(output_dir: str | Path, *, variant: str = "T", input_size: str = "256",
             progress: Progress | None = None) -> DemoResult:
    """Run every step of the module docstring, writing models and reports under ``output_dir``."""
    from seaformer_deploy.weights.demo import DemoWeightsWarning

    started = time.perf_counter()
    output_dir = Path(output_dir)
    say = progress or (lambda _message: None)
    exports = demo_exports(variant, input_size)
    total = 2 + 2 * len(exports)
    height, width = exports[0][1].resolved_input_hw()
    result = DemoResult(title=f"SeaFormer-{variant.upper()} seg {height}x{width}, demo checkpoint, this host "
                              f"(1 thread), demo validation split")
    say(f"[1/{total}] PyTorch eager: latency and mIoU")
    result.rows.append(_eager_row(variant, input_size, DEMO_BENCH))
    with warnings.catch_warnings():
        # Every export and report records the demo weights; the demo says it once, under its table.
        warnings.simplefilter("ignore", DemoWeightsWarning)
        _export_and_bench(exports, output_dir, result, say, total)
    say(f"[{total}/{total}] HTML report")
    result.html_path = write_html_report([row.report for row in result.rows if row.report is not None],
                                         output_dir / HTML_NAME)
    result.seconds = time.perf_counter() - started
    return result


def write_html_report(reports: list[Path], path: Path) -> Path:
    """The overview page of ``reports`` (what ``seaformer-report html`` writes), atomically at ``path``."""
    from seaformer_deploy.fileio import write_bytes_atomic
    from seaformer_deploy.report.html import render_overview_html
    from seaformer_deploy.report.matching import collect_runs

    runs = [run for report in reports for run in collect_runs(report)]
    write_bytes_atomic(path, render_overview_html(runs).encode())
    return path


def _export_and_bench(exports: list[tuple[str, ExportOptions]], output_dir: Path, result: DemoResult,
                      say: Progress, total: int) -> None:
    from seaformer_deploy.bench.runner import benchmark
    from seaformer_deploy.export.pipeline import export
    from seaformer_deploy.export.report import raise_for_result

    for index, (runtime, export_options) in enumerate(exports):
        step = 2 + 2 * index
        exported = export(export_options, output_dir,
                          progress=lambda what, s=step, r=runtime: say(f"[{s}/{total}] export {r}: {what}"))
        raise_for_result(exported)
        result.exports.append(exported)
        assert exported.model_path is not None
        say(f"[{step + 1}/{total}] bench {runtime}")
        bench = benchmark(exported.model_path, DEMO_BENCH, output_dir,
                          progress=lambda what, done, count, s=step + 1, r=runtime:
                          say(f"[{s}/{total}] bench {r}: {what} {done}/{count}"))
        result.rows.append(row_from_bench(runtime, bench))


def _eager_row(variant: str, input_size: str, settings: BenchOptions) -> RuntimeRow:
    from seaformer_deploy import build_model
    from seaformer_deploy.bench.measures import summarize
    from seaformer_deploy.bench.pytorch_eager import eager_accuracy, eager_predictor, time_eager
    from seaformer_deploy.data.datasets import open_demo
    from seaformer_deploy.data.demo import demo_image
    from seaformer_deploy.data.preprocess import preprocess
    from seaformer_deploy.models.deploy import prepare_for_deploy
    from seaformer_deploy.weights.demo import DemoWeightsWarning

    with warnings.catch_warnings():
        # The exports below say it once each; the eager model is the same demo checkpoint.
        warnings.simplefilter("ignore", DemoWeightsWarning)
        model = build_model(variant, checkpoint="demo")
    deployed = prepare_for_deploy(model, input_size)
    sample = preprocess(demo_image(deployed.input_hw), deployed.input_hw)
    launches = time_eager(eager_predictor(deployed), sample, warmup=settings.warmup, runs=settings.runs,
                          repeats=settings.repeats, threads=settings.threads)
    checkpoint = Path(model.weights.path) if model.weights.path else None
    return eager_row("PyTorch eager", summarize(launches), eager_accuracy(deployed, open_demo()),
                     checkpoint.stat().st_size if checkpoint is not None else None)

"""Calibration of the latency regression gate on this host (a benchmark, not a test).

Usage: python benchmarks/regression_calibration.py [--comparisons 50] [--input-size 64]
       [--extra-classes 450] [--output build/perf/regression_calibration.json]

Runs COMPARISONS A/A comparisons (SeaFormer-T against itself, fresh launches) and as many A/B comparisons (T with
150 classes against T with 150 + EXTRA_CLASSES classes: a wider classifier and larger logits, i.e. a known amount
of extra work at the same input size and output mode), alternating A/A and A/B so machine load falls on both.
Every comparison is one interleaved A/B run with the defaults (`seaformer-bench --baseline`: 10 launches per
side, 5 warm-up and 30 timed runs per launch; the per-op profile is off because it does not enter the verdict).
The models are small (64 px by default) so that 100 comparisons fit in minutes on a shared 2-core machine.
Prints and writes: the false-alarm rate (A/A judged REGRESSION), the detection rate (A/B judged REGRESSION), the
slowdown the A/B pair really has (median of the measured changes), the wall time of one comparison, and the time
`seaformer-report compare` takes on two reports as a fresh process."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import click
from report import benchmark_console, publish, quiet
from rich.table import Table

from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.export.pipeline import ExportOptions, export
from seaformer_deploy.report.ab import AB_REPEATS, run_ab
from seaformer_deploy.report.compare import Verdict

BASE_CLASSES = 150


def _model(work: Path, input_size: str, num_classes: int) -> Path:
    folder = work / f"models-{input_size}-{num_classes}"
    existing = sorted(folder.glob("*.tflite"))
    if existing:
        return existing[0]
    options = ExportOptions(variant="T", format="tflite", input_size=input_size, num_classes=num_classes)
    return export(options, folder).model_path


def _cli_compare_seconds(baseline: Path, current: Path) -> tuple[float, float]:
    """Wall and CPU time of `seaformer-report compare` on two reports in a fresh interpreter (imports included);
    on a loaded machine the CPU time is the fairer of the two."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "seaformer_deploy.cli.report", "compare", str(baseline), str(current),
                    "--json"], capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@click.command()
@click.option("--comparisons", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--input-size", default="64", show_default=True)
@click.option("--extra-classes", default=450, show_default=True, type=click.IntRange(min=1))
@click.option("--work-dir", default=Path("build/perf/calibration"), type=click.Path(path_type=Path))
@click.option("--output", default=Path("build/perf/regression_calibration.json"), type=click.Path(path_type=Path))
@quiet
def main(comparisons: int, input_size: str, extra_classes: int, work_dir: Path, output: Path) -> None:
    console = benchmark_console()
    model_a = _model(work_dir, input_size, BASE_CLASSES)
    model_b = _model(work_dir, input_size, BASE_CLASSES + extra_classes)
    options = BenchOptions(repeats=AB_REPEATS, profile=False)
    verdicts: dict[str, Counter[Verdict]] = {"A/A": Counter(), "A/B": Counter()}
    changes: dict[str, list[float]] = {"A/A": [], "A/B": []}
    seconds: list[float] = []
    cli_seconds: list[tuple[float, float]] = []
    rows = []
    load_before = os.getloadavg()[0]
    for index in range(comparisons):
        for kind, candidate in (("A/A", model_a), ("A/B", model_b)):
            started = time.perf_counter()
            outcome = run_ab(candidate, model_a, options, work_dir / "runs" / f"{index:03d}-{kind.replace('/', '')}")
            seconds.append(time.perf_counter() - started)
            comparison = outcome.comparison
            verdicts[kind][comparison.verdict] += 1
            if comparison.latency is not None:
                changes[kind].append(comparison.latency.change)
            rows.append({"index": index, "kind": kind, "verdict": comparison.verdict.value,
                         "change": None if comparison.latency is None else comparison.latency.change,
                         "reasons": comparison.reasons, "seconds": round(seconds[-1], 2)})
            if index < 5:
                cli_seconds.append(_cli_compare_seconds(comparison.baseline.path, comparison.current.path))
        console.print(f"{index + 1}/{comparisons}: A/A {rows[-2]['verdict']}, A/B {rows[-1]['verdict']}")
    false_alarms = verdicts["A/A"][Verdict.REGRESSION]
    detected = verdicts["A/B"][Verdict.REGRESSION]
    true_slowdown = statistics.median(changes["A/B"]) if changes["A/B"] else float("nan")
    summary = {
        "comparisons_each": comparisons, "input_size": input_size, "extra_classes": extra_classes,
        "launches_per_side": AB_REPEATS, "runs_per_launch": options.runs, "warmup": options.warmup,
        "false_alarms": false_alarms, "false_alarm_rate": false_alarms / comparisons,
        "detected": detected, "detection_rate": detected / comparisons,
        "measured_slowdown_median": true_slowdown,
        "aa_verdicts": {v.value: n for v, n in verdicts["A/A"].items()},
        "ab_verdicts": {v.value: n for v, n in verdicts["A/B"].items()},
        "seconds_per_comparison": statistics.median(seconds),
        "cli_compare_seconds": statistics.median(wall for wall, _ in cli_seconds),
        "cli_compare_cpu_seconds": statistics.median(cpu for _, cpu in cli_seconds),
        "load_average_before": load_before, "load_average_after": os.getloadavg()[0],
    }
    table = Table(title=f"regression gate calibration: T {input_size}, {comparisons} A/A + {comparisons} A/B, "
                        f"interleaved, {AB_REPEATS} launches x {options.runs} runs per side")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in (
            ("false alarms (A/A judged REGRESSION)", f"{false_alarms}/{comparisons}"),
            ("A/A verdicts", ", ".join(f"{k} {n}" for k, n in summary["aa_verdicts"].items())),
            (f"detections (A/B, +{extra_classes} classes)", f"{detected}/{comparisons}"),
            ("A/B verdicts", ", ".join(f"{k} {n}" for k, n in summary["ab_verdicts"].items())),
            ("measured A/B slowdown (median)", f"{true_slowdown:+.1%}"),
            ("one interleaved comparison (median)", f"{summary['seconds_per_comparison']:.1f} s"),
            ("seaformer-report compare, fresh process (median wall / CPU)",
             f"{summary['cli_compare_seconds']:.2f} / {summary['cli_compare_cpu_seconds']:.2f} s"),
            ("load average before / after", f"{load_before:.1f} / {summary['load_average_after']:.1f}")):
        table.add_row(label, value)
    publish(console, table, output, "regression_calibration", [summary, *rows])


if __name__ == "__main__":
    main()

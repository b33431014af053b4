"""Side-by-side latency of SeaFormer on this host: plain conversion, our fp32/fp16/int8, onnxruntime, label maps.

Usage: python benchmarks/perf.py [--variants TB] [--input-size 512] [--threads 1,2] [--runs 30] [--warmup 5]
       [--weights demo] [--label-variants TB] [--output build/perf/perf.json]

Everything runs in one process. Per variant and thread count all models are timed interleaved (one run of
each, round after round), so background load hits them alike and the ratios hold even when the absolute
numbers are noisy. The host's fp32 peak is measured first on a 1x1-conv-only model through the same runtime,
at 1 thread and at each other thread count. Writes JSON and a markdown table (``.md`` beside the JSON) and
prints the targets' verdicts, each ratio with its 95% bootstrap interval over the rounds (so a verdict inside
the noise reads as one) and this host's floor or ceiling on it (``perf_targets.py``): a miss beyond it is out
of reach of any graph here, and the verdict names the lever below the graph.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import click
import numpy as np
from perf_artifacts import PerfModel, build_models
from perf_modules import module_rates, module_scaling, op_type_times, profile_model
from perf_targets import verdicts
from perf_timing import PEAK_RUNS, interleaved, litert_invoke, measure_peak, onnxruntime_invoke
from report import benchmark_console, quiet
from rich.table import Table

from seaformer_deploy.bench.measures import OpProfile
from seaformer_deploy.fileio import ensure_writable_dir, write_bytes_atomic, write_json_atomic

PROFILED_CONFIGS = ("fp32", "int8", "int8 float-stem", "int8 int8-io")
"""Models profiled op by op at 1 thread: the numerators of the ratio targets."""
SCALING_CONFIGS = ("fp32", "int8")
SCALING_ROWS = 8
"""Modules listed per model in the 2-thread table: those that lose the most."""
COLUMNS = ("variant", "config", "threads", "median ms", "p90 ms", "GMACs", "GMAC/s", "% peak", "TRANSPOSE",
           "RESHAPE", "unfused act", "partitions", "x plain", "x ORT")


def _row(model: PerfModel, threads: int, seconds: list[float], peak: float) -> dict[str, object]:
    median = float(np.median(seconds))
    rate = model.macs / median / 1e9
    return {
        "variant": model.variant, "config": model.config, "threads": threads, "engine": model.engine,
        "median_ms": median * 1e3, "p90_ms": float(np.percentile(seconds, 90)) * 1e3, "runs": len(seconds),
        "gmacs": model.macs / 1e9, "gmacs_per_s": rate, "pct_of_peak": 100.0 * rate / peak,
        "transposes": model.facts.transposes, "reshapes": model.facts.reshapes,
        "unfused_activations": model.facts.unfused_activations, "partitions": model.facts.partitions,
        "ops": model.facts.ops, "build_seconds": model.build_seconds,
        # Per round, in run order: rows of one variant and thread count were timed in the same rounds.
        "times_ms": [t * 1e3 for t in seconds],
    }


def _add_ratios(rows: list[dict[str, object]]) -> None:
    by_key = {(r["variant"], r["threads"], r["config"]): r for r in rows}
    for row in rows:
        for column, config in (("ratio_to_plain", "plain fp32"), ("ratio_to_onnxruntime", "onnx fp32")):
            base = by_key.get((row["variant"], row["threads"], config))
            row[column] = row["median_ms"] / base["median_ms"] if base else None  # type: ignore[operator]


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _cells(row: dict[str, object]) -> list[str]:
    keys = ("variant", "config", "threads", "median_ms", "p90_ms", "gmacs", "gmacs_per_s", "pct_of_peak",
            "transposes", "reshapes", "unfused_activations", "partitions", "ratio_to_plain", "ratio_to_onnxruntime")
    return [_fmt(row[key]) for key in keys]


def _markdown(rows: list[dict[str, object]], header: str) -> str:
    lines = [header, "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _export_cost(variant: str, input_size: str) -> dict[str, float]:
    """Wall time and peak resident memory of one ``seaformer-export`` run (fp32 TFLite) in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "seaformer_deploy.cli.export", "--variant", variant, "--format",
                        "tflite", "--input-size", input_size, "--output-dir", folder], check=True,
                       stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"variant": variant, "wall_seconds": seconds, "peak_rss_mb": peak_kib / 1024}


def _op_type_comparison(fp32: OpProfile, int8: OpProfile) -> list[dict[str, object]]:
    """Time per op type in fp32 and in int8 (1 thread, LiteRT op profiler): how much each kernel gains from int8,
    which bounds what int8 can give end to end on this host."""
    times = {"fp32": op_type_times(fp32), "int8": op_type_times(int8)}
    rows = []
    for op_type in sorted(set(times["fp32"]) | set(times["int8"]), key=lambda op: -times["fp32"].get(op, 0.0)):
        fp32_us, int8_us = times["fp32"].get(op_type, 0.0), times["int8"].get(op_type, 0.0)
        rows.append({"op_type": op_type, "fp32_us": fp32_us, "int8_us": int8_us,
                     "fp32_over_int8": fp32_us / int8_us if fp32_us and int8_us else None})
    return rows


@click.command()
@click.option("--variants", default="TB", show_default=True, help="S and L too with TSBL.")
@click.option("--input-size", default="512", show_default=True)
@click.option("--threads", "thread_list", default="1,2", show_default=True,
              help="4 is added where the host has 4 cores.")
@click.option("--runs", default=30, show_default=True)
@click.option("--warmup", default=5, show_default=True)
@click.option("--weights", default="demo", show_default=True, help="demo, or none for seeded random weights.")
@click.option("--label-variants", default="TB", show_default=True)
@click.option("--export-variant", default="B", show_default=True, help="Variant whose export time is measured.")
@click.option("--output", default=Path("build/perf/perf.json"), type=click.Path(path_type=Path))
@quiet
def main(variants: str, input_size: str, thread_list: str, runs: int, warmup: int, weights: str,
         label_variants: str, export_variant: str, output: Path) -> None:
    warnings.simplefilter("ignore")  # weights warnings: the JSON records which weights were used
    console = benchmark_console()
    cores = os.cpu_count() or 1
    threads = [int(t) for t in thread_list.split(",")]
    if cores >= 4 and 4 not in threads:
        threads.append(4)
    notes = [f"host: {cores} logical cores" + ("" if cores >= 4 else "; 4 threads not measured (fewer than 4 cores)")]
    export_cost = _export_cost(export_variant, input_size) if export_variant else {}
    peak = measure_peak(warmup=warmup, runs=max(runs, PEAK_RUNS), threads=threads)
    console.print(f"fp32 peak (1x1 convs): {peak.gmacs_per_s:.1f} GMAC/s at 1 thread, speed-up "
                  f"{peak.speedup_text() or 'not measured'}")
    rows: list[dict[str, object]] = []
    modules: dict[str, list[dict[str, object]]] = {}
    op_types: dict[str, list[dict[str, object]]] = {}
    op_times: dict[str, dict[str, dict[str, float]]] = {}
    scaling: dict[str, dict[str, list[dict[str, object]]]] = {}
    checkpoint = None if weights == "none" else weights
    with tempfile.TemporaryDirectory() as folder:
        for variant in variants:
            methods = ("exact", "half", "quarter", "fast") if variant in label_variants else ()
            console.print(f"building {variant} models ...")
            models, failed = build_models(variant, input_size, checkpoint, Path(folder) / variant,
                                          label_methods=methods)
            notes += failed
            for failure in failed:
                console.print(f"[red]export failed, no row:[/red] {failure}")
            for count in threads:
                invokes = {
                    m.config: (onnxruntime_invoke if m.engine == "onnxruntime" else litert_invoke)(m.path, count)
                    for m in models
                }
                times = interleaved(invokes, warmup=warmup, runs=runs)
                rows += [_row(m, count, times[m.config], peak.gmacs_per_s) for m in models]
                console.print(f"timed {variant} at {count} thread(s)")
            by_config = {m.config: m for m in models}
            # 1-thread op profiles: per-module rates, int8 against fp32 per op type, and each ratio target's floor
            # (the share of op time the convolutions take in the model on the ratio's numerator).
            profiles = {config: profile_model(by_config[config].path, runs=20, warmup=2)
                        for config in PROFILED_CONFIGS if config in by_config}
            op_times[variant] = {config: op_type_times(profile) for config, profile in profiles.items()}
            if "fp32" in profiles:
                modules[variant] = module_rates(by_config["fp32"].path, profiles["fp32"], peak_gmacs=peak.gmacs_per_s)
                if "int8" in profiles:
                    op_types[variant] = _op_type_comparison(profiles["fp32"], profiles["int8"])
            # The same models profiled at 2 threads: which modules lose the 2-thread speed-up.
            if 2 in threads:
                scaling[variant] = {
                    config: module_scaling(by_config[config].path, profiles[config],
                                           profile_model(by_config[config].path, runs=20, warmup=2, threads=2), 2)
                    for config in SCALING_CONFIGS if config in profiles}
    _add_ratios(rows)
    found = verdicts(rows, export_cost, op_times, peak.speedups.get(2))
    table = Table(title=f"SeaFormer at {input_size}, XNNPACK / onnxruntime, interleaved, {runs} runs each")
    for column in COLUMNS:
        table.add_column(column)
    for row in rows:
        table.add_row(*_cells(row))
    for verdict in found:
        console.print(verdict.line(), highlight=False, markup=False)
    header = (f"SeaFormer at {input_size}, {runs} interleaved runs per row; fp32 peak {peak.gmacs_per_s:.1f} GMAC/s"
              f" at 1 thread, speed-up {peak.speedup_text() or 'not measured'}; {notes[0]}")
    module_lines = [f"\n{variant} fp32 per module (1 thread, LiteRT op profiler):\n\n"
                    "| module | us | MMAC | GMAC/s | % peak |\n|---|---|---|---|---|\n"
                    + "\n".join(f"| {r['module']} | {r['us']:.0f} | {r['mmacs']:.1f} | {r['gmacs_per_s']:.1f} | "
                                f"{r['pct_of_peak']:.0f} |" for r in rows_)
                    for variant, rows_ in modules.items()]
    op_type_lines = [f"\n{variant} int8 vs fp32 per op type (1 thread, LiteRT op profiler):\n\n"
                     "| op type | fp32 us | int8 us | fp32 / int8 |\n|---|---|---|---|\n"
                     + "\n".join(f"| {r['op_type']} | {r['fp32_us']:.0f} | {r['int8_us']:.0f} | "
                                 f"{_fmt(r['fp32_over_int8'])} |" for r in rows_)
                     for variant, rows_ in op_types.items()]
    scaling_lines = [f"\n{variant} {config} per module, 1 against 2 threads (LiteRT op profiler; lost: us beyond a "
                     "perfect split):\n\n| module | 1 thread us | 2 threads us | speed-up | lost us |\n"
                     "|---|---|---|---|---|\n"
                     + "\n".join(f"| {r['module']} | {r['us_1']:.0f} | {r['us_n']:.0f} | {_fmt(r['speedup'])} | "
                                 f"{r['lost_us']:.0f} |" for r in rows_[:SCALING_ROWS]) + "\n"
                     for variant, configs in scaling.items() for config, rows_ in configs.items()]
    verdict_lines = "\n".join(f"- {verdict.line()}" for verdict in found)
    console.print(table)
    ensure_writable_dir(output.parent)
    markdown = (_markdown(rows, header) + "".join(module_lines) + "".join(op_type_lines) + "".join(scaling_lines)
                + "\n\n" + verdict_lines + "\n")
    write_bytes_atomic(output.with_suffix(".md"), markdown.encode())
    write_json_atomic(output, {
        "benchmark": "perf", "input_size": input_size, "runs": runs, "warmup": warmup, "weights": weights,
        "peak": asdict(peak), "export_cost": export_cost, "notes": notes, "rows": rows, "modules": modules,
        "op_types": op_types, "thread_scaling": scaling,
        "verdicts": [verdict.as_json() for verdict in found],
    })
    console.print(f"wrote {output} and {output.with_suffix('.md')}")


if __name__ == "__main__":
    main()

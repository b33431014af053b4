"""``seaformer-bench``: latency, per-layer profile and mIoU of an exported model, on this host or a phone."""

from __future__ import annotations

import json
from pathlib import Path

import click

from seaformer_deploy.cli.common import CONTEXT_SETTINGS, debug_option, handle_errors


class _DefaultRun(click.Group):
    """``seaformer-bench --device ... --model ...`` means ``seaformer-bench run ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        elif not args:
            args = ["run"]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultRun, context_settings=CONTEXT_SETTINGS)
def main() -> None:
    """Benchmark exported SeaFormer models (the default command is `run`)."""


def _emit(report_path: Path, report: dict, as_json: bool) -> None:
    from rich.console import Console

    from seaformer_deploy.bench.console import print_bench_summary

    print_bench_summary(report, Console(stderr=True))
    click.echo(f"report: {report_path}", err=True)
    if as_json:
        summary = report["latency"]["summary"]
        accuracy = report.get("accuracy") or {}
        click.echo(json.dumps({
            "report": str(report_path), "median_ms": summary["median_ms"], "stable": summary["stable"],
            "mIoU": (accuracy.get("metrics") or {}).get("mIoU"),
            "agreement_mIoU": (accuracy.get("agreement_with_pytorch") or {}).get("mIoU"),
            "warnings": report["warnings"],
        }, indent=2))


@main.command(context_settings=CONTEXT_SETTINGS)
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="An exported .tflite or .onnx file (its export report beside it is read too).")
@click.option("--device", default="local", show_default=True, help="local, adb (the only phone) or adb:SERIAL.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--delegate", default="xnnpack", show_default=True,
              type=click.Choice(["xnnpack", "gpu", "nnapi", "cpu"], case_sensitive=False))
@click.option("--warmup", default=5, show_default=True, type=click.IntRange(min=0))
@click.option("--runs", default=30, show_default=True, type=click.IntRange(min=1))
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(min=1),
              help="Independent launches (fresh process/session each).")
@click.option("--profile/--no-profile", default=True, show_default=True, help="Per-op profile mapped to modules.")
@click.option("--dataset", help="ade20k:DIR, cityscapes:DIR, folder:IMAGES,LABELS, images:DIR or demo.")
@click.option("--limit", type=click.IntRange(min=1), help="Evaluate at most N images.")
@click.option("--reference", is_flag=True, help="Also report agreement with the PyTorch model.")
@click.option("--checkpoint", type=click.Path(dir_okay=False),
              help="Checkpoint for --reference, or 'demo' [default: the one the export report names].")
@click.option("--adb", "adb_path", help="adb executable [default: $ADB, PATH, then adbutils' bundled adb].")
@click.option("--benchmark-binary", envvar="SEAFORMER_BENCHMARK_MODEL",
              help="benchmark_model for the phone [env: SEAFORMER_BENCHMARK_MODEL].")
@click.option("--cpu-mask", help="taskset mask for the phone [default: its big cores].")
@click.option("--cooldown", default=30.0, show_default=True, help="Max seconds to wait for a cool phone.")
@click.option("--allow-unstable", is_flag=True, help="Exit 0 even when the measurement is inconclusive.")
@click.option("--output-dir", default=Path("build/bench"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@debug_option
@handle_errors
def run(model_path: Path, device: str, threads: int, delegate: str, warmup: int, runs: int, repeats: int,
        profile: bool, dataset: str | None, limit: int | None, reference: bool, checkpoint: str | None,
        adb_path: str | None, benchmark_binary: str | None, cpu_mask: str | None, cooldown: float,
        allow_unstable: bool, output_dir: Path, as_json: bool, debug: bool) -> None:
    """Measure latency (+ per-module profile and accuracy) of MODEL on DEVICE."""
    from rich.progress import Progress

    from seaformer_deploy.bench.runner import BenchOptions, benchmark
    from seaformer_deploy.errors import InconclusiveError

    options = BenchOptions(device=device, threads=threads, delegate=delegate.lower(), warmup=warmup, runs=runs,
                           repeats=repeats, profile=profile, dataset=dataset, limit=limit, reference=reference,
                           checkpoint=checkpoint, adb=adb_path, benchmark_binary=benchmark_binary,
                           cpu_mask=cpu_mask, cooldown_s=cooldown)
    with Progress(transient=True) as bar:
        tasks: dict[str, int] = {}

        def tick(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        result = benchmark(model_path, options, output_dir, progress=tick)
    _emit(result.report_path, result.report, as_json)
    if not result.stable and not allow_unstable:
        raise InconclusiveError("measurement inconclusive: " + "; ".join(result.report["latency"]["summary"]["reasons"])
                                + " (--allow-unstable to accept it)")


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("suite_path", metavar="SUITE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--device", default="local", show_default=True, help="local, adb (the only phone) or adb:SERIAL.")
@click.option("--adb", "adb_path", help="adb executable [default: $ADB, PATH, then adbutils' bundled adb].")
@click.option("--benchmark-binary", envvar="SEAFORMER_BENCHMARK_MODEL",
              help="benchmark_model for the phone [env: SEAFORMER_BENCHMARK_MODEL].")
@click.option("--allow-unstable", is_flag=True, help="Exit 0 even when a measurement is inconclusive.")
@click.option("--output-dir", default=Path("build/bench"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@debug_option
@handle_errors
def suite(suite_path: Path, device: str, adb_path: str | None, benchmark_binary: str | None, allow_unstable: bool,
          output_dir: Path, debug: bool) -> None:
    """Run a benchmark SUITE (bench/*.json) on DEVICE, exporting missing models first."""
    from rich.console import Console
    from rich.table import Table

    from seaformer_deploy.bench.console import print_bench_summary
    from seaformer_deploy.bench.runner import BenchOptions
    from seaformer_deploy.bench.suite import run_suite
    from seaformer_deploy.errors import InconclusiveError

    console = Console(stderr=True)
    base = BenchOptions(device=device, adb=adb_path, benchmark_binary=benchmark_binary)
    outcomes = run_suite(suite_path, base, output_dir, announce=lambda message: console.print(f"[bold]{message}"))
    table = Table(title=f"{suite_path} on {device}")
    for column in ("model", "median ms", "stable", "mIoU", "vs PyTorch", "report"):
        table.add_column(column, overflow="fold")
    unstable = []
    for outcome in outcomes:
        if outcome.result is None:
            table.add_row(outcome.recipe, "-", "-", "-", "-", f"skipped: {outcome.skipped}")
            continue
        print_bench_summary(outcome.result.report, console)
        summary = outcome.result.report["latency"]["summary"]
        accuracy = outcome.result.report.get("accuracy") or {}
        miou = (accuracy.get("metrics") or {}).get("mIoU")
        agreement = (accuracy.get("agreement_with_pytorch") or {}).get("mIoU")
        table.add_row(outcome.model.name, f"{summary['median_ms']:.2f}", "yes" if summary["stable"] else "NO",
                      "-" if miou is None else f"{100 * miou:.2f}",
                      "-" if agreement is None else f"{100 * agreement:.2f}",
                      outcome.result.report_path.name)
        if not outcome.result.stable:
            unstable.append(outcome.model.name)
    console.print(table)
    if unstable and not allow_unstable:
        raise InconclusiveError(f"inconclusive measurements: {', '.join(unstable)} (--allow-unstable to accept)")


@main.command("import-log", context_settings=CONTEXT_SETTINGS)
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Our exported model the log was measured on (attributes per-op rows to modules); "
                   "leave out for any other model.")
@click.option("--op-profile-csv", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV written by --op_profiling_output_mode=csv, if the log's profile went to a file.")
@click.option("--device-name", default="imported", show_default=True, help="What the log was measured on.")
@click.option("--output-dir", default=Path("build/bench"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@debug_option
@handle_errors
def import_log(log: Path, model_path: Path | None, op_profile_csv: Path | None, device_name: str, output_dir: Path,
               as_json: bool, debug: bool) -> None:
    """Turn an existing benchmark_model LOG into a bench report."""
    from seaformer_deploy.bench.benchmark_model.import_log import import_benchmark_log

    result = import_benchmark_log(log, model_path, output_dir, op_profile_csv=op_profile_csv,
                                  device_name=device_name)
    _emit(result.report_path, result.report, as_json)


if __name__ == "__main__":
    main()

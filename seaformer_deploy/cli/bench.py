"""``seaformer-bench``: latency, per-layer profile and mIoU of an exported model, on this host or a phone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from seaformer_deploy.bench.devices.spec import Delegate
from seaformer_deploy.bench.options import COOLDOWN_MAX_S, COOLDOWN_TEMP_C
from seaformer_deploy.cli.common import (
    CONTEXT_SETTINGS,
    bench_device_options,
    debug_option,
    handle_errors,
    output_dir_option,
)

if TYPE_CHECKING:
    from seaformer_deploy.bench.report import BenchResult
    from seaformer_deploy.report.ab import ABOutcome


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


def _emit(result: BenchResult, as_json: bool) -> None:
    from rich.console import Console

    from seaformer_deploy.bench.console import print_bench_summary

    print_bench_summary(result.report, Console(stderr=True))
    click.echo(f"report: {result.report_path}", err=True)
    if as_json:
        click.echo(json.dumps(result.summary(), indent=2))


def _emit_ab(outcome: ABOutcome, as_json: bool) -> None:
    from rich.console import Console

    from seaformer_deploy.report.console import print_comparison

    print_comparison(outcome.comparison, Console(stderr=True))
    click.echo(f"reports: {outcome.comparison.baseline.path}, {outcome.comparison.current.path}; "
               f"comparison: {outcome.comparison_path}", err=True)
    if as_json:
        from seaformer_deploy.report.serialize import comparison_to_dict

        click.echo(json.dumps(comparison_to_dict(outcome.comparison), indent=2))


def _measurement_options(function: Any) -> Any:
    """How ``run`` measures; every option is named as the ``BenchOptions`` field it sets."""
    options = [
        click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1)),
        click.option("--delegate", default=Delegate.XNNPACK.value, show_default=True,
                     type=click.Choice([delegate.value for delegate in Delegate], case_sensitive=False)),
        click.option("--warmup", default=5, show_default=True, type=click.IntRange(min=0)),
        click.option("--runs", default=30, show_default=True, type=click.IntRange(min=1)),
        click.option("--repeats", default=3, show_default=True, type=click.IntRange(min=1),
                     help="Independent launches (fresh process/session each)."),
        click.option("--profile/--no-profile", default=True, show_default=True,
                     help="Per-op profile mapped to modules."),
        click.option("--dataset", help="Segmentation: ade20k:DIR, cityscapes:DIR, folder:IMAGES,LABELS, images:DIR "
                     "or demo. Classification: imagenet:DIR (one folder per class) or demo-cls."),
        click.option("--limit", type=click.IntRange(min=1), help="Evaluate at most N images."),
        click.option("--reference", is_flag=True, help="Also report agreement with the PyTorch model."),
        click.option("--checkpoint", type=click.Path(dir_okay=False),
                     help="Checkpoint for --reference, or 'demo' [default: the one the export report names]."),
        click.option("--cpu-mask", help="taskset mask for the phone [default: its big cores]."),
        click.option("--cooldown-temp", "cooldown_temp_c", default=COOLDOWN_TEMP_C, show_default=True,
                     type=click.FloatRange(min=0), help="Before every phone launch, wait until thermal status is "
                     "0 and the hottest CPU zone is below this (degC)..."),
        click.option("--cooldown-max-s", "cooldown_max_s", default=COOLDOWN_MAX_S, show_default=True,
                     type=click.FloatRange(min=0), help="...but at most this many seconds (0: no gate)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command(context_settings=CONTEXT_SETTINGS)
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="An exported .tflite or .onnx file (its export report beside it is read too).")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="A/B: a baseline model measured interleaved with MODEL, or a stored bench report (.json); "
                   "writes both reports and the comparison, exits with the verdict's code (--repeats defaults to "
                   "10 then).")
@bench_device_options
@_measurement_options
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@debug_option
@handle_errors
@click.pass_context
def run(ctx: click.Context, model_path: Path, baseline: Path | None, allow_unstable: bool, output_dir: Path,
        as_json: bool, debug: bool, **settings: Any) -> None:
    """Measure latency (+ per-module profile and accuracy) of MODEL on DEVICE."""
    from rich.progress import Progress

    from seaformer_deploy.bench.options import BenchOptions
    from seaformer_deploy.bench.runner import benchmark
    from seaformer_deploy.errors import InconclusiveError

    if baseline is not None and ctx.get_parameter_source("repeats") is click.core.ParameterSource.DEFAULT:
        from seaformer_deploy.report.ab import AB_REPEATS

        settings["repeats"] = AB_REPEATS
    options = BenchOptions(**settings)
    if options.device.is_fleet:
        if baseline is not None:
            raise click.BadParameter("interleaved A/B runs on one device: pick one phone (adb:SERIAL)",
                                     param_hint="--device")
        _run_fleet(model_path, options, output_dir, allow_unstable, as_json)
        return
    with Progress(transient=True) as bar:
        tasks: dict[str, int] = {}

        def tick(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        if baseline is not None:
            from seaformer_deploy.report.ab import run_ab

            outcome = run_ab(model_path, baseline, options, output_dir, progress=tick)
        else:
            result = benchmark(model_path, options, output_dir, progress=tick)
    if baseline is not None:
        _emit_ab(outcome, as_json)
        raise SystemExit(outcome.comparison.verdict.exit_code)
    _emit(result, as_json)
    if not result.stable and not allow_unstable:
        raise InconclusiveError("measurement inconclusive: " + "; ".join(result.report.latency.summary.reasons)
                                + " (--allow-unstable to accept it)")


def _run_fleet(model_path: Path, options: Any, output_dir: Path, allow_unstable: bool, as_json: bool) -> None:
    """``run`` on several phones at once: a report per phone, one combined table, the worst exit code."""
    from rich.console import Console

    from seaformer_deploy.bench.console import print_bench_summary, print_fleet_table
    from seaformer_deploy.bench.devices.fleet import run_fleet

    console = Console(stderr=True)
    fleet = run_fleet(model_path, options, output_dir, announce=console.print)
    for outcome in fleet.outcomes:
        if outcome.result is not None:
            print_bench_summary(outcome.result.report, console)
            click.echo(f"report: {outcome.result.report_path}", err=True)
    print_fleet_table(fleet.rows(), console, f"{model_path.name} on {options.device}")
    click.echo(f"fleet table: {fleet.table_path}", err=True)
    if as_json:
        click.echo(json.dumps({"table": str(fleet.table_path), "exit_code": fleet.exit_code(allow_unstable),
                               "phones": {o.serial: o.result.summary() if o.result else {"error": o.error}
                                          for o in fleet.outcomes}}, indent=2))
    _raise_for_fleet(fleet.exit_code(allow_unstable), fleet.failures())


def _raise_for_fleet(code: int, failures: list[str]) -> None:
    """The fleet's worst exit code as the error class that carries it (one line)."""
    from seaformer_deploy.errors import CheckFailedError, DeviceError, InconclusiveError

    if code == 0:
        return
    failed = f"{len(failures)} phone(s) failed: " + "; ".join(failures) if failures else ""
    error = {2: DeviceError, 1: CheckFailedError, 3: InconclusiveError}[code]
    raise error(failed or "inconclusive measurement on some phones (--allow-unstable to accept)")


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("suite_path", metavar="SUITE", type=click.Path(dir_okay=False, path_type=Path))
@bench_device_options
@debug_option
@handle_errors
def suite(suite_path: Path, allow_unstable: bool, output_dir: Path, debug: bool, **settings: Any) -> None:
    """Run a benchmark SUITE (bench/*.json) on DEVICE, exporting missing models first."""
    from rich.console import Console
    from rich.table import Table

    from seaformer_deploy.bench.console import print_bench_summary
    from seaformer_deploy.bench.options import BenchOptions
    from seaformer_deploy.bench.suite import run_suite
    from seaformer_deploy.errors import InconclusiveError

    console = Console(stderr=True)
    base = BenchOptions(**settings)
    outcomes = run_suite(suite_path, base, output_dir, announce=lambda message: console.print(f"[bold]{message}"))
    table = Table(title=f"{suite_path} on {base.device}")
    for column in ("model", "device", "median ms", "stable", "mIoU", "vs PyTorch", "report"):
        table.add_column(column, overflow="fold")
    unstable, failures = [], []
    for outcome in outcomes:
        if outcome.result is None or outcome.model is None:
            reason = f"failed: {outcome.error}" if outcome.error else f"skipped: {outcome.skipped}"
            table.add_row(outcome.recipe, outcome.device or "-", "-", "-", "-", "-", reason)
            if outcome.error:
                failures.append(f"{outcome.device}: {outcome.error}")
            continue
        print_bench_summary(outcome.result.report, console)
        summary = outcome.result.summary()
        miou, agreement, median = summary["mIoU"], summary["agreement_mIoU"], summary["median_ms"]
        table.add_row(outcome.model.name, outcome.device or "-", "-" if median is None else f"{median:.2f}",
                      "yes" if outcome.result.stable else "NO",
                      "-" if miou is None else f"{100 * miou:.2f}",
                      "-" if agreement is None else f"{100 * agreement:.2f}",
                      outcome.result.report_path.name)
        if not outcome.result.stable:
            unstable.append(outcome.model.name)
    console.print(table)
    if failures:
        _raise_for_fleet(2, failures)
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
@output_dir_option(Path("build/bench"))
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@debug_option
@handle_errors
def import_log(log: Path, model_path: Path | None, op_profile_csv: Path | None, device_name: str, output_dir: Path,
               as_json: bool, debug: bool) -> None:
    """Turn an existing benchmark_model LOG into a bench report."""
    from seaformer_deploy.bench.benchmark_model.import_log import import_benchmark_log

    result = import_benchmark_log(log, model_path, output_dir, op_profile_csv=op_profile_csv,
                                  device_name=device_name)
    _emit(result, as_json)


if __name__ == "__main__":
    main()

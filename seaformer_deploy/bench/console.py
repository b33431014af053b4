"""Rich console summary of a bench report: latency, per-module breakdown, accuracy, loud warnings."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from seaformer_deploy.bench.devices.fleet import FleetRow
from seaformer_deploy.bench.report import BenchReport, OpProfileSummary
from seaformer_deploy.model_facts import WeightSource

_TOP_OPS = 10


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _print_top_ops(ops: OpProfileSummary, console: Console) -> None:
    """The slowest per-op rows of a profile without module attribution (another model's log, or a phone
    build that cannot run the builtin kernels)."""
    table = Table(title=f"slowest ops ({ops.engine}, {ops.kernel_mode}; no per-module table)")
    for column, justify in (("op", "left"), ("type", "left"), ("ms/run", "right"), ("% of ops", "right")):
        table.add_column(column, justify=justify)
    for op in sorted(ops.ops, key=lambda op: op.avg_us, reverse=True)[:_TOP_OPS]:
        # Op names hold brackets ("LiteRT::Run[Buffer sync]") that rich would read as markup.
        table.add_row(escape(op.name), escape(op.op_type), f"{op.avg_us / 1e3:.3f}", f"{op.pct:.1f}")
    console.print(table)


def _print_thermal_gate(report: BenchReport, console: Console) -> None:
    """Time the cooldown gate spent and throttled launches retried (phones only)."""
    waits = [launch.cooldown_wait_s for launch in report.latency.launches if launch.cooldown_wait_s is not None]
    if not waits:
        return
    retried = sum(launch.retries for launch in report.latency.launches)
    protocol = report.protocol
    console.print(f"thermal gate: {sum(waits):.1f} s cooling down before {len(waits)} launch(es) (below "
                  f"{protocol.cooldown_temp_c} degC, at most {protocol.cooldown_max_s} s each), "
                  f"{retried} throttled launch(es) retried")


def print_bench_summary(report: BenchReport, console: Console) -> None:
    """Print ``report`` on ``console``."""
    latency = report.latency.summary
    title = (f"{report.model.file} on {report.device.spec} ({report.device.description}), "
             f"{report.protocol.threads} thread(s), {report.protocol.delegate}")
    table = Table(title=title)
    for column in ("launch", "runs", "median ms", "avg ms", "min ms", "max ms", "std ms", "throttled"):
        table.add_column(column, justify="right")
    for launch in report.latency.launches:
        stats = launch.stats
        centre = launch.centre_us
        table.add_row(str(launch.index), str(stats.count), _ms(None if centre is None else centre / 1e3),
                      *(_ms(None if value is None else value / 1e3)
                        for value in (stats.avg_us, stats.min_us, stats.max_us, stats.std_us)),
                      "yes" if launch.throttled else "")
    console.print(table)
    verdict = "[green]stable[/]" if latency.stable else "[bold yellow]INCONCLUSIVE: " + "; ".join(
        latency.reasons) + "[/]"
    console.print(f"latency: median {_ms(latency.median_ms)} ms over {latency.launches} launches, p90 "
                  f"{_ms(latency.p90_ms)} ms, CV between launches {latency.cv_between_launches or 0:.1%}"
                  f" -> {verdict}")
    _print_thermal_gate(report, console)
    if report.profile is not None and report.profile.modules is None:
        _print_top_ops(report.profile.ops, console)
    elif report.profile is not None:
        modules = report.profile.modules
        breakdown = Table(title=f"per-module latency ({modules.engine}, {modules.kernel_mode} kernels)")
        for column, justify in (("module", "left"), ("ms/run", "right"), ("% of e2e", "right"), ("ops", "right")):
            breakdown.add_column(column, justify=justify)
        for row in modules.rows:
            breakdown.add_row(row.module, f"{row.us_per_run / 1e3:.3f}", f"{row.pct:.1f}", str(row.op_count))
        console.print(breakdown)
        console.print(f"sum of ops {modules.sum_of_ops_us / 1e3:.2f} ms vs end-to-end "
                      f"{modules.e2e_us / 1e3:.2f} ms (gap and unattributed rows above are not hidden)")
    accuracy = report.accuracy
    if accuracy is not None:
        line = f"accuracy on {accuracy.dataset_name} ({accuracy.num_samples} images, on {accuracy.evaluated_on}):"
        if accuracy.top1 is not None:
            line += f" top-1 {_pct(accuracy.top1)}, top-5 {_pct(accuracy.top5)}"
        elif accuracy.metrics:
            line += f" mIoU {_pct(accuracy.miou)}, aAcc {_pct(accuracy.aacc)}, mAcc {_pct(accuracy.macc)}"
        if accuracy.top1_agreement is not None:
            line += (f"; vs PyTorch: top-1 agreement {_pct(accuracy.top1_agreement)}, "
                     f"PyTorch's class in top-5 {_pct(accuracy.top5_agreement)}")
        elif accuracy.agreement_with_pytorch:
            line += (f"; vs PyTorch: mIoU {_pct(accuracy.agreement_miou)}, "
                     f"pixel agreement {_pct(accuracy.pixel_agreement)}")
        console.print(line)
    if report.model.facts is not None and report.model.facts.weights is WeightSource.RANDOM:
        console.print("[bold red]WARNING:[/] random weights: accuracy numbers are meaningless")
    for warning in report.warnings:
        console.print(f"[bold red]WARNING:[/] {escape(warning)}")


def print_fleet_table(rows: list[FleetRow], console: Console, title: str) -> None:
    """The combined model x phone table of a fleet run."""
    table = Table(title=title)
    for column, justify in (("model", "left"), ("phone", "left"), ("median ms", "right"), ("p90 ms", "right"),
                            ("p95 ms", "right"), ("hottest degC", "right"), ("top module", "left"),
                            ("mIoU", "right"), ("status", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        phone = row.phone if row.device_model is None else f"{row.phone} ({row.device_model})"
        table.add_row(row.model, phone, _ms(row.median_ms), _ms(row.p90_ms), _ms(row.p95_ms),
                      "-" if row.hottest_c is None else f"{row.hottest_c:.1f}", row.top_module or "-",
                      _pct(row.miou), escape(row.status))
    console.print(table)

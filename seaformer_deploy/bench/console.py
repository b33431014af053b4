"""Rich console summary of a bench report: latency, per-module breakdown, accuracy, loud warnings."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from seaformer_deploy.bench.report import BenchReport
from seaformer_deploy.model_facts import WeightSource

_TOP_OPS = 10


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


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
    if report.profile is not None:
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
    if report.model.facts.weights is WeightSource.RANDOM:
        console.print("[bold red]WARNING:[/] random weights: accuracy numbers are meaningless")
    for warning in report.warnings:
        console.print(f"[bold red]WARNING:[/] {warning}")

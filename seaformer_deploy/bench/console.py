"""Rich console summary of a bench report: latency, per-module breakdown, accuracy, loud warnings."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

_TOP_OPS = 10


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _print_top_ops(profile: dict[str, Any], console: Console) -> None:
    """The slowest per-op rows of a profile that was not attributed to modules (another model's log)."""
    table = Table(title=f"slowest ops ({profile['engine']}, {profile['kernel_mode']}; no module attribution "
                        "without our model)")
    for column, justify in (("op", "left"), ("type", "left"), ("ms/run", "right"), ("% of ops", "right")):
        table.add_column(column, justify=justify)
    for op in sorted(profile["ops"], key=lambda op: op["avg_us"], reverse=True)[:_TOP_OPS]:
        # Op names hold brackets ("LiteRT::Run[Buffer sync]") that rich would read as markup.
        table.add_row(escape(op["name"]), escape(op["op_type"]), f"{op['avg_us'] / 1e3:.3f}", f"{op['pct']:.1f}")
    console.print(table)


def print_bench_summary(report: dict[str, Any], console: Console) -> None:
    """Print ``report`` (a bench report dict) on ``console``."""
    facts = report["model"]["facts"]
    device = report["device"]
    latency = report["latency"]["summary"]
    what = device.get("model") or device.get("cpu") or device["kind"]
    title = (f"{report['model']['file']} on {device['spec']} ({what}), "
             f"{report['protocol']['threads']} thread(s), {report['protocol']['delegate']}")
    table = Table(title=title)
    for column in ("launch", "runs", "median ms", "avg ms", "min ms", "max ms", "std ms", "throttled"):
        table.add_column(column, justify="right")
    for launch in report["latency"]["launches"]:
        stats = launch["stats_us"]
        table.add_row(str(launch["index"]), str(stats["count"]), _ms(launch["centre_ms"]),
                      *(_ms(None if stats[key] is None else stats[key] / 1e3)
                        for key in ("avg_us", "min_us", "max_us", "std_us")),
                      "yes" if launch["throttled"] else "")
    console.print(table)
    verdict = "[green]stable[/]" if latency["stable"] else "[bold yellow]INCONCLUSIVE: " + "; ".join(
        latency["reasons"]) + "[/]"
    console.print(f"latency: median {_ms(latency['median_ms'])} ms over {latency['launches']} launches, p90 "
                  f"{_ms(latency.get('p90_ms'))} ms, CV between launches {latency.get('cv_between_launches', 0):.1%}"
                  f" -> {verdict}")
    profile = report.get("profile")
    if profile and profile["modules"] is None:
        _print_top_ops(profile, console)
    elif profile:
        modules = profile["modules"]
        breakdown = Table(title=f"per-module latency ({modules['engine']}, {modules['kernel_mode']} kernels)")
        for column, justify in (("module", "left"), ("ms/run", "right"), ("% of e2e", "right"), ("ops", "right")):
            breakdown.add_column(column, justify=justify)
        for row in modules["modules"]:
            breakdown.add_row(row["module"], f"{row['us_per_run'] / 1e3:.3f}", f"{row['pct']:.1f}",
                              str(row["op_count"]))
        console.print(breakdown)
        console.print(f"sum of ops {modules['sum_of_ops_us'] / 1e3:.2f} ms vs end-to-end "
                      f"{modules['e2e_us'] / 1e3:.2f} ms (gap and unattributed rows above are not hidden)")
    accuracy = report.get("accuracy")
    if accuracy:
        dataset = accuracy["dataset"]
        line = f"accuracy on {dataset['name']} ({dataset['num_samples']} images, on {accuracy['evaluated_on']}):"
        if accuracy["metrics"]:
            metrics = accuracy["metrics"]
            line += f" mIoU {_pct(metrics['mIoU'])}, aAcc {_pct(metrics['aAcc'])}, mAcc {_pct(metrics['mAcc'])}"
        if accuracy["agreement_with_pytorch"]:
            agreement = accuracy["agreement_with_pytorch"]
            line += f"; vs PyTorch: mIoU {_pct(agreement['mIoU'])}, pixel agreement {_pct(agreement['aAcc'])}"
        console.print(line)
    if facts.get("weights") == "random":
        console.print("[bold red]WARNING:[/] random weights: accuracy numbers are meaningless")
    for warning in report["warnings"]:
        console.print(f"[bold red]WARNING:[/] {escape(warning)}")

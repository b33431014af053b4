"""Readable console summary of an export: artifact, parity, delegation, lint table and loud warnings."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from seaformer_deploy.export.report import ExportResult

_TOP_OPS = 12


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_export_summary(result: ExportResult, console: Console) -> None:
    """Print the summary of ``result`` on ``console``."""
    report = result.report
    facts = report.facts
    height, width = facts.input_size_hw
    title = f"SeaFormer-{facts.variant} {facts.task} {height}x{width}"
    table = Table(title=f"{title} -> {report.artifact.format} {facts.quantization}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("model", str(result.model_path) if result.ok else "[bold red]not written (export failed)[/]")
    table.add_row("report", str(result.report_path))
    table.add_row("size", f"{report.artifact.bytes / 1e6:.2f} MB")
    table.add_row("params / MACs", f"{report.params / 1e6:.2f} M / {report.macs / 1e9:.3f} G")
    table.add_row("input", report.how_to_run.input)
    table.add_row("output", report.how_to_run.output)
    parity = report.parity
    rows = parity.summary()
    table.add_row("parity", f"max abs {_fmt(rows.max_abs, '.3g')}, rel L2 {_fmt(rows.rel_l2, '.3g')}, "
                            f"argmax agreement {_fmt(rows.argmax_agreement, '.4f')}")
    colour = "green" if parity.passed else "bold red"
    table.add_row("", f"[{colour}]{parity.reason}[/]")
    if report.delegation is not None:
        delegation = report.delegation
        table.add_row("XNNPACK", f"{delegation.partitions} partition(s), {delegation.delegated_nodes}/"
                                 f"{delegation.total_nodes} nodes delegated")
    ops = sorted(report.op_histogram.items(), key=lambda item: -item[1])
    table.add_row("ops", ", ".join(f"{name} {count}" for name, count in ops[:_TOP_OPS]))
    table.add_row("export time", f"{report.export_seconds:.1f} s")
    console.print(table)
    console.print(report.lint.render_table())
    for warning in report.warnings:
        console.print(f"[bold red]WARNING:[/] {warning}")

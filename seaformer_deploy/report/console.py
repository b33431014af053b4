"""Rich console output of comparisons: the verdict, a summary table, the per-module blame."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from seaformer_deploy.report import formatting as fmt
from seaformer_deploy.report.compare import Comparison, Verdict
from seaformer_deploy.report.fingerprint import device_fingerprint

_STYLE = {Verdict.REGRESSION: "bold red", Verdict.IMPROVEMENT: "bold green", Verdict.NO_CHANGE: "green",
          Verdict.INCONCLUSIVE: "bold yellow"}
_MODULE_ROWS = 12


def print_comparison(comparison: Comparison, console: Console) -> None:
    base, cur = comparison.baseline, comparison.current
    device = cur.report.device
    console.print(f"[{_STYLE[comparison.verdict]}]{comparison.verdict.value}[/]: {escape(cur.model_file)} vs baseline "
                  f"{escape(base.model_file)} on {escape(device.spec)} "
                  f"({escape(device_fingerprint(device).describe())})")
    for reason in comparison.reasons:
        console.print(f"  - {escape(reason)}")
    for note in comparison.notes:
        console.print(f"  note: {escape(note)}")
    table = Table(title="latency (each launch is one sample: its median)")
    for column in ("side", "model", "launches", "median ms", "p90 ms", "CV", "mIoU"):
        table.add_column(column, justify="left" if column in ("side", "model") else "right")
    for side, run in (("baseline", base), ("current", cur)):
        summary = run.report.latency.summary
        table.add_row(side, run.model_file, str(len(run.centres_ms)), fmt.ms(summary.median_ms), fmt.ms(summary.p90_ms),
                      fmt.pct(summary.cv_between_launches),
                      fmt.miou_points(None if run.accuracy is None else run.accuracy.miou))
    console.print(table)
    console.print(f"change of the median: {fmt.change_text(comparison)} (95% bootstrap interval), "
                  f"p={fmt.p_text(comparison)}; mIoU {fmt.miou_delta_text(comparison)}")
    blame = comparison.blame
    if blame.modules:
        modules = Table(title="per-module latency, sorted by |delta|")
        for column in ("module", "baseline ms", "current ms", "delta ms", "delta %"):
            modules.add_column(column, justify="left" if column == "module" else "right")
        for row in blame.modules[:_MODULE_ROWS]:
            modules.add_row(row.module, fmt.ms(row.baseline_ms, 3), fmt.ms(row.current_ms, 3),
                            fmt.signed_ms(row.delta_ms), fmt.signed_pct(row.delta_pct))
        if len(blame.modules) > _MODULE_ROWS:
            modules.caption = f"{len(blame.modules) - _MODULE_ROWS} smaller rows in --markdown / --html / --json"
        console.print(modules)
    if blame.op_types:
        console.print("op types (export reports): " + ", ".join(
            f"{row.op_type} {row.baseline}->{row.current}" for row in blame.op_types))
    console.print(f"blame: {escape(blame.sentence)}")

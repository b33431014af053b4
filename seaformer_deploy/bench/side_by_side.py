"""One table comparing runtimes of the same model: latency, file size, top module, accuracy, agreement.

Each row is read from a bench report (an exported file measured by ``benchmark``) or from PyTorch eager measured
beside it (``bench.pytorch_eager``), so every number in the table is one the reports also hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from seaformer_deploy.bench.measures import LatencySummary
from seaformer_deploy.bench.report import AccuracySection, BenchResult, ProfileSection

# Rows of the module table that are not modules.
_NOT_MODULES = ("gap", "unattributed")


@dataclass(frozen=True)
class RuntimeRow:
    """One runtime's line in the table; ``agreement`` is the share of pixels (or images) that get PyTorch's
    class, ``top_module`` the module taking the largest share of end-to-end latency."""

    runtime: str
    median_ms: float | None
    p90_ms: float | None
    stable: bool
    file_bytes: int | None
    top_module: str | None
    top_module_pct: float | None
    score: float | None
    agreement: float | None
    report: Path | None = None


def top_module(profile: ProfileSection | None) -> tuple[str | None, float | None]:
    """The module with the largest share of end-to-end latency, and that share (percent)."""
    if profile is None:
        return None, None
    rows = [row for row in profile.modules.rows if row.module not in _NOT_MODULES]
    if not rows:
        return None, None
    top = max(rows, key=lambda row: row.us_per_run)
    return top.module, top.pct


def _score(accuracy: AccuracySection | None) -> tuple[float | None, float | None]:
    if accuracy is None:
        return None, None
    if accuracy.top1 is not None:
        return accuracy.top1, accuracy.top1_agreement
    return accuracy.miou, accuracy.pixel_agreement


def row_from_bench(runtime: str, result: BenchResult) -> RuntimeRow:
    """The row of an exported model from its bench result."""
    report = result.report
    summary = report.latency.summary
    module, pct = top_module(report.profile)
    score, agreement = _score(report.accuracy)
    return RuntimeRow(runtime=runtime, median_ms=summary.median_ms, p90_ms=summary.p90_ms, stable=summary.stable,
                      file_bytes=report.model.bytes, top_module=module, top_module_pct=pct, score=score,
                      agreement=agreement, report=result.report_path)


def eager_row(runtime: str, latency: LatencySummary, accuracy: AccuracySection, file_bytes: int | None) -> RuntimeRow:
    """The row of PyTorch eager (no per-module profile; it is its own reference, so agreement is 1)."""
    score, _ = _score(accuracy)
    return RuntimeRow(runtime=runtime, median_ms=latency.median_ms, p90_ms=latency.p90_ms, stable=latency.stable,
                      file_bytes=file_bytes, top_module=None, top_module_pct=None, score=score, agreement=1.0)


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def side_by_side_table(rows: list[RuntimeRow], *, title: str, score_name: str = "mIoU") -> Table:
    """The rich table of ``rows`` (accuracy and agreement in percent)."""
    table = Table(title=title)
    for column in ("runtime", "median ms", "p90 ms", "MB", "top module", score_name, "vs PyTorch"):
        table.add_column(column, justify="left" if column in ("runtime", "top module") else "right",
                         no_wrap=column != "top module")
    for row in rows:
        median = _num(row.median_ms) + ("" if row.stable else "*")
        module = "-" if row.top_module is None else f"{row.top_module} {row.top_module_pct:.0f}%"
        table.add_row(row.runtime, median, _num(row.p90_ms),
                      "-" if row.file_bytes is None else f"{row.file_bytes / 1e6:.2f}", module,
                      _num(None if row.score is None else 100 * row.score),
                      _num(None if row.agreement is None else 100 * row.agreement))
    return table

"""The report figures (matplotlib, Agg), each returned as a PNG ``data:`` URI so an HTML file embeds it."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from seaformer_deploy.model_facts import WeightSource
from seaformer_deploy.report.compare import Comparison
from seaformer_deploy.report.inputs import ReportFile
from seaformer_deploy.report.paper import PAPER_POINTS, PAPER_SETTING

BASELINE_COLOR = "#4c72b0"
CURRENT_COLOR = "#dd8452"
MODULE_BARS = 15


@contextmanager
def _figure(width: float, height: float) -> Iterator[tuple[Any, Any]]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(width, height), dpi=100, layout="constrained")
    try:
        yield figure, axes
    finally:
        plt.close(figure)


def _data_uri(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _launch_values(run: ReportFile) -> list[list[float]]:
    """Per launch, its runs (ms); a launch without per-run times (a phone's) is its median alone."""
    return [[v / 1e3 for v in launch.per_run_us] or [centre] for launch, centre in zip(run.timed_launches,
                                                                                    run.centres_ms, strict=True)]


def launch_distributions(comparison: Comparison) -> str:
    """Box plot of every launch's runs, both sides in launch order, with each side's median of medians."""
    with _figure(8, 3.6) as (figure, axes):
        for run, color, shift, label in ((comparison.baseline, BASELINE_COLOR, -0.2, "baseline"),
                                         (comparison.current, CURRENT_COLOR, 0.2, "current")):
            values = _launch_values(run)
            positions = [index + shift for index in range(len(values))]
            boxes = axes.boxplot(values, positions=positions, widths=0.35, patch_artist=True, showfliers=False,
                                 manage_ticks=False)
            for box in boxes["boxes"]:
                box.set(facecolor=color, alpha=0.6)
            axes.plot(positions, run.centres_ms, "o", color=color, markersize=3)
            median = run.report.latency.summary.median_ms
            axes.axhline(median, color=color, linestyle="--", linewidth=1,
                         label=f"{label} {run.model_file}: median {median:.3f} ms")
        count = max(len(comparison.baseline.centres_ms), len(comparison.current.centres_ms))
        axes.set_xticks(range(count))
        axes.set_xlabel("launch")
        axes.set_ylabel("latency per run (ms)")
        axes.set_title(f"per-launch latency: {comparison.verdict.value}")
        axes.legend(fontsize=7, loc="best")
        return _data_uri(figure)


def module_bars(comparison: Comparison) -> str | None:
    """Paired horizontal bars of the modules that moved most (None when a side has no profile)."""
    rows = comparison.blame.modules
    if not rows:
        return None
    rows = rows[:MODULE_BARS][::-1]
    with _figure(8, 0.9 + 0.28 * len(rows)) as (figure, axes):
        positions = range(len(rows))
        axes.barh([p + 0.2 for p in positions], [row.baseline_ms or 0 for row in rows], height=0.4,
                  color=BASELINE_COLOR, label="baseline")
        axes.barh([p - 0.2 for p in positions], [row.current_ms or 0 for row in rows], height=0.4,
                  color=CURRENT_COLOR, label="current")
        axes.set_yticks(list(positions), [row.module for row in rows], fontsize=8)
        axes.set_xlabel("ms per run")
        axes.set_title(f"modules sorted by |delta| (top {len(rows)})")
        axes.legend(fontsize=8)
        return _data_uri(figure)


def latency_overview(runs: list[ReportFile]) -> str:
    """Launch medians of several reports side by side."""
    with _figure(8, 0.9 + 0.35 * len(runs)) as (figure, axes):
        axes.boxplot([run.centres_ms for run in runs], orientation="horizontal", widths=0.5)
        axes.set_yticks(range(1, len(runs) + 1), [f"{run.model_file} @ {run.report.device.spec}" for run in runs],
                        fontsize=7)
        axes.set_xlabel("launch median latency (ms)")
        axes.set_title("latency per report (each point a launch)")
        return _data_uri(figure)


def accuracy_latency(runs: list[ReportFile]) -> str:
    """Accuracy against latency per variant in the style of the paper's Figure 1, with the paper's points.

    A report without accuracy (or with random weights, whose mIoU means nothing) is drawn at the paper's mIoU
    of its variant with a hollow marker, so its latency can still be read against the reference.
    """
    with _figure(7, 4.5) as (figure, axes):
        paper_x = [point.latency_ms for point in PAPER_POINTS]
        paper_y = [point.miou for point in PAPER_POINTS]
        axes.plot(paper_x, paper_y, "s-", color="#555555", label=f"paper: {PAPER_SETTING}")
        for point in PAPER_POINTS:
            axes.annotate(f"SeaFormer-{point.variant}", (point.latency_ms, point.miou), fontsize=7,
                          textcoords="offset points", xytext=(4, -10))
        paper_miou = {point.variant: point.miou for point in PAPER_POINTS}
        measured, borrowed = [], []
        for run in runs:
            facts, median = run.report.model.facts, run.report.latency.summary.median_ms
            if run.accuracy is not None and facts.weights is WeightSource.CHECKPOINT:
                measured.append((median, 100 * run.accuracy.miou, run))
            elif facts.variant in paper_miou:
                borrowed.append((median, paper_miou[facts.variant], run))
        for points, style, label in ((measured, {"color": CURRENT_COLOR}, "measured mIoU"),
                                     (borrowed, {"markerfacecolor": "none", "color": CURRENT_COLOR},
                                      "mIoU from the paper (no trained-weight accuracy in the report)")):
            if points:
                axes.plot([p[0] for p in points], [p[1] for p in points], "o", linestyle="none", label=label,
                          **style)
                for x, y, run in points:
                    facts = run.report.model.facts
                    axes.annotate(f"{facts.variant} {'x'.join(map(str, facts.input_size_hw))} {facts.quantization} "
                                  f"@ {run.report.device.spec}", (x, y), fontsize=6, textcoords="offset points",
                                  xytext=(4, 4))
        axes.set_xscale("log")
        axes.margins(x=0.15, y=0.15)
        axes.set_xlabel("latency (ms, log scale)")
        axes.set_ylabel("ADE20K mIoU (%)")
        axes.set_title("accuracy vs latency")
        axes.legend(fontsize=7, loc="lower right")
        axes.grid(True, alpha=0.3)
        return _data_uri(figure)

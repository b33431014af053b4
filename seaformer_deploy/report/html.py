"""Self-contained HTML reports (Jinja2 templates, plots embedded as data URIs, a CSP that forbids any request)."""

from __future__ import annotations

from seaformer_deploy.report import plots
from seaformer_deploy.report.compare import Comparison, overall_verdict
from seaformer_deploy.report.fingerprint import device_fingerprint
from seaformer_deploy.report.inputs import ReportFile
from seaformer_deploy.report.paper import PAPER_POINTS, PAPER_SETTING
from seaformer_deploy.report.templating import render


def render_comparison_html(comparisons: list[Comparison], *, unmatched: list[str] | None = None) -> str:
    """One page: the overall verdict, then per pair its verdict, tables, launch distributions and module bars."""
    sections = [{"c": c, "launch_plot": plots.launch_distributions(c), "module_plot": plots.module_bars(c)}
                for c in comparisons]
    return render("comparison.html.j2", sections=sections, unmatched=unmatched or [],
                  overall=overall_verdict([c.verdict for c in comparisons]), fingerprint=device_fingerprint)


def render_overview_html(runs: list[ReportFile]) -> str:
    """Several reports on one page: their latency, accuracy against latency with the paper's points, modules."""
    return render("overview.html.j2", runs=runs, latency_plot=plots.latency_overview(runs),
                  accuracy_plot=plots.accuracy_latency(runs), paper_points=PAPER_POINTS, paper_setting=PAPER_SETTING,
                  fingerprint=device_fingerprint)

"""Markdown for a pull-request comment or ``$GITHUB_STEP_SUMMARY``: the verdict line, one summary table, the
per-module tables in collapsible blocks, and the environment."""

from __future__ import annotations

from seaformer_deploy.report.compare import Comparison, overall_verdict
from seaformer_deploy.report.fingerprint import device_fingerprint
from seaformer_deploy.report.templating import render


def render_markdown(comparisons: list[Comparison], *, unmatched: list[str] | None = None) -> str:
    return render("comparison.md.j2", comparisons=comparisons,
                  overall=overall_verdict([c.verdict for c in comparisons]), unmatched=unmatched or [],
                  fingerprint=device_fingerprint)

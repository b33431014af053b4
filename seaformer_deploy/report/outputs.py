"""Compare every pair and write what was asked: console tables, markdown, HTML."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from seaformer_deploy.fileio import write_bytes_atomic
from seaformer_deploy.report.compare import Comparison, compare_runs
from seaformer_deploy.report.console import print_comparison
from seaformer_deploy.report.matching import Pairing
from seaformer_deploy.report.statistics import DecisionRule


def compare_pairing(pairing: Pairing, rule: DecisionRule) -> list[Comparison]:
    return [compare_runs(baseline, current, rule) for baseline, current in pairing.pairs]


def append_text_atomic(path: Path, text: str) -> None:
    """Append ``text`` to ``path`` (a step summary collects every step's markdown) without a half write."""
    existing = path.read_bytes() if path.is_file() else b""
    separator = b"\n" if existing and not existing.endswith(b"\n") else b""
    write_bytes_atomic(path, existing + separator + text.encode())


def write_outputs(comparisons: list[Comparison], unmatched: list[str], *, markdown_path: Path | None = None,
                  html_path: Path | None = None, console_to_stderr: bool = False) -> None:
    console = Console(stderr=console_to_stderr)
    for comparison in comparisons:
        print_comparison(comparison, console)
    for name in unmatched:
        console.print(f"[yellow]not compared:[/] {name}")
    if markdown_path is not None:
        from seaformer_deploy.report.markdown import render_markdown

        append_text_atomic(markdown_path, render_markdown(comparisons, unmatched=unmatched))
        console.print(f"markdown: {markdown_path}")
    if html_path is not None:
        from seaformer_deploy.report.html import render_comparison_html

        write_bytes_atomic(html_path, render_comparison_html(comparisons, unmatched=unmatched).encode())
        console.print(f"html: {html_path}")

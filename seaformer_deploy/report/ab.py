"""A/B on one device, the recommended CI mode: a candidate model against a baseline model measured interleaved
(baseline, candidate, baseline, candidate ... launch by launch), or against a stored bench report; then the
verdict on the pair, written beside the two bench reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.fileio import ensure_writable_dir, write_json_atomic
from seaformer_deploy.report.compare import Comparison, compare_runs
from seaformer_deploy.report.inputs import ReportFile, read_report
from seaformer_deploy.report.serialize import comparison_to_dict
from seaformer_deploy.report.statistics import DecisionRule

if TYPE_CHECKING:
    from seaformer_deploy.bench.runner import Progress

AB_REPEATS = 10
"""Launches per side when an A/B run is not told otherwise (the calibration benchmark's setting)."""


@dataclass(frozen=True)
class ABOutcome:
    comparison: Comparison
    comparison_path: Path


def run_ab(candidate: str | Path, baseline: str | Path, options: BenchOptions, output_dir: str | Path, *,
           rule: DecisionRule | None = None, progress: Progress | None = None) -> ABOutcome:
    """Measure ``candidate`` against ``baseline`` (a model file, or a ``.json`` bench report) and judge them.

    Reports go to ``output_dir/baseline`` and ``output_dir/current``, the comparison (``--json`` form) to
    ``output_dir/<candidate file>.<device>.comparison.json``.
    """
    from seaformer_deploy.bench.runner import benchmark, benchmark_interleaved

    output_dir = ensure_writable_dir(output_dir)
    if Path(baseline).suffix == ".json":
        base = read_report(baseline)
        result = benchmark(candidate, options, output_dir / "current", progress=progress)
        current = ReportFile(result.report_path, result.report)
    else:
        base_result, current_result = benchmark_interleaved(candidate, baseline, options, output_dir,
                                                            progress=progress)
        base = ReportFile(base_result.report_path, base_result.report)
        current = ReportFile(current_result.report_path, current_result.report)
    comparison = compare_runs(base, current, rule)
    path = output_dir / f"{current.model_file}.{options.device.slug}.comparison.json"
    write_json_atomic(path, comparison_to_dict(comparison))
    return ABOutcome(comparison, path)

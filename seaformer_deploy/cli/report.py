"""``seaformer-report``: latency regression verdicts on bench reports, per-module blame, markdown and HTML.

No torch and no runtime are imported: comparing two reports takes well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from seaformer_deploy.cli.common import CONTEXT_SETTINGS, debug_option, handle_errors


class _Fraction(click.ParamType):
    """``5%`` or ``0.05``."""

    name = "FRACTION"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            self.fail(f"{value!r} is not a fraction (0.05) or a percentage (5%)", param, ctx)
        if not 0 <= number < 1:
            self.fail(f"{value!r} must lie between 0 and 1 (or 0% and 100%)", param, ctx)
        return number


@click.group(context_settings=CONTEXT_SETTINGS)
def main() -> None:
    """Compare bench reports (latency regression verdicts), store baselines, draw HTML reports."""


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("reports", nargs=-1, metavar="BASELINE CURRENT", type=click.Path(path_type=Path))
@click.option("--baselines-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Compare CURRENT with the stored baseline of its device (then give CURRENT only).")
@click.option("--threshold", default="5%", show_default=True, type=_Fraction(),
              help="Smallest change of the median that counts.")
@click.option("--alpha", default="0.01", show_default=True, type=_Fraction(),
              help="Significance level of the one-sided Mann-Whitney U test.")
@click.option("--max-miou-drop", type=click.FloatRange(min=0), help="mIoU drop (points) that is a regression too.")
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write markdown (e.g. $GITHUB_STEP_SUMMARY; appended when the file exists).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparisons as JSON on stdout.")
@debug_option
@handle_errors(loads_torch=False)
def compare(reports: tuple[Path, ...], baselines_dir: Path | None, threshold: float, alpha: float,
            max_miou_drop: float | None, markdown_path: Path | None, html_path: Path | None, as_json: bool,
            debug: bool) -> None:
    """Verdict on CURRENT against BASELINE (bench report files, or folders paired by model and device).

    Exit codes: 0 NO CHANGE or IMPROVEMENT, 1 REGRESSION, 2 bad input, 3 INCONCLUSIVE.
    """
    from seaformer_deploy.errors import UsageError
    from seaformer_deploy.report.compare import overall_verdict
    from seaformer_deploy.report.outputs import compare_pairing, write_outputs
    from seaformer_deploy.report.statistics import DecisionRule

    if baselines_dir is not None:
        if len(reports) != 1:
            raise UsageError("with --baselines-dir give one CURRENT report or folder")
        from seaformer_deploy.report.baselines import pair_with_baselines

        pairing = pair_with_baselines(baselines_dir, reports[0])
    else:
        if len(reports) != 2:
            raise UsageError(f"compare needs BASELINE and CURRENT, got {len(reports)} path(s)")
        from seaformer_deploy.report.matching import pair_paths

        pairing = pair_paths(*reports)
    rule = DecisionRule(threshold=threshold, alpha=alpha, max_miou_drop=max_miou_drop)
    comparisons = compare_pairing(pairing, rule)
    write_outputs(comparisons, pairing.unmatched, markdown_path=markdown_path, html_path=html_path,
                  console_to_stderr=as_json)
    if as_json:
        from seaformer_deploy.report.serialize import comparison_to_dict

        click.echo(json.dumps([comparison_to_dict(c) for c in comparisons], indent=2))
    raise SystemExit(overall_verdict([c.verdict for c in comparisons]).exit_code)


@main.command("update-baseline", context_settings=CONTEXT_SETTINGS)
@click.argument("report", type=click.Path(path_type=Path))
@click.option("--baselines-dir", default=Path("bench/baselines"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@debug_option
@handle_errors(loads_torch=False)
def update_baseline(report: Path, baselines_dir: Path, debug: bool) -> None:
    """Store REPORT as the baseline of its model on its device (a folder named for the device fingerprint)."""
    from seaformer_deploy.report.baselines import update_baseline as store

    click.echo(f"stored {store(report, baselines_dir)}")


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write.")
@debug_option
@handle_errors(loads_torch=False)
def html(reports: tuple[Path, ...], output: Path, debug: bool) -> None:
    """One HTML page for several REPORTS (files or folders): latency, modules, accuracy vs latency."""
    from seaformer_deploy.fileio import write_bytes_atomic
    from seaformer_deploy.report.html import render_overview_html
    from seaformer_deploy.report.matching import collect_runs

    runs = [run for path in reports for run in collect_runs(path)]
    write_bytes_atomic(output, render_overview_html(runs).encode())
    click.echo(f"wrote {output}")


if __name__ == "__main__":
    main()

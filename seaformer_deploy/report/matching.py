"""Which reports to compare: two files directly, or folders of reports paired by model file and device."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from seaformer_deploy.errors import UsageError
from seaformer_deploy.report.fingerprint import device_fingerprint
from seaformer_deploy.report.inputs import ReportFile, read_report

REPORT_GLOB = "*.bench.json"


@dataclass
class Pairing:
    """Baseline/current pairs, and the reports that found no partner (named for the reader)."""

    pairs: list[tuple[ReportFile, ReportFile]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


def collect_runs(path: str | Path) -> list[ReportFile]:
    """One report file, or every ``*.bench.json`` in a folder (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob(REPORT_GLOB))
        if not files:
            raise UsageError(f"folder {path} holds no {REPORT_GLOB} bench report")
        return [read_report(file) for file in files]
    return [read_report(path)]


def run_key(run: ReportFile) -> tuple[str, str]:
    """What pairs two reports: the model file name and the device fingerprint."""
    return run.model_file, device_fingerprint(run.report.device).slug()


def _by_key(runs: list[ReportFile], where: str) -> dict[tuple[str, str], ReportFile]:
    keyed: dict[tuple[str, str], ReportFile] = {}
    for run in runs:
        key = run_key(run)
        if key in keyed:
            raise UsageError(f"{where} holds two reports of {run.model_file} on one device: "
                             f"{keyed[key].path.name} and {run.path.name}")
        keyed[key] = run
    return keyed


def pair_runs(baseline: list[ReportFile], current: list[ReportFile], *, where: tuple[str, str]) -> Pairing:
    """Pair by :func:`run_key`; a single report on each side is compared as it is (its model may differ)."""
    if len(baseline) == 1 and len(current) == 1:
        return Pairing([(baseline[0], current[0])])
    base, cur = _by_key(baseline, where[0]), _by_key(current, where[1])
    pairing = Pairing([(base[key], cur[key]) for key in base if key in cur])
    pairing.unmatched = ([f"{base[key].path.name} (baseline only)" for key in base if key not in cur]
                         + [f"{cur[key].path.name} (current only)" for key in cur if key not in base])
    if not pairing.pairs:
        raise UsageError(f"no report in {where[0]} has the model and device of a report in {where[1]}: "
                         f"{'; '.join(pairing.unmatched)}")
    return pairing


def pair_paths(baseline: str | Path, current: str | Path) -> Pairing:
    return pair_runs(collect_runs(baseline), collect_runs(current), where=(str(baseline), str(current)))

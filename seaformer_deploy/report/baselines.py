"""Stored baselines: one folder per device fingerprint, holding the reference bench report of each model.

``update_baseline`` stores a report under ``<baselines dir>/<fingerprint slug>/``; ``pair_with_baselines``
finds, for each current report, the folder of its device and in it the report of the same model file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import atomic_path, ensure_writable_dir, write_json_atomic
from seaformer_deploy.report.fingerprint import device_fingerprint
from seaformer_deploy.report.inputs import read_report
from seaformer_deploy.report.matching import REPORT_GLOB, Pairing, collect_runs

DEVICE_FILE = "device.json"


def update_baseline(report: str | Path, baselines_dir: str | Path) -> Path:
    """Copy ``report`` (checked to be a bench report with latency) into its device's folder; returns the copy."""
    run = read_report(report)
    fingerprint = device_fingerprint(run.report.device)
    folder = ensure_writable_dir(Path(baselines_dir) / fingerprint.slug())
    write_json_atomic(folder / DEVICE_FILE, {"kind": fingerprint.kind, "fingerprint": dict(fingerprint.fields)})
    stale = [old for old in folder.glob(REPORT_GLOB) if old.name != Path(report).name
             and read_report(old).model_file == run.model_file]
    destination = folder / Path(report).name
    with atomic_path(destination) as tmp:
        shutil.copyfile(report, tmp)
    for old in stale:
        old.unlink()
    return destination


def _stored_devices(baselines_dir: Path) -> list[str]:
    return sorted(folder.name for folder in baselines_dir.iterdir() if (folder / DEVICE_FILE).is_file())


def pair_with_baselines(baselines_dir: str | Path, current: str | Path) -> Pairing:
    """Pair every report in ``current`` (a file or folder) with the stored baseline of its device and model."""
    baselines_dir = Path(baselines_dir)
    if not baselines_dir.is_dir():
        raise UsageError(f"baselines folder {baselines_dir} does not exist: store one with "
                         "`seaformer-report update-baseline REPORT --baselines-dir DIR`")
    pairing = Pairing()
    misses = []
    for run in collect_runs(current):
        fingerprint = device_fingerprint(run.report.device)
        folder = baselines_dir / fingerprint.slug()
        stored = {stored.model_file: stored for stored in collect_runs(folder)} if folder.is_dir() else {}
        if run.model_file in stored:
            pairing.pairs.append((stored[run.model_file], run))
        elif not stored:
            misses.append(f"{run.path.name}: no baseline for its device ({fingerprint.kind}: "
                          f"{fingerprint.describe()})")
        else:
            misses.append(f"{run.path.name}: the baseline of its device has no report of {run.model_file}")
    pairing.unmatched = misses
    if not pairing.pairs:
        devices = ", ".join(_stored_devices(baselines_dir)) or "none"
        raise UsageError(f"no stored baseline matches in {baselines_dir} ({'; '.join(misses)}); stored devices: "
                         f"{devices}. Store one with `seaformer-report update-baseline REPORT`")
    return pairing


"""Benchmark suites (``bench/*.json``): a list of export recipes with how to measure each, run on one device or
on a list of phones (each entry then runs on all of them in parallel, see ``devices.fleet``).

A model missing from the suite's ``models_dir`` is exported from its recipe first, so a suite runs on a fresh
clone. Entries may be restricted to some device kinds (``"devices": ["local"]`` for ONNX models).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from seaformer_deploy.bench.devices.spec import DeviceKind
from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.bench.runner import BenchResult, benchmark
from seaformer_deploy.errors import UsageError

_ALL_KINDS = [kind.value for kind in DeviceKind]
_ENTRY_KEYS = {f.name for f in fields(BenchOptions)} - {"device", "adb", "benchmark_binary", "cpu_mask"}


@dataclass
class SuiteOutcome:
    """One entry on one device: its result, why it was skipped, or (a phone of a fleet) why it failed."""

    recipe: str
    model: Path | None
    result: BenchResult | None
    skipped: str | None = None
    device: str | None = None
    error: str | None = None


def load_suite(path: str | Path) -> dict[str, Any]:
    """Read and check a suite file."""
    path = Path(path)
    try:
        suite = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"bench suite {path} is not readable JSON: {exc}") from None
    entries = suite.get("entries")
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"bench suite {path} has no entries")
    for index, entry in enumerate(entries):
        unknown = sorted(set(entry) - _ENTRY_KEYS - {"recipe", "devices"})
        if "recipe" not in entry or unknown:
            raise UsageError(f"bench suite {path} entry {index}: needs 'recipe'" +
                             (f", unknown keys {unknown}" if unknown else ""))
        kinds = entry.get("devices", _ALL_KINDS)
        if not isinstance(kinds, list) or not set(kinds) <= set(_ALL_KINDS):
            raise UsageError(f"bench suite {path} entry {index}: 'devices' must list device kinds out of {_ALL_KINDS}")
    return suite


def run_suite(path: str | Path, base: BenchOptions, output_dir: str | Path, *,
              progress: Callable[[str, int, int], None] | None = None,
              announce: Callable[[str], None] | None = None) -> list[SuiteOutcome]:
    """Export what is missing, then benchmark every entry that applies to ``base.device``."""
    from seaformer_deploy.export.options import ExportOptions
    from seaformer_deploy.export.pipeline import export
    from seaformer_deploy.export.report import raise_for_result

    suite = load_suite(path)
    models_dir = Path(suite.get("models_dir", "build/export"))
    device_kind = base.device.kind.value
    say = announce or (lambda _message: None)
    outcomes = []
    for entry in suite["entries"]:
        recipe = ExportOptions.from_recipe(entry["recipe"])
        if device_kind not in entry.get("devices", _ALL_KINDS):
            outcomes.append(SuiteOutcome(entry["recipe"], None, None, skipped=f"not for {device_kind} devices"))
            continue
        model = models_dir / recipe.artifact_name()
        if not model.is_file():
            say(f"exporting {model.name} from {entry['recipe']}")
            raise_for_result(export(recipe, models_dir))
        say(f"benchmarking {model.name} on {base.device}")
        options = replace(base, **{k: v for k, v in entry.items() if k in _ENTRY_KEYS})
        if options.device.is_fleet:
            from seaformer_deploy.bench.devices.fleet import run_fleet

            fleet = run_fleet(model, options, output_dir, announce=say)
            outcomes += [SuiteOutcome(entry["recipe"], model, phone.result, device=f"adb:{phone.serial}",
                                      skipped=phone.error if phone.skipped else None,
                                      error=None if phone.skipped else phone.error) for phone in fleet.outcomes]
            continue
        outcomes.append(SuiteOutcome(entry["recipe"], model, benchmark(model, options, output_dir, progress=progress),
                                     device=str(options.device)))
    return outcomes

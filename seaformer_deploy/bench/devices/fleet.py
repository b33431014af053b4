"""Several phones at once: ``--device adb:all`` (every attached, authorized phone) or ``adb:SERIAL1,SERIAL2``.

Each phone gets one worker thread that runs the whole single-phone benchmark on it (a phone only ever runs one
job: its launches must not compete with each other for its cores and its heat), so the phones work in parallel
and a fleet takes about the time of its slowest phone. Every phone writes its own bench report; a phone that
cannot be used (unauthorized, offline, not found) or vanishes mid-run is reported with its reason and the
others go on. The fleet's exit code is the worst of the phones' (severity: 0 ok < 3 inconclusive < 1 failed
< 2 unusable). ``adb:all`` only benchmarks the phones in state ``device``; the others are listed as skipped.

More phones than one host can hold: run one host per group of phones, e.g. as a CI matrix over self-hosted
runners (see the README); this module does not schedule across hosts.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from seaformer_deploy.bench.adb.client import find_adb, list_devices, state_advice
from seaformer_deploy.bench.attribution import GAP, UNATTRIBUTED
from seaformer_deploy.bench.devices.spec import DeviceKind, DeviceSpec
from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.bench.report import BenchResult
from seaformer_deploy.errors import DeviceError, SeaformerError, UsageError
from seaformer_deploy.fileio import ensure_writable_dir, write_json_atomic

FLEET_SCHEMA = "seaformer-deploy/fleet-table@1"
_SEVERITY = {0: 0, 3: 1, 1: 2, 2: 3}  # exit code -> how bad


@dataclass(frozen=True)
class PhoneOutcome:
    """One phone of a fleet: its bench result, or why it has none (``error``), and its exit code."""

    serial: str
    result: BenchResult | None
    error: str | None
    exit_code: int
    skipped: bool = False  # adb:all saw it but it was not authorized/online: reported, not benchmarked


@dataclass(frozen=True)
class FleetRow:
    """One line of the combined table: a model on a phone."""

    model: str
    phone: str
    device_model: str | None
    median_ms: float | None
    p90_ms: float | None  # of all runs, where the device reports them (never on a phone: see p95_ms)
    p95_ms: float | None  # the median of the launches' own p95, from builds that print percentiles
    hottest_c: float | None
    top_module: str | None
    miou: float | None
    stable: bool | None
    status: str


@dataclass(frozen=True)
class FleetResult:
    model: Path
    outcomes: list[PhoneOutcome]
    table_path: Path

    def exit_code(self, allow_unstable: bool = False) -> int:
        """The worst exit code of the phones that were asked to run (3 counts as 0 with ``allow_unstable``)."""
        codes = [0 if allow_unstable and outcome.exit_code == 3 else outcome.exit_code
                 for outcome in self.outcomes if not outcome.skipped]
        return max(codes, key=_SEVERITY.__getitem__)

    def failures(self) -> list[str]:
        """``SERIAL: reason`` of every phone that was asked to run and has no report."""
        return [f"{o.serial}: {o.error}" for o in self.outcomes if o.result is None and not o.skipped]

    def rows(self) -> list[FleetRow]:
        return [fleet_row(self.model.name, outcome) for outcome in self.outcomes]


def fleet_serials(spec: DeviceSpec, adb_path: str) -> tuple[list[str], list[PhoneOutcome]]:
    """The phones ``spec`` names that adb can use, and an outcome for each one it names that it cannot."""
    attached = {device.serial: device for device in list_devices(adb_path)}
    if spec.all_attached:
        usable = [serial for serial, device in attached.items() if device.state == "device"]
        skipped = [PhoneOutcome(serial, None, state_advice(serial, device.state), 2, skipped=True)
                   for serial, device in attached.items() if device.state != "device"]
        if not attached:
            raise DeviceError("--device adb:all: no Android device attached: connect a phone with USB debugging "
                              "enabled and check `adb devices`")
        return usable, skipped
    usable, unusable = [], []
    for serial in spec.serials:
        device = attached.get(serial)
        if device is not None and device.state == "device":
            usable.append(serial)
        else:
            state = device.state if device is not None else "not found"
            unusable.append(PhoneOutcome(serial, None, state_advice(serial, state), 2))
    return usable, unusable


def run_fleet(model: str | Path, options: BenchOptions, output_dir: str | Path, *,
              announce: Callable[[str], None] | None = None,
              bench: Callable[..., BenchResult] | None = None) -> FleetResult:
    """Benchmark ``model`` on every phone of ``options.device`` (a fleet spec) in parallel, one worker per phone.

    ``bench`` is ``seaformer_deploy.bench.runner.benchmark`` (given by callers that wrap it).
    """
    from seaformer_deploy.bench.runner import benchmark

    spec = options.device
    if spec.kind is not DeviceKind.ADB or not spec.is_fleet:
        raise UsageError(f"--device {spec} is not a list of phones")
    run_one = bench or benchmark
    say = announce or (lambda _message: None)
    output_dir = ensure_writable_dir(output_dir)
    if options.dataset is not None:
        from seaformer_deploy.data.datasets import open_dataset

        # Once, before the workers: a bad dataset is one error, and a generated one exists before they read it.
        open_dataset(options.dataset, limit=options.limit)
    serials, unusable = fleet_serials(spec, find_adb(options.adb))
    if not serials:
        raise DeviceError(f"--device {spec}: none of the phones can be used: "
                          + "; ".join(f"{o.serial}: {o.error}" for o in unusable))

    def work(serial: str) -> PhoneOutcome:
        say(f"benchmarking {Path(model).name} on adb:{serial}")
        try:
            result = run_one(model, replace(options, device=DeviceSpec(DeviceKind.ADB, (serial,))), output_dir)
        except SeaformerError as exc:
            say(f"adb:{serial} failed: {exc}")
            return PhoneOutcome(serial, None, str(exc), exc.exit_code)
        return PhoneOutcome(serial, result, None, 0 if result.stable else 3)

    with ThreadPoolExecutor(max_workers=len(serials), thread_name_prefix="phone") as pool:
        outcomes = list(pool.map(work, serials))
    fleet = FleetResult(Path(model), [*outcomes, *unusable], output_dir / f"{Path(model).name}.fleet.json")
    write_fleet_table(fleet.table_path, fleet.rows())
    return fleet


def fleet_row(model: str, outcome: PhoneOutcome) -> FleetRow:
    """The combined-table line of one phone's outcome."""
    if outcome.result is None:
        status = "skipped" if outcome.skipped else "failed"
        return FleetRow(model, outcome.serial, None, None, None, None, None, None, None, None,
                        f"{status}: {outcome.error}")
    report = outcome.result.report
    latency = report.latency.summary
    temperatures = [reading.hottest_c for launch in report.latency.launches
                    for reading in (launch.thermal_before, launch.thermal_after)
                    if reading is not None and reading.hottest_c is not None]
    modules = report.profile.modules if report.profile is not None else None
    ranked = sorted((row for row in modules.rows if row.module not in (GAP, UNATTRIBUTED)),
                    key=lambda row: row.us_per_run, reverse=True) if modules is not None else []
    p95 = [launch.stats.p95_us for launch in report.latency.launches if launch.stats.p95_us is not None]
    return FleetRow(
        model, outcome.serial, report.device.description, latency.median_ms, latency.p90_ms,
        statistics.median(p95) / 1e3 if p95 else None, max(temperatures) if temperatures else None,
        ranked[0].module if ranked else None, report.accuracy.miou if report.accuracy is not None else None,
        latency.stable, "ok" if latency.stable else "inconclusive")


def write_fleet_table(path: Path, rows: list[FleetRow]) -> Path:
    """The combined table as JSON (``FLEET_SCHEMA``), written atomically."""
    medians = [row.median_ms for row in rows if row.median_ms is not None]
    payload: dict[str, Any] = {
        "schema": FLEET_SCHEMA,
        "rows": [row.__dict__ for row in rows],
        "median_ms_across_phones": statistics.median(medians) if medians else None,
    }
    return write_json_atomic(path, payload)

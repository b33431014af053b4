"""Bench report JSON -> the typed values the report package reads (the one place a bench report is parsed).

Every way a file can fail to be a comparable bench report (missing, empty, not JSON, not a bench report, another
schema version, no latency) is one ``UsageError`` naming the file, so the CLI prints one line and exits 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seaformer_deploy.errors import UsageError

BENCH_SCHEMA = "seaformer-deploy/bench-report@1"


@dataclass(frozen=True)
class LaunchSample:
    """One independent launch: its centre (median of its runs) and whether it ran throttled."""

    index: int
    centre_ms: float
    throttled: bool
    per_run_ms: tuple[float, ...]


@dataclass(frozen=True)
class ModuleTime:
    """One row of a per-module table: mean time per run and share of end-to-end."""

    module: str
    ms: float
    pct: float
    op_count: int


@dataclass(frozen=True)
class ModuleProfile:
    engine: str
    kernel_mode: str
    e2e_ms: float
    rows: tuple[ModuleTime, ...]


@dataclass(frozen=True)
class ClassIoU:
    name: str
    iou: float | None


@dataclass(frozen=True)
class Accuracy:
    """Accuracy on a labelled dataset (fractions 0-1, as the bench report stores them)."""

    dataset: str
    num_samples: int
    miou: float
    per_class: tuple[ClassIoU, ...]


@dataclass(frozen=True)
class BenchRun:
    """What a comparison needs from one bench report."""

    path: Path
    model_file: str
    model_sha256: str
    variant: str
    task: str
    input_size_hw: tuple[int, int]
    output_mode: str
    quantization: str
    weights: str
    device_spec: str
    device: dict[str, Any]
    threads: int
    delegate: str
    runs_per_launch: int
    launches: tuple[LaunchSample, ...]
    median_ms: float
    p90_ms: float | None
    cv_between_launches: float
    stable_reasons: tuple[str, ...]
    modules: ModuleProfile | None
    op_histogram: dict[str, int] | None
    accuracy: Accuracy | None
    incomplete: str | None
    created: str
    warnings: tuple[str, ...]

    @property
    def centres_ms(self) -> list[float]:
        return [launch.centre_ms for launch in self.launches]


def read_bench_json(path: str | Path) -> dict[str, Any]:
    """The JSON object in ``path``, or one ``UsageError`` saying why there is none."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"bench report {path} does not exist")
    if path.is_dir():
        raise UsageError(f"bench report {path} is a folder, expected a .bench.json file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"bench report {path} cannot be read: {exc}") from None
    if not text.strip():
        raise UsageError(f"bench report {path} is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"bench report {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None


def load_bench_run(path: str | Path) -> BenchRun:
    """Read ``path`` as a bench report; see the module docstring for what is rejected."""
    path = Path(path)
    data = read_bench_json(path)
    if not isinstance(data, dict) or "schema" not in data:
        raise UsageError(f"{path} is not a bench report (no 'schema' field)")
    if data["schema"] != BENCH_SCHEMA:
        raise UsageError(f"{path} has schema {data['schema']!r}; this seaformer-report reads {BENCH_SCHEMA!r}")
    try:
        return _parse(path, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path} is a malformed bench report ({type(exc).__name__}: {exc})") from None


def _parse(path: Path, data: dict[str, Any]) -> BenchRun:
    launches = tuple(
        LaunchSample(int(launch["index"]), float(launch["centre_ms"]), bool(launch.get("throttled")),
                     tuple(v / 1e3 for v in launch.get("per_run_us") or ()))
        for launch in data["latency"]["launches"] if launch.get("centre_ms") is not None)
    summary = data["latency"]["summary"]
    if not launches or summary.get("median_ms") is None:
        stopped = f" (the run stopped early: {data['incomplete']})" if data.get("incomplete") else ""
        raise UsageError(f"{path} has no latency measurements{stopped}")
    model, facts, protocol = data["model"], data["model"]["facts"], data["protocol"]
    export_report = model.get("export_report") or {}
    return BenchRun(
        path=path, model_file=str(model["file"]), model_sha256=str(model.get("sha256", "")),
        variant=str(facts["variant"]), task=str(facts["task"]),
        input_size_hw=(int(facts["input_size_hw"][0]), int(facts["input_size_hw"][1])),
        output_mode=str(facts["output_mode"]), quantization=str(facts["quantization"]),
        weights=str(facts.get("weights")), device_spec=str(data["device"]["spec"]), device=dict(data["device"]),
        threads=int(protocol["threads"]), delegate=str(protocol["delegate"]), runs_per_launch=int(protocol["runs"]),
        launches=launches, median_ms=float(summary["median_ms"]), p90_ms=summary.get("p90_ms"),
        cv_between_launches=float(summary.get("cv_between_launches") or 0.0),
        stable_reasons=tuple(summary.get("reasons") or ()),
        modules=_modules(data.get("profile")), op_histogram=export_report.get("op_histogram"),
        accuracy=_accuracy(data.get("accuracy")), incomplete=data.get("incomplete"),
        created=str(data.get("created", "")),
        warnings=tuple(data.get("warnings") or ()))


def _modules(profile: dict[str, Any] | None) -> ModuleProfile | None:
    if not profile or not profile.get("modules"):
        return None
    table = profile["modules"]
    rows = tuple(ModuleTime(str(row["module"]), row["us_per_run"] / 1e3, float(row["pct"]), int(row["op_count"]))
                 for row in table["modules"])
    return ModuleProfile(str(profile.get("engine", "?")), str(profile.get("kernel_mode", "?")),
                         table["e2e_us"] / 1e3, rows)


def _accuracy(accuracy: dict[str, Any] | None) -> Accuracy | None:
    if not accuracy or not accuracy.get("metrics"):
        return None
    metrics = accuracy["metrics"]
    per_class = tuple(ClassIoU(str(row.get("name", row.get("index"))), row.get("IoU"))
                      for row in metrics.get("per_class") or ())
    return Accuracy(str(accuracy["dataset"]["name"]), int(accuracy["dataset"]["num_samples"]),
                    float(metrics["mIoU"]), per_class)

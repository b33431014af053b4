"""Shared by the seaformer-report tests: real bench reports of SeaFormer-T and -S at 64 px (made once per
session through the project's own export and bench API), and synthetic runs for statistics edge cases."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from seaformer_deploy.report.loading import BenchRun, LaunchSample

_CACHE: dict[str, Any] = {}

LOCAL_DEVICE = {"spec": "local", "kind": "local", "cpu": "Test CPU", "machine": "x86_64", "cores": 2,
                "runtimes": {"ai-edge-litert": "2.3.0"}}


@dataclasses.dataclass(frozen=True)
class RealReports:
    t_model: Path
    s_model: Path
    t_report: Path
    s_report: Path


def real_reports(tmp_path_factory: Any) -> RealReports:
    """T and S exported at 64x64 and benchmarked on this host with 8 launches each (cached per session)."""
    if "real" not in _CACHE:
        from seaformer_deploy.bench.runner import BenchOptions, benchmark
        from seaformer_deploy.export.pipeline import ExportOptions, export

        root = tmp_path_factory.mktemp("report-real")
        models = {v: export(ExportOptions(variant=v, format="tflite", input_size="64"), root / "export").model_path
                  for v in ("T", "S")}
        options = BenchOptions(warmup=3, runs=30, repeats=8, dataset="demo", limit=2)
        reports = {v: _stable_bench(benchmark, models[v], options, root / f"bench-{v}") for v in models}
        _CACHE["real"] = RealReports(models["T"], models["S"], reports["T"], reports["S"])
    return _CACHE["real"]


def _stable_bench(benchmark: Any, model: Path, options: Any, output_dir: Path, attempts: int = 4) -> Path:
    """The CPU is shared with other jobs: a burst of their load can make one measurement unstable (CV >= 10%),
    which the comparison rightly calls inconclusive. Tests about verdicts need a stable report, so re-measure."""
    for _ in range(attempts):
        result = benchmark(model, options, output_dir)
        if result.stable:
            return result.report_path
    raise AssertionError(f"{model.name}: no stable measurement in {attempts} attempts: {result.report['warnings']}")


def edited_copy(source: Path, target: Path, edit: Any) -> Path:
    """``source``'s JSON changed by ``edit(data)`` (in place), written to ``target``."""
    data = json.loads(source.read_text())
    edit(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data))
    return target


def synthetic_run(centres_ms: list[float], *, template: BenchRun | None = None, **changes: Any) -> BenchRun:
    """A run with these launch medians; everything else from ``template`` (or a plain local run)."""
    launches = tuple(LaunchSample(i, c, False, ()) for i, c in enumerate(centres_ms))
    base = template or BenchRun(
        path=Path("synthetic.bench.json"), model_file="m.tflite", model_sha256="", variant="T", task="seg",
        input_size_hw=(64, 64), output_mode="logits", quantization="fp32", weights="random",
        device_spec="local", device=LOCAL_DEVICE, threads=1, delegate="xnnpack", runs_per_launch=20,
        launches=launches, median_ms=0.0, p90_ms=None, cv_between_launches=0.0, stable_reasons=(), modules=None,
        op_histogram=None, accuracy=None, incomplete=None, created="", warnings=())
    return dataclasses.replace(base, launches=launches, median_ms=sorted(centres_ms)[len(centres_ms) // 2],
                               **changes)


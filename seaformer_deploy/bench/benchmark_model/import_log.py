"""``seaformer-bench import-log``: a benchmark_model log someone ran by hand becomes a bench report.

With ``model`` (one of our exports) the per-op rows are attributed to SeaFormer modules; without it the log
may come from any model (a TopFormer or MobileNet baseline measured on the same phone): the report then has
its latency, memory and per-op rows, and ``model`` names the graph the log itself names.
"""

from __future__ import annotations

import time
from pathlib import Path, PurePosixPath

from seaformer_deploy.bench.attribution import attribute
from seaformer_deploy.bench.benchmark_model.convert import launch_from_log, profile_from_log
from seaformer_deploy.bench.benchmark_model.log import BenchmarkLog
from seaformer_deploy.bench.benchmark_model.parser import parse_benchmark_log, parse_op_profile_csv
from seaformer_deploy.bench.model_info import load_model_info
from seaformer_deploy.bench.report import (
    BenchResult,
    DeviceSection,
    MeasurementProtocol,
    OpProfileSummary,
    ProfileSection,
    ReportedModel,
)
from seaformer_deploy.bench.runner import build_bench_report
from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import ensure_writable_dir


def logged_model(log: BenchmarkLog) -> ReportedModel:
    """The model of a log imported without ``--model``: only the graph path the log names, if any."""
    graph = log.params.get("Graph")
    return ReportedModel(path=graph, file=PurePosixPath(graph).name if graph else "unknown-model", format=None,
                         bytes=None, sha256=None, facts=None, export_report=None)


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None


def _kernel_mode(log: BenchmarkLog) -> str:
    return "xnnpack" if any(d.delegate and "XNNPACK" in d.delegate.upper() for d in log.delegations) else "as logged"


def import_benchmark_log(log_path: str | Path, model: str | Path | None, output_dir: str | Path, *,
                         op_profile_csv: str | Path | None = None, device_name: str = "imported") -> BenchResult:
    """Parse ``log_path`` (and its op-profile CSV) and write a bench report; ``model`` is optional."""
    started = time.perf_counter()
    log_path = Path(log_path)
    info = load_model_info(model) if model is not None else None
    log = parse_benchmark_log(_read_text(log_path, "log"), source=str(log_path))
    csv_rows = (parse_op_profile_csv(_read_text(Path(op_profile_csv), "op-profile CSV"), source=str(op_profile_csv))
                if op_profile_csv else None)
    warnings = (list(info.warnings) if info else []) + [f"benchmark_model: {w}" for w in log.warnings]
    if log.inference is None:
        launches = []
        warnings.append("the log has no run statistics and no timing summary (an excerpt of the op profile?): "
                        "no latency imported")
    else:
        launches = [launch_from_log(0, log)]
        warnings.append("one imported launch: launch-to-launch stability cannot be judged")
    kernel_mode = _kernel_mode(log)
    op_profile = profile_from_log(log, kernel_mode=kernel_mode, csv_rows=csv_rows,
                                  model_path=info.path if info and info.format == "tflite" else None)
    profile = None
    if op_profile is not None:
        # Module attribution needs our model's node names; another model's rows stay per-op rows.
        profile = ProfileSection(ops=OpProfileSummary.of(op_profile), modules=attribute(op_profile) if info else None)
    model_section = info if info is not None else logged_model(log)
    stem = info.path.name if info is not None else log_path.name
    report_path = ensure_writable_dir(output_dir) / f"{stem}.{device_name}.bench.json"
    report = build_bench_report(
        model_section,
        device=DeviceSection(device_name, {"kind": "imported", "log": str(log_path), "params": log.params}),
        protocol=MeasurementProtocol.from_dict({"threads": log.params.get("Num threads"), "delegate": kernel_mode,
                                                "warmup": log.warmup.count if log.warmup else None,
                                                "runs": log.inference.count if log.inference else None,
                                                "repeats": 1}),
        launches=launches, warnings=warnings, started=started, profile=profile,
        benchmark_log={"model_size_mb": log.model_size_mb, "init_ms": log.init_ms, "timings_us": log.timings_us,
                       "delegations": [d.to_dict() for d in log.delegations],
                       "litert_results": log.litert_results.to_dict() if log.litert_results else None},
    )
    report.write(report_path)
    return BenchResult(report, report_path, stable=True, warnings=report.warnings)

"""``seaformer-bench import-log``: a benchmark_model log someone ran by hand becomes a bench report."""

from __future__ import annotations

import time
from pathlib import Path

from seaformer_deploy.bench.attribution import attribute
from seaformer_deploy.bench.benchmark_model.convert import launch_from_log, profile_from_log
from seaformer_deploy.bench.benchmark_model.parser import parse_benchmark_log, parse_op_profile_csv
from seaformer_deploy.bench.model_info import load_model_info
from seaformer_deploy.bench.runner import BenchResult, write_bench_report
from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import ensure_writable_dir


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None


def import_benchmark_log(log_path: str | Path, model: str | Path, output_dir: str | Path, *,
                         op_profile_csv: str | Path | None = None, device_name: str = "imported") -> BenchResult:
    """Parse ``log_path`` (and its op-profile CSV) for ``model`` and write a bench report."""
    started = time.perf_counter()
    log_path = Path(log_path)
    info = load_model_info(model)
    log = parse_benchmark_log(_read_text(log_path, "log"), source=str(log_path))
    csv_rows = (parse_op_profile_csv(_read_text(Path(op_profile_csv), "op-profile CSV"), source=str(op_profile_csv))
                if op_profile_csv else None)
    launch = launch_from_log(0, log)
    kernel_mode = "xnnpack" if any(d.delegate and "XNNPACK" in d.delegate.upper() for d in log.delegations) \
        else "as logged"
    op_profile = profile_from_log(log, kernel_mode=kernel_mode, csv_rows=csv_rows,
                                  model_path=info.path if info.format == "tflite" else None)
    warnings = list(info.warnings) + [f"benchmark_model: {w}" for w in log.warnings]
    warnings.append("one imported launch: launch-to-launch stability cannot be judged")
    report_path = ensure_writable_dir(output_dir) / f"{info.path.name}.{device_name}.bench.json"
    report = write_bench_report(
        report_path, info,
        device={"spec": device_name, "kind": "imported", "log": str(log_path), "params": log.params},
        protocol={"threads": log.params.get("Num threads"), "delegate": kernel_mode,
                  "warmup": log.warmup.count if log.warmup else None, "runs": launch.stats.count, "repeats": 1},
        launches=[launch], warnings=warnings, started=started,
        profile=None if op_profile is None else {**op_profile.to_dict(), "modules": attribute(op_profile).to_dict()},
        benchmark_log={"model_size_mb": log.model_size_mb, "init_ms": log.init_ms, "timings_us": log.timings_us,
                       "delegations": [d.to_dict() for d in log.delegations]},
    )
    return BenchResult(report, report_path, stable=True, warnings=report["warnings"])

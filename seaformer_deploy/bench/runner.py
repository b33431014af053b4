"""``benchmark``: latency, per-layer profile and accuracy of one exported model on one device.

Steps: read the model's facts and export report -> open the device -> latency launches -> per-op profile
mapped to SeaFormer modules -> accuracy on a dataset (labels and/or agreement with PyTorch) -> the bench
report (``BenchReport``, schema in docs/bench-report.md) written atomically under the output directory.
"""

from __future__ import annotations

import datetime as dt
import functools
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from seaformer_deploy.bench.devices.device import Device
from seaformer_deploy.bench.devices.opening import open_device
from seaformer_deploy.bench.devices.spec import DeviceKind
from seaformer_deploy.bench.measures import UNSTABLE_CV, Launch, PartialMeasurementError, summarize
from seaformer_deploy.bench.model_info import ModelInfo, load_model_info
from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.bench.report import (
    AccuracySection,
    BenchReport,
    BenchResult,
    DeviceSection,
    LatencySection,
    MeasurementProtocol,
    OpProfileSummary,
    ProfileSection,
)
from seaformer_deploy.errors import DeviceError, UsageError
from seaformer_deploy.fileio import ensure_writable_dir

PROFILE_MIN_RUNS = 5
STATISTIC = "median of per-launch medians (means when a launch reports no median)"

Progress = Callable[[str, int, int], None]
"""Called with (what, done, total) as a benchmark advances."""

__all__ = ["BenchOptions", "BenchResult", "benchmark", "build_bench_report", "write_bench_report"]


def _latency_sample(info: ModelInfo) -> np.ndarray:
    """A preprocessed real-looking image: quantized models see activations in their calibrated range."""
    from seaformer_deploy.data.demo import demo_image
    from seaformer_deploy.data.preprocess import Normalization, preprocess

    facts = info.facts
    return preprocess(demo_image(facts.input_size_hw), facts.input_size_hw, layout=facts.layout,
                      normalization=Normalization.from_dict(facts.normalization_dict))


def _profile(device: Device, info: ModelInfo, sample: np.ndarray, options: BenchOptions) -> ProfileSection | None:
    from seaformer_deploy.bench.attribution import attribute

    profiled = device.profile(info.path, sample, runs=max(options.runs // 3, PROFILE_MIN_RUNS), warmup=options.warmup)
    if profiled.modules is None:
        return None
    delegate_ops = profiled.delegate_ops
    return ProfileSection(ops=OpProfileSummary.of(profiled.modules), modules=attribute(profiled.modules),
                          delegate_ops=None if delegate_ops is None else OpProfileSummary.of(delegate_ops))


def benchmark(model: str | Path, options: BenchOptions, output_dir: str | Path, *,
              progress: Progress | None = None) -> BenchResult:
    """Benchmark ``model`` as ``options`` say and write the bench report; see the module docstring."""
    if options.warmup < 0 or options.runs < 1 or options.repeats < 1:
        raise UsageError("need --warmup >= 0, --runs >= 1 and --repeats >= 1")
    started = time.perf_counter()
    info = load_model_info(model)
    output_dir = ensure_writable_dir(output_dir)
    report_path = output_dir / f"{info.path.name}.{options.device.slug}.bench.json"
    tick = progress or (lambda _what, _done, _total: None)
    dataset = None
    if options.dataset is not None:
        from seaformer_deploy.bench.accuracy import check_dataset_fits
        from seaformer_deploy.data.datasets import open_dataset

        dataset = open_dataset(options.dataset, limit=options.limit)
        check_dataset_fits(dataset, info.facts)
    elif options.reference:
        raise UsageError("--reference compares predictions on a dataset: pass --dataset too")

    if options.device.kind is DeviceKind.ADB and info.format != "tflite":
        raise UsageError(f"{info.path.name}: phones run .tflite models through benchmark_model")
    device = open_device(options.device, options)
    warnings = list(info.warnings)
    execution = device.execution(info.path)
    if execution.delegate is not options.delegate:
        warnings.append(f"--delegate {options.delegate} does not apply to {info.path.name} on {device.name}: it ran "
                        f"on {execution.provider or execution.delegate}, recorded as delegate {execution.delegate}")
    protocol = MeasurementProtocol(threads=options.threads, delegate=execution.delegate.value,
                                   warmup=options.warmup, runs=options.runs, repeats=options.repeats,
                                   unstable_cv=UNSTABLE_CV, statistic=STATISTIC,
                                   execution_provider=execution.provider)

    def write(launches: list[Launch], fingerprint: dict[str, Any], **sections: Any) -> BenchReport:
        report = build_bench_report(info, device=DeviceSection(str(options.device), fingerprint), protocol=protocol,
                                    launches=launches, warnings=warnings, started=started, **sections)
        report.write(report_path)
        return report

    try:
        sample = _latency_sample(info)
        try:
            launches = device.measure(info.path, sample, warmup=options.warmup, runs=options.runs,
                                      repeats=options.repeats, progress=lambda d, t: tick("latency", d, t))
        except PartialMeasurementError as exc:
            # Keep what the phone finished: a complete report of the finished launches, marked incomplete.
            write(exc.launches, {"kind": device.kind.value, "name": device.name}, incomplete=str(exc))
            raise DeviceError(f"{exc} ({len(exc.launches)} finished launch(es) kept in {report_path})") from None
        profile = None
        if options.profile:
            tick("per-op profile", 0, 1)
            profile = _profile(device, info, sample, options)
            if profile is None:
                warnings.append("the device returned no per-op profile")
            tick("per-op profile", 1, 1)
        accuracy = None
        if dataset is not None:
            from seaformer_deploy.bench.accuracy import evaluate
            from seaformer_deploy.bench.classification_accuracy import evaluate_classification
            from seaformer_deploy.bench.reference import reference_predictor
            from seaformer_deploy.data.classification import ClassificationDataset

            reference = reference_predictor(info, options.checkpoint) if options.reference else None
            evaluator = evaluate_classification if isinstance(dataset, ClassificationDataset) else evaluate
            accuracy = evaluator(functools.partial(device.predict, info.path), dataset, info.facts,  # type: ignore[arg-type]
                                 evaluated_on=device.name, reference=reference,
                                 progress=lambda d, t: tick("accuracy", d, t))
        fingerprint = device.fingerprint()
    finally:
        device.close()
    report = write(launches, fingerprint, profile=profile, accuracy=accuracy)
    return BenchResult(report, report_path, report.stable, report.warnings)


def build_bench_report(info: ModelInfo, *, device: DeviceSection, protocol: MeasurementProtocol,
                       launches: list[Launch], warnings: list[str], started: float,
                       profile: ProfileSection | None = None, accuracy: AccuracySection | None = None,
                       incomplete: str | None = None, benchmark_log: dict[str, Any] | None = None) -> BenchReport:
    """A bench report of ``launches`` (summarised here; an unstable summary adds its reasons to the warnings)."""
    latency = summarize(launches)
    return BenchReport(
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        command=list(sys.argv),
        host={"python": platform.python_version(), "machine": platform.machine()},
        model=info.reported(),
        device=device,
        protocol=protocol,
        latency=LatencySection(summary=latency, launches=list(launches)),
        profile=profile,
        accuracy=accuracy,
        incomplete=incomplete,
        benchmark_log=benchmark_log,
        warnings=warnings + [f"unstable measurement: {reason}" for reason in latency.reasons],
        bench_seconds=round(time.perf_counter() - started, 3),
    )


def write_bench_report(path: Path, info: ModelInfo, *, device: dict[str, Any], protocol: dict[str, Any],
                       launches: list[Launch], warnings: list[str], started: float,
                       profile: dict[str, Any] | None = None, benchmark_log: dict[str, Any] | None = None
                       ) -> dict[str, Any]:
    """``build_bench_report`` from sections in their JSON form (how a log import states them), written
    atomically to ``path``; returns the JSON written."""
    report = build_bench_report(info, device=DeviceSection.from_dict(device),
                                protocol=MeasurementProtocol.from_dict(protocol), launches=launches,
                                warnings=warnings, started=started,
                                profile=None if profile is None else ProfileSection.from_dict(profile),
                                benchmark_log=benchmark_log)
    report.write(path)
    return report.to_dict()

"""``benchmark``: latency, per-layer profile and accuracy of one exported model on one device.

Steps: read the model's facts and export report -> open the device -> latency launches -> per-op profile
mapped to SeaFormer modules -> accuracy on a dataset (labels and/or agreement with PyTorch) -> the bench
report (``BenchReport``, schema in docs/bench-report.md) written atomically under the output directory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
    BenchHost,
    BenchReport,
    BenchResult,
    DeviceSection,
    LatencySection,
    MeasurementProtocol,
    OpProfileSummary,
    ProfileSection,
    ReportedModel,
)
from seaformer_deploy.errors import CheckFailedError, DeviceError, UsageError
from seaformer_deploy.fileio import ensure_writable_dir

PROFILE_MIN_RUNS = 5
STATISTIC = "median of per-launch medians (means when a launch reports no median)"

Progress = Callable[[str, int, int], None]
"""Called with (what, done, total) as a benchmark advances."""

__all__ = ["BenchOptions", "BenchResult", "benchmark", "benchmark_interleaved", "build_bench_report"]


def _latency_sample(info: ModelInfo) -> np.ndarray:
    """A preprocessed real-looking image: quantized models see activations in their calibrated range."""
    from seaformer_deploy.data.demo import demo_image
    from seaformer_deploy.data.preprocess import Normalization, preprocess

    facts = info.facts
    return preprocess(demo_image(facts.input_size_hw), facts.input_size_hw, layout=facts.layout,
                      normalization=Normalization.from_dict(facts.normalization_dict))


def _profile(device: Device, info: ModelInfo, sample: np.ndarray, options: BenchOptions,
             warnings: list[str]) -> ProfileSection | None:
    """The per-op section. The profile is an extra: when it fails, the latency and accuracy measured around it
    are kept and a warning says why."""
    from seaformer_deploy.bench.attribution import attribute

    try:
        profiled = device.profile(info.path, sample, runs=max(options.runs // 3, PROFILE_MIN_RUNS),
                                  warmup=options.warmup)
    except (DeviceError, CheckFailedError, UsageError) as exc:
        warnings.append(f"per-op profile failed (latency and accuracy are unaffected): {exc}")
        return None
    delegate_ops = profiled.delegate_ops
    if profiled.modules is not None:
        return ProfileSection(ops=OpProfileSummary.of(profiled.modules), modules=attribute(profiled.modules),
                              delegate_ops=None if delegate_ops is None else OpProfileSummary.of(delegate_ops))
    if delegate_ops is not None:  # rows that cannot be attributed are still the profile
        return ProfileSection(ops=OpProfileSummary.of(delegate_ops), modules=None)
    warnings.append("the device returned no per-op profile")
    return None


def _cooldown_gate(options: BenchOptions) -> dict[str, float]:
    """The phone's cooldown settings for the protocol section (no gate on this host)."""
    if options.device.kind is not DeviceKind.ADB:
        return {}
    return {"cooldown_temp_c": options.cooldown_temp_c, "cooldown_max_s": options.cooldown_max_s}


@dataclass
class _Job:
    """One model's share of a benchmark: its facts, its input, where its report goes, how it ran (known once the
    device is open), its launches so far."""

    info: ModelInfo
    sample: np.ndarray
    report_path: Path
    warnings: list[str]
    protocol: MeasurementProtocol | None = None
    launches: list[Launch] = field(default_factory=list)


def _prepare(model: str | Path, options: BenchOptions, output_dir: str | Path, dataset: Any) -> _Job:
    info = load_model_info(model)
    if options.device.kind is DeviceKind.ADB and info.format != "tflite":
        raise UsageError(f"{info.path.name}: phones run .tflite models through benchmark_model")
    if dataset is not None:
        from seaformer_deploy.bench.accuracy import check_dataset_fits

        # Before any launch: a dataset of the wrong task or class count is bad input, not a late failure.
        check_dataset_fits(dataset, info.facts)
    report_path = ensure_writable_dir(output_dir) / f"{info.path.name}.{options.device.slug}.bench.json"
    return _Job(info, _latency_sample(info), report_path, list(info.warnings))


def _open_dataset(options: BenchOptions) -> Any:
    if options.warmup < 0 or options.runs < 1 or options.repeats < 1:
        raise UsageError("need --warmup >= 0, --runs >= 1 and --repeats >= 1")
    if options.dataset is not None:
        from seaformer_deploy.data.datasets import open_dataset

        return open_dataset(options.dataset, limit=options.limit)
    if options.reference:
        raise UsageError("--reference compares predictions on a dataset: pass --dataset too")
    return None


def _settle_execution(job: _Job, device: Device, options: BenchOptions) -> None:
    """Record how the device runs the model (the delegate it really uses), warning when that is not the one asked."""
    execution = device.execution(job.info.path)
    if execution.delegate is not options.delegate:
        job.warnings.append(f"--delegate {options.delegate} does not apply to {job.info.path.name} on {device.name}: "
                            f"it ran on {execution.provider or execution.delegate}, recorded as delegate "
                            f"{execution.delegate}")
    job.protocol = MeasurementProtocol(threads=options.threads, delegate=execution.delegate.value,
                                       warmup=options.warmup, runs=options.runs, repeats=options.repeats,
                                       unstable_cv=UNSTABLE_CV, statistic=STATISTIC,
                                       execution_provider=execution.provider, **_cooldown_gate(options))


def _analyse(device: Device, job: _Job, options: BenchOptions, dataset: Any, tick: Progress) -> dict[str, Any]:
    """The per-op profile and the accuracy of one model (the report sections after latency). A phone lost while
    evaluating leaves the sections measured so far and says so in ``incomplete``."""
    sections: dict[str, Any] = {"profile": None, "accuracy": None}
    if options.profile:
        tick("per-op profile", 0, 1)
        sections["profile"] = _profile(device, job.info, job.sample, options, job.warnings)
        tick("per-op profile", 1, 1)
    if dataset is not None:
        from seaformer_deploy.bench.accuracy import evaluate
        from seaformer_deploy.bench.classification_accuracy import evaluate_classification
        from seaformer_deploy.bench.reference import reference_predictor
        from seaformer_deploy.data.classification import ClassificationDataset

        reference = reference_predictor(job.info, options.checkpoint) if options.reference else None
        evaluator = evaluate_classification if isinstance(dataset, ClassificationDataset) else evaluate
        try:
            sections["accuracy"] = evaluator(functools.partial(device.predict, job.info.path), dataset,
                                             job.info.facts, evaluated_on=device.name, reference=reference,
                                             progress=lambda d, t: tick("accuracy", d, t))
        except DeviceError as exc:
            sections["incomplete"] = f"accuracy: {exc}"
    return sections


def _fingerprint(device: Device, sections: list[dict[str, Any]]) -> dict[str, Any]:
    """The device's fingerprint; a phone that left after measuring (a failed profile may have been the first
    sign) keeps every measurement, with the report marked incomplete."""
    try:
        return device.fingerprint()
    except DeviceError as exc:
        for found in sections:
            found.setdefault("incomplete", f"device fingerprint: {exc}")
        return {"kind": device.kind.value, "name": device.name}


def _raise_if_incomplete(results: list[BenchResult]) -> None:
    lost = [result for result in results if result.report.incomplete is not None]
    if lost:
        kept = ", ".join(str(result.report_path) for result in lost)
        raise DeviceError(f"{lost[0].report.incomplete} (the measurements are kept in {kept})")


def _write(job: _Job, options: BenchOptions, fingerprint: dict[str, Any], started: float,
           **sections: Any) -> BenchResult:
    assert job.protocol is not None, "the device settles the protocol before anything is measured"
    report = build_bench_report(job.info, device=DeviceSection(str(options.device), fingerprint),
                                protocol=job.protocol, launches=job.launches, warnings=job.warnings,
                                started=started, **sections)
    report.write(job.report_path)
    return BenchResult(report, job.report_path, report.stable, report.warnings)


def _keep_partial(jobs: list[_Job], device: Device, options: BenchOptions, started: float,
                  exc: PartialMeasurementError) -> DeviceError:
    """Keep what the phone finished: complete reports of the finished launches, marked incomplete."""
    for job in jobs:
        _write(job, options, {"kind": device.kind.value, "name": device.name}, started, incomplete=str(exc))
    kept = ", ".join(f"{len(job.launches)} finished launch(es) kept in {job.report_path}" for job in jobs)
    return DeviceError(f"{exc} ({kept})")


def benchmark(model: str | Path, options: BenchOptions, output_dir: str | Path, *,
              progress: Progress | None = None) -> BenchResult:
    """Benchmark ``model`` as ``options`` say and write the bench report; see the module docstring."""
    started = time.perf_counter()
    dataset = _open_dataset(options)
    job = _prepare(model, options, output_dir, dataset)
    tick = progress or (lambda _what, _done, _total: None)
    device = open_device(options.device, options)
    try:
        _settle_execution(job, device, options)
        try:
            job.launches = device.measure(job.info.path, job.sample, warmup=options.warmup, runs=options.runs,
                                          repeats=options.repeats, progress=lambda d, t: tick("latency", d, t))
        except PartialMeasurementError as exc:
            job.launches = list(exc.launches)
            raise _keep_partial([job], device, options, started, exc) from None
        sections = _analyse(device, job, options, dataset, tick)
        job.warnings.extend(device.warnings)
        fingerprint = _fingerprint(device, [sections])
    finally:
        device.close()
    result = _write(job, options, fingerprint, started, **sections)
    _raise_if_incomplete([result])
    return result


def benchmark_interleaved(candidate: str | Path, baseline: str | Path, options: BenchOptions, output_dir: str | Path,
                          *, progress: Progress | None = None) -> tuple[BenchResult, BenchResult]:
    """Benchmark ``baseline`` and ``candidate`` on one device, alternating launches (B C B C ...), so drift of
    the device (heat, other load, frequency) falls on both alike; ``options.repeats`` launches each.

    The reports go to ``output_dir/baseline`` and ``output_dir/current``; returns (baseline, current).
    """
    started = time.perf_counter()
    dataset = _open_dataset(options)
    output_dir = Path(output_dir)
    jobs = [_prepare(baseline, options, output_dir / "baseline", dataset),
            _prepare(candidate, options, output_dir / "current", dataset)]
    tick = progress or (lambda _what, _done, _total: None)
    device = open_device(options.device, options)
    try:
        for job in jobs:
            _settle_execution(job, device, options)
        try:
            for index in range(options.repeats):
                for job in jobs:
                    (launch,) = device.measure(job.info.path, job.sample, warmup=options.warmup, runs=options.runs,
                                               repeats=1)
                    job.launches.append(dataclasses.replace(launch, index=index))
                tick("interleaved launches", index + 1, options.repeats)
        except PartialMeasurementError as exc:
            raise _keep_partial(jobs, device, options, started, exc) from None
        sections = [_analyse(device, job, options, dataset, tick) for job in jobs]
        for job in jobs:
            job.warnings.extend(device.warnings)
        fingerprint = _fingerprint(device, sections)
    finally:
        device.close()
    base, current = (_write(job, options, fingerprint, started, **found)
                     for job, found in zip(jobs, sections, strict=True))
    _raise_if_incomplete([base, current])
    return base, current


def build_bench_report(info: ModelInfo | ReportedModel, *, device: DeviceSection, protocol: MeasurementProtocol,
                       launches: list[Launch], warnings: list[str], started: float,
                       profile: ProfileSection | None = None, accuracy: AccuracySection | None = None,
                       incomplete: str | None = None, benchmark_log: dict[str, Any] | None = None) -> BenchReport:
    """A bench report of ``launches`` (summarised here; an unstable summary adds its reasons to the warnings)."""
    latency = summarize(launches)
    return BenchReport(
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        command=list(sys.argv),
        host=BenchHost.this_host(),
        model=info if isinstance(info, ReportedModel) else info.reported(),
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

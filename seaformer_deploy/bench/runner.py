"""``benchmark``: latency, per-layer profile and accuracy of one exported model on one device.

Steps: read the model's facts and export report -> open the device -> latency launches -> per-op profile
mapped to SeaFormer modules -> accuracy on a dataset (labels and/or agreement with PyTorch) -> the bench
report (schema in docs/bench-report.md) written atomically under the output directory.
"""

from __future__ import annotations

import datetime as dt
import functools
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seaformer_deploy.bench.devices.device import open_device
from seaformer_deploy.bench.devices.spec import DeviceKind
from seaformer_deploy.bench.measures import UNSTABLE_CV, Launch, PartialMeasurementError, summarize
from seaformer_deploy.bench.model_info import ModelInfo, load_model_info
from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.errors import CheckFailedError, DeviceError, UsageError
from seaformer_deploy.fileio import ensure_writable_dir, write_json_atomic

BENCH_SCHEMA = "seaformer-deploy/bench-report@1"
PROFILE_MIN_RUNS = 5

Progress = Callable[[str, int, int], None]


@dataclass
class BenchResult:
    report: dict[str, Any]
    report_path: Path
    stable: bool
    warnings: list[str] = field(default_factory=list)


def _latency_sample(info: ModelInfo) -> np.ndarray:
    """A preprocessed real-looking image: quantized models see activations in their calibrated range."""
    from seaformer_deploy.data.demo import demo_image
    from seaformer_deploy.data.preprocess import Normalization, preprocess

    facts = info.facts
    return preprocess(demo_image(tuple(facts["input_size_hw"])), tuple(facts["input_size_hw"]),
                      layout=facts["layout"], normalization=Normalization.from_dict(facts["normalization"]))


def reference_predictor(info: ModelInfo, checkpoint: str | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """PyTorch's output for the same input: the model the export was made from, same layout and output mode.

    Without a checkpoint the export used the seeded random weights, which ``build_model`` rebuilds exactly.
    """
    import torch

    from seaformer_deploy import build_model
    from seaformer_deploy.models.deploy import DeployModel

    facts = info.facts
    options = (info.export_report or {}).get("options", {})
    checkpoint = checkpoint or options.get("checkpoint")
    if facts.get("weights") != "random" and checkpoint is None:
        raise UsageError("--reference needs the checkpoint the model was exported from: pass --checkpoint")
    model = build_model(facts["variant"], facts["task"], facts["num_classes"], checkpoint,
                        allow_partial=bool(options.get("allow_partial")),
                        trust_checkpoint=bool(options.get("trust_checkpoint")))
    expected = facts.get("weights_state_sha256")
    if expected and model.weights.state_sha256 != expected:
        raise UsageError(f"the PyTorch model rebuilt for --reference has other weights than {info.path.name} "
                         "was exported with: pass the checkpoint it was exported from with --checkpoint")
    wrapped = DeployModel(model, tuple(facts["input_size_hw"]), output_mode=facts["output_mode"],
                          layout=facts["layout"]).eval()

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return wrapped(torch.from_numpy(batch)).numpy()

    return predict


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
        from seaformer_deploy.data.datasets import open_dataset

        dataset = open_dataset(options.dataset, limit=options.limit)
    elif options.reference:
        raise UsageError("--reference compares predictions on a dataset: pass --dataset too")

    if options.device.kind is DeviceKind.ADB and info.format != "tflite":
        raise UsageError(f"{info.path.name}: phones run .tflite models through benchmark_model")
    device = open_device(options.device, options)
    warnings = list(info.warnings)
    protocol = {"threads": options.threads, "delegate": options.delegate.value, "warmup": options.warmup,
                "runs": options.runs, "repeats": options.repeats, "unstable_cv": UNSTABLE_CV,
                "statistic": "median of per-launch medians (means when a launch reports no median)"}

    def write(launches: list[Launch], device_info: dict[str, Any], **sections: Any) -> dict[str, Any]:
        return write_bench_report(report_path, info, device={"spec": str(options.device), **device_info},
                                  protocol=protocol, launches=launches, warnings=warnings, started=started,
                                  **sections)

    try:
        sample = _latency_sample(info)
        try:
            launches = device.measure(info.path, sample, warmup=options.warmup, runs=options.runs,
                                      repeats=options.repeats, progress=lambda d, t: tick("latency", d, t))
        except PartialMeasurementError as exc:
            # Keep what the phone finished: a complete report of the finished launches, marked incomplete.
            write(exc.launches, {"kind": device.kind.value, "name": device.name}, incomplete=str(exc))
            raise DeviceError(f"{exc} ({len(exc.launches)} finished launch(es) kept in {report_path})") from None
        profile_section = None
        if options.profile:
            tick("per-op profile", 0, 1)
            profile_section = _profile_section(device, info, sample, options, warnings)
            tick("per-op profile", 1, 1)
        accuracy = None
        if dataset is not None:
            from seaformer_deploy.bench.accuracy import evaluate

            reference = reference_predictor(info, options.checkpoint) if options.reference else None
            try:
                accuracy = evaluate(functools.partial(device.predict, info.path), dataset, info.facts,
                                    reference=reference, progress=lambda d, t: tick("accuracy", d, t))
            except DeviceError as exc:
                write(launches, {"kind": device.kind.value, "name": device.name}, profile=profile_section,
                      incomplete=f"accuracy: {exc}")
                raise DeviceError(f"{exc} (latency kept in {report_path})") from None
            accuracy["evaluated_on"] = device.name
        fingerprint = device.fingerprint()
        warnings.extend(getattr(device, "warnings", ()))
    finally:
        device.close()
    report = write(launches, fingerprint, profile=profile_section, accuracy=accuracy)
    return BenchResult(report, report_path, bool(report["latency"]["summary"]["stable"]), report["warnings"])


def _profile_section(device: Any, info: ModelInfo, sample: np.ndarray, options: BenchOptions,
                     warnings: list[str]) -> dict[str, Any] | None:
    """The report's per-op section. The profile is an extra: when it fails, the latency and accuracy
    measured around it are kept and a warning says why."""
    from seaformer_deploy.bench.attribution import attribute

    try:
        profiled = device.profile(info.path, sample, runs=max(options.runs // 3, PROFILE_MIN_RUNS),
                                  warmup=options.warmup)
    except (DeviceError, CheckFailedError, UsageError) as exc:
        warnings.append(f"per-op profile failed (latency and accuracy are unaffected): {exc}")
        return None
    delegate_ops = profiled.delegate_ops
    if profiled.modules is not None:
        return {**profiled.modules.to_dict(), "modules": attribute(profiled.modules).to_dict(),
                "delegate_ops": None if delegate_ops is None else delegate_ops.to_dict()}
    if delegate_ops is not None:
        return {**delegate_ops.to_dict(), "modules": None, "delegate_ops": None}
    warnings.append("the device returned no per-op profile")
    return None


def write_bench_report(path: Path, info: ModelInfo, *, device: dict[str, Any], protocol: dict[str, Any],
                       launches: list[Launch], warnings: list[str], started: float,
                       profile: dict[str, Any] | None = None, accuracy: dict[str, Any] | None = None,
                       incomplete: str | None = None, **extra: Any) -> dict[str, Any]:
    """Assemble a bench report (schema in docs/bench-report.md) and write it atomically to ``path``."""
    latency = summarize(launches)
    warnings = warnings + [f"unstable measurement: {reason}" for reason in latency["reasons"]]
    report = {
        "schema": BENCH_SCHEMA,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
        "host": {"python": platform.python_version(), "machine": platform.machine()},
        "model": info.to_dict(),
        "device": device,
        "protocol": protocol,
        "latency": {"summary": latency, "launches": [launch.to_dict() for launch in launches]},
        "profile": profile,
        "accuracy": accuracy,
        "incomplete": incomplete,
        **extra,
        "warnings": warnings,
        "bench_seconds": round(time.perf_counter() - started, 3),
    }
    write_json_atomic(path, report)
    return report

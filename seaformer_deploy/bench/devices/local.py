"""The ``local`` device: this host's CPU, TFLite through ai-edge-litert (XNNPACK, or its builtin kernels for
``--delegate cpu``) and ONNX through onnxruntime's CPU execution provider. Each launch is a fresh
interpreter/session, like an independent process launch on a phone."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from seaformer_deploy.bench.devices.device import Execution
from seaformer_deploy.bench.devices.spec import Delegate, DeviceKind
from seaformer_deploy.bench.measures import DeviceProfile, Launch, LaunchProgress, RunStats
from seaformer_deploy.errors import UsageError
from seaformer_deploy.runtime import ONNX_PROVIDER, ExportedModel, KernelMode, load_exported

# XNNPACK is TFLite's default CPU path; ``cpu`` means the builtin kernels (and is what ONNX Runtime runs).
LOCAL_DELEGATES = (Delegate.XNNPACK, Delegate.CPU)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _cpu_model() -> str:
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.lower().startswith(("model name", "hardware", "processor\t: arm")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


class LocalDevice:
    """This host's CPU, with ``threads`` threads."""

    kind = DeviceKind.LOCAL
    name = "local"

    def __init__(self, threads: int = 1, delegate: Delegate = Delegate.XNNPACK) -> None:
        if threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        if delegate not in LOCAL_DELEGATES:
            raise UsageError(f"delegate {delegate.value!r} is not available on the local device "
                             f"({', '.join(d.value for d in LOCAL_DELEGATES)})")
        self.threads = threads
        self.delegate = delegate
        self.warnings: list[str] = []
        self._tflite_kernels: KernelMode = "builtin" if delegate is Delegate.CPU else "xnnpack"
        self._loaded: dict[Path, ExportedModel] = {}

    def fingerprint(self) -> dict[str, Any]:
        versions = {}
        for package in ("ai-edge-litert", "onnxruntime"):
            try:
                versions[package] = importlib_metadata.version(package)
            except importlib_metadata.PackageNotFoundError:
                versions[package] = None
        return {
            "kind": self.kind.value,
            "model": platform.node(),
            "cpu": _cpu_model(),
            "machine": platform.machine(),
            "system": f"{platform.system()} {platform.release()}",
            "cores": os.cpu_count(),
            "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            "threads": self.threads,
            "runtimes": versions,
        }

    def execution(self, model_path: Path) -> Execution:
        """A .tflite runs with the delegate asked for; an .onnx always on onnxruntime's CPU provider."""
        if model_path.suffix == ".onnx":
            return Execution(Delegate.CPU, ONNX_PROVIDER)
        return Execution(self.delegate)

    def measure(self, model_path: Path, sample: np.ndarray, *, warmup: int, runs: int, repeats: int,
                progress: LaunchProgress | None = None) -> list[Launch]:
        """``repeats`` launches, each a fresh runtime session timing ``runs`` inferences after ``warmup``."""
        launches = []
        for index in range(repeats):
            started = time.perf_counter()
            model = load_exported(model_path, num_threads=self.threads, tflite_kernels=self._tflite_kernels)
            samples = model.time_invocations(sample, warmup=warmup, runs=runs)
            launches.append(Launch(index=index, stats=RunStats.from_samples(samples), per_run_us=samples,
                                   source=f"host timer around {model.engine} invoke",
                                   duration_s=round(time.perf_counter() - started, 3)))
            del model
            if progress is not None:
                progress(index + 1, repeats)
        return launches

    def profile(self, model_path: Path, sample: np.ndarray, *, runs: int, warmup: int) -> DeviceProfile:
        """Per-op latency: LiteRT's profiler (on the kernels the delegate names, mapped to nodes) for .tflite,
        onnxruntime's for .onnx; both attribute directly, so there is no separate delegate profile."""
        if model_path.suffix == ".tflite":
            from seaformer_deploy.bench.litert.profiler import profile_tflite

            return DeviceProfile(profile_tflite(model_path, [sample], num_threads=self.threads, runs=runs,
                                                warmup=warmup, kernel_mode=self._tflite_kernels))
        from seaformer_deploy.bench.ort_profiler import profile_onnx

        return DeviceProfile(profile_onnx(model_path, [sample], num_threads=self.threads, runs=runs, warmup=warmup))

    def predict(self, model_path: Path, batch: np.ndarray) -> np.ndarray:
        """The model's output for one input on this host (the runtime session is kept until ``close``)."""
        if model_path not in self._loaded:
            self._loaded[model_path] = load_exported(model_path, num_threads=self.threads,
                                                     tflite_kernels=self._tflite_kernels)
        return self._loaded[model_path].run(batch)

    def close(self) -> None:
        self._loaded.clear()

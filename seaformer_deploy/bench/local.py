"""The ``local`` device: this host's CPU, TFLite through ai-edge-litert (XNNPACK) and ONNX through
onnxruntime. Each launch is a fresh interpreter/session, like an independent process launch on a phone."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from seaformer_deploy.bench.measures import Launch, OpProfile, RunStats
from seaformer_deploy.errors import UsageError
from seaformer_deploy.runtime import load_exported


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
    """This host. ``delegate`` is ``xnnpack`` (TFLite's default CPU path) or ``cpu`` for ONNX Runtime."""

    kind = "local"
    name = "local"

    def __init__(self, threads: int = 1) -> None:
        if threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        self.threads = threads

    def fingerprint(self) -> dict[str, Any]:
        versions = {}
        for package in ("ai-edge-litert", "onnxruntime"):
            try:
                versions[package] = importlib_metadata.version(package)
            except importlib_metadata.PackageNotFoundError:
                versions[package] = None
        return {
            "kind": self.kind,
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

    def measure(self, model_path: Path, sample: np.ndarray, *, warmup: int, runs: int, repeats: int,
                progress: Any = None) -> list[Launch]:
        """``repeats`` launches, each a fresh runtime session timing ``runs`` inferences after ``warmup``."""
        launches = []
        for index in range(repeats):
            started = time.perf_counter()
            model = load_exported(model_path, num_threads=self.threads)
            samples = model.time_invocations(sample, warmup=warmup, runs=runs)
            launches.append(Launch(index=index, stats=RunStats.from_samples(samples), per_run_us=samples,
                                   source=f"host timer around {model.engine} invoke",
                                   duration_s=round(time.perf_counter() - started, 3)))
            del model
            if progress is not None:
                progress(index + 1, repeats)
        return launches

    def profile(self, model_path: Path, sample: np.ndarray, *, runs: int, warmup: int) -> tuple[OpProfile, None]:
        """Per-op latency: LiteRT's profiler (XNNPACK kernels, mapped to nodes) for .tflite, onnxruntime's for
        .onnx; both attribute directly, so there is no separate delegate profile."""
        if model_path.suffix == ".tflite":
            from seaformer_deploy.bench.litert_profiler import profile_tflite

            return profile_tflite(model_path, [sample], num_threads=self.threads, runs=runs, warmup=warmup), None
        from seaformer_deploy.bench.ort_profiler import profile_onnx

        return profile_onnx(model_path, [sample], num_threads=self.threads, runs=runs, warmup=warmup), None

    def predictor(self, model_path: Path) -> Any:
        """A callable running one input through the model on this host."""
        return load_exported(model_path, num_threads=self.threads).run

"""Interleaved latency of several models in one process, and this host's fp32 peak through the same runtime.

Interleaving (one run of every model, then the next round) exposes all models to the same background load,
so their ratios stay meaningful on a shared machine even when the absolute numbers are not.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seaformer_deploy.export.convert import convert_to_tflite

Invoke = Callable[[], None]
PEAK_CHANNELS = 256
PEAK_SIZE = 32
PEAK_LAYERS = 12
PEAK_RUNS = 30
PEAK_BLOCKS = 5
"""Timed runs per block, and blocks per thread count, of the peak model: its 2-thread speed-up is the ceiling
the verdicts use, so it is taken over several blocks."""


def litert_invoke(path: Path, threads: int) -> Invoke:
    """A prepared ai-edge-litert interpreter (XNNPACK) with a fixed random input, as one call."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    if np.issubdtype(detail["dtype"], np.integer):
        sample = rng.integers(-128, 127, size=detail["shape"]).astype(detail["dtype"])
    else:
        sample = rng.standard_normal(detail["shape"]).astype(detail["dtype"])
    interpreter.set_tensor(detail["index"], sample)
    return interpreter.invoke


def onnxruntime_invoke(path: Path, threads: int) -> Invoke:
    """A prepared onnxruntime CPU session with a fixed random input, as one call."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    model_input = session.get_inputs()[0]
    feed = {model_input.name: np.random.default_rng(0).standard_normal(model_input.shape).astype(np.float32)}
    return lambda: session.run(None, feed) and None


def interleaved(invokes: dict[str, Invoke], *, warmup: int, runs: int) -> dict[str, list[float]]:
    """Seconds of each of ``runs`` timed calls per model, rounds interleaved, after ``warmup`` calls each."""
    for invoke in invokes.values():
        for _ in range(warmup):
            invoke()
    times: dict[str, list[float]] = {key: [] for key in invokes}
    for _ in range(runs):
        for key, invoke in invokes.items():
            started = time.perf_counter()
            invoke()
            times[key].append(time.perf_counter() - started)
    return times


class _PointwiseStack(nn.Module):
    """Only 1x1 convolutions (GEMMs) with ReLU: the best case for XNNPACK's fp32 kernels."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(*(
            nn.Sequential(nn.Conv2d(PEAK_CHANNELS, PEAK_CHANNELS, 1), nn.ReLU()) for _ in range(PEAK_LAYERS)
        ))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


@dataclass(frozen=True)
class Peak:
    """This host's fp32 peak through the runtime: ``gmacs_per_s`` at 1 thread (``median_ms`` for ``macs``), and
    by thread count the median speed-up over 1 thread and its lowest and highest block."""

    macs: float
    median_ms: float
    gmacs_per_s: float
    speedups: dict[int, float]
    speedup_ranges: dict[int, tuple[float, float]]

    def speedup_text(self) -> str:
        return ", ".join(f"{speedup:.3f}x at {count} threads (blocks {self.speedup_ranges[count][0]:.3f}-"
                         f"{self.speedup_ranges[count][1]:.3f})" for count, speedup in self.speedups.items())


def measure_peak(*, warmup: int, runs: int, threads: Sequence[int] = (1,)) -> Peak:
    """The peak of a 1x1-conv-only model (256 channels at 32x32) through ai-edge-litert at 1 thread, and its
    speed-up at each other count in ``threads``: the most the runtime gains from them on this host. Each thread
    count is timed in its own block, as the models are (docs/performance.md, "Threads"), and the blocks
    alternate ``PEAK_BLOCKS`` times: a speed-up is the median of the blocks', so one slow spell of the shared
    host does not decide it."""
    macs = PEAK_LAYERS * PEAK_CHANNELS * PEAK_CHANNELS * PEAK_SIZE * PEAK_SIZE
    counts = sorted({1, *threads})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "peak.tflite"
        torch.manual_seed(0)
        convert_to_tflite(_PointwiseStack().eval(), torch.randn(1, PEAK_CHANNELS, PEAK_SIZE, PEAK_SIZE), path)
        invokes = {count: litert_invoke(path, count) for count in counts}
        blocks = [{count: float(np.median(interleaved({"peak": invokes[count]}, warmup=warmup, runs=runs)["peak"]))
                   for count in counts} for _ in range(PEAK_BLOCKS)]
    single = float(np.median([block[1] for block in blocks]))
    ratios = {count: [block[1] / block[count] for block in blocks] for count in counts if count != 1}
    return Peak(float(macs), single * 1e3, macs / single / 1e9,
                {count: float(np.median(values)) for count, values in ratios.items()},
                {count: (min(values), max(values)) for count, values in ratios.items()})

"""The "BENCHMARK RESULTS" block of the LiteRT 2.x benchmark tool (litert/tools/benchmark_litert_model.h).

That tool runs the model through the CompiledModel API and replaces the classic "Inference timings in us"
summary by a block of millisecond values printed with two decimals::

    ========== BENCHMARK RESULTS ==========
    Model initialization: 4.48 ms
    Warmup (first):       1.03 ms
    Warmup (avg):         0.47 ms (1055 runs)
    Inference (avg):      0.46 ms (2112 runs)
    Inference (min):      0.44 ms
    Inference (max):      0.98 ms
    Inference (std):      0.01
    Throughput:           525.55 MB/s

    Memory Usage:
    Init footprint:       8.94 MB
    Overall footprint:    11.51 MB
    Peak memory:          12.00 MB
    ======================================

The classic "count=" statistics lines (integer microseconds) are still printed before it by the shared
benchmark loop; when they are present the parser keeps them: they are whole microseconds, this block is
rounded to 10 us.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seaformer_deploy.bench.benchmark_model.lines import NUM, LineContext
from seaformer_deploy.bench.measures import JsonRecord, RunStats

TITLE = re.compile(r"^=+ BENCHMARK RESULTS =+$")
END = re.compile(r"^=+$")
_VALUE = re.compile(rf"^(?P<key>[A-Z][A-Za-z ]*(?:\((?:first|avg|min|max|std)\))?):\s+(?P<value>{NUM})"
                    rf"(?: (?:ms|MB|MB/s))?(?: \((?P<runs>\d+) runs\))?$")
_FIELDS = {
    "Model initialization": "init_ms",
    "Warmup (first)": "warmup_first_ms",
    "Warmup (avg)": "warmup_avg_ms",
    "Inference (avg)": "inference_avg_ms",
    "Inference (min)": "inference_min_ms",
    "Inference (max)": "inference_max_ms",
    "Inference (std)": "inference_std_ms",
    "Throughput": "throughput_mb_per_s",
    "Init footprint": "init_footprint_mb",
    "Overall footprint": "overall_footprint_mb",
    "Peak memory": "peak_memory_mb",
}
_RUN_COUNTS = {"Warmup (avg)": "warmup_runs", "Inference (avg)": "inference_runs"}


@dataclass
class LiteRtResults(JsonRecord):
    """The values of one BENCHMARK RESULTS block, in the units it prints (ms, MB, MB/s)."""

    init_ms: float | None = None
    warmup_first_ms: float | None = None
    warmup_avg_ms: float | None = None
    warmup_runs: int | None = None
    inference_avg_ms: float | None = None
    inference_runs: int | None = None
    inference_min_ms: float | None = None
    inference_max_ms: float | None = None
    inference_std_ms: float | None = None
    throughput_mb_per_s: float | None = None
    init_footprint_mb: float | None = None
    overall_footprint_mb: float | None = None
    peak_memory_mb: float | None = None

    def feed(self, ctx: LineContext, text: str) -> bool:
        """Take one line of the block; False for a line that carries no value ("Memory Usage:", notes)."""
        match = _VALUE.match(text)
        if match is None or match["key"] not in _FIELDS:
            return False
        setattr(self, _FIELDS[match["key"]], ctx.num(match["value"], text))
        if match["runs"] is not None and match["key"] in _RUN_COUNTS:
            setattr(self, _RUN_COUNTS[match["key"]], int(match["runs"]))
        return True

    def inference_stats(self) -> RunStats | None:
        """The regular runs as ``RunStats`` (microseconds), when the block reports them."""
        if self.inference_avg_ms is None or not self.inference_runs:
            return None
        return RunStats(self.inference_runs, None, None, _us(self.inference_min_ms), _us(self.inference_max_ms),
                        _us(self.inference_avg_ms), _us(self.inference_std_ms))

    def warmup_stats(self) -> RunStats | None:
        if self.warmup_avg_ms is None or not self.warmup_runs:
            return None
        return RunStats(self.warmup_runs, _us(self.warmup_first_ms), None, None, None, _us(self.warmup_avg_ms), None)

    def timings_us(self) -> dict[str, float]:
        """The block in the keys of the classic summary line (microseconds)."""
        pairs = (("init", self.init_ms), ("first_inference", self.warmup_first_ms),
                 ("warmup_avg", self.warmup_avg_ms), ("inference_avg", self.inference_avg_ms))
        return {key: value * 1e3 for key, value in pairs if value is not None}

    def memory(self) -> dict[str, float | str]:
        """``MemoryInfo`` fields; the footprints are the same deltas the classic tool reports."""
        fields = {"init_mb": self.init_footprint_mb, "overall_mb": self.overall_footprint_mb,
                  "peak_mb": self.peak_memory_mb}
        kept: dict[str, float | str] = {key: value for key, value in fields.items() if value is not None}
        if "init_mb" in kept or "overall_mb" in kept:
            kept["footprint_kind"] = "delta"
        return kept


def _us(ms: float | None) -> float | None:
    return None if ms is None else round(ms * 1e3, 3)

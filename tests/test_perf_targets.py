"""The verdicts ``make perf`` prints: each target's PASS/MISS, and whether this host's floor or ceiling puts a
missed target out of reach of any graph (benchmarks/perf_targets.py; the timings themselves are benchmarks)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from seaformer_deploy.bench.measures import OpEvent, OpProfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from perf_modules import op_type_times
from perf_targets import (
    FP32_LEVER,
    INT8_LEVER,
    THREAD_LEVER,
    at_least,
    at_most,
    convolution_share,
    ratio_floor,
    thread_ceiling,
    verdicts,
)


def _row(variant: str, config: str, threads: int, median_ms: float, partitions: int = 1) -> dict[str, object]:
    times = list(median_ms * (1 + 0.002 * np.sin(np.arange(31))))
    return {"variant": variant, "config": config, "threads": threads, "median_ms": float(np.median(times)),
            "times_ms": times, "transposes": 0, "partitions": partitions}


def test_convolution_share_counts_both_convolution_types() -> None:
    assert convolution_share({"CONV_2D": 60.0, "DEPTHWISE_CONV_2D": 30.0, "ADD": 10.0}) == pytest.approx(0.9)
    assert convolution_share({"ADD": 5.0}) == 0.0
    assert convolution_share({}) == 0.0


def test_a_floor_above_the_limit_puts_a_miss_out_of_reach() -> None:
    floor = ratio_floor(0.62, {"CONV_2D": 80.0, "DEPTHWISE_CONV_2D": 5.0, "QUANTIZE": 15.0}, INT8_LEVER)
    assert floor is not None and floor.value == pytest.approx(0.62 * 0.85)
    verdict = at_most("T int8 / fp32 <= 0.50 (1 thread)", "0.620", 0.62, 0.50, floor)
    assert not verdict.met and verdict.out_of_reach
    assert "floor on this host 0.527" in verdict.line() and INT8_LEVER in verdict.line()


def test_a_floor_below_the_limit_leaves_a_miss_within_reach() -> None:
    floor = ratio_floor(0.62, {"CONV_2D": 50.0, "ADD": 50.0}, INT8_LEVER)
    verdict = at_most("T int8 / fp32 <= 0.50 (1 thread)", "0.620", 0.62, 0.50, floor)
    assert not verdict.met and not verdict.out_of_reach
    assert "floor on this host 0.310" in verdict.line() and "out of reach" not in verdict.line()


def test_a_met_target_is_never_out_of_reach_and_needs_no_profile() -> None:
    met = at_most("T fp32 / plain <= 0.90 (1 thread)", "0.85", 0.85, 0.90,
                  ratio_floor(0.85, {"CONV_2D": 1.0}, FP32_LEVER))
    assert met.met and not met.out_of_reach and met.line().startswith("PASS")
    assert ratio_floor(0.85, None, FP32_LEVER) is None
    assert ratio_floor(0.85, {}, FP32_LEVER) is None


@pytest.mark.parametrize(("ceiling", "out_of_reach"), [(1.86, True), (1.97, False)])
def test_the_thread_ceiling_decides_whether_a_speedup_miss_is_out_of_reach(ceiling: float, out_of_reach: bool) -> None:
    verdict = at_least("T fp32 2-thread speedup >= 1.9", "1.80", 1.80, 1.9, thread_ceiling(ceiling))
    assert not verdict.met
    assert verdict.out_of_reach is out_of_reach
    assert (THREAD_LEVER in verdict.line()) is out_of_reach
    assert verdict.as_json()["bound"] == {"kind": "ceiling", "value": ceiling,  # type: ignore[index]
                                          "basis": "the 1x1-conv peak model's 2-thread speed-up",
                                          "lever": THREAD_LEVER}
    assert thread_ceiling(None) is None


def test_verdicts_of_a_perf_run() -> None:
    rows = [
        _row("T", "plain fp32", 1, 8.0), _row("T", "fp32", 1, 7.6), _row("T", "int8", 1, 4.8, partitions=2),
        _row("T", "fp32", 2, 4.0), _row("T", "int8", 2, 2.6),
    ]
    op_times = {"T": {"fp32": {"CONV_2D": 80.0, "DEPTHWISE_CONV_2D": 17.0, "ADD": 3.0},
                      "int8": {"CONV_2D": 50.0, "DEPTHWISE_CONV_2D": 40.0, "QUANTIZE": 10.0}}}
    found = {v.target: v for v in verdicts(rows, {"variant": "B", "wall_seconds": 31.0, "peak_rss_mb": 1100.0},
                                           op_times, peak_speedup=1.87)}
    fp32 = found["T fp32 / plain <= 0.90 (1 thread)"]
    assert not fp32.met and fp32.out_of_reach and fp32.bound.value == pytest.approx(0.95 * 0.97, rel=1e-2)
    int8 = found["T int8 / fp32 <= 0.50 (1 thread)"]
    assert not int8.met and int8.out_of_reach and int8.bound.value == pytest.approx(4.8 / 7.6 * 0.9, rel=1e-2)
    assert not found["T int8 one XNNPACK partition"].met
    assert found["T fp32 TRANSPOSE <= 10"].met and found["T fp32 one XNNPACK partition"].met
    speedup = found["T fp32 2-thread speedup >= 1.9"]
    assert speedup.met and not speedup.out_of_reach and speedup.measured.startswith("1.900 [95% CI")
    slow = found["T int8 2-thread speedup >= 1.9"]
    assert not slow.met and slow.out_of_reach
    assert not found["B fp32 TFLite export <= 30 s"].met and found["B export peak memory < 2 GB"].met
    assert "T labels (quarter) / logits <= 1.6" not in found  # no labels row, no verdict
    assert found["B fp32 TFLite export <= 30 s"].bound is None


def test_op_type_times_are_medians_over_runs_so_one_interrupted_run_does_not_count() -> None:
    events = [OpEvent("CONV_2D", "CONV_2D", 0, 100.0, run) for run in range(5)]
    events += [OpEvent("CONV_2D", "CONV_2D", 1, 20.0, run) for run in range(5)]
    events += [OpEvent("ADD", "ADD", 2, 10.0 if run != 3 else 500.0, run) for run in range(5)]
    profile = OpProfile("litert", "xnnpack", events, e2e_us=[200.0] * 5)
    times = op_type_times(profile)
    assert times == {"CONV_2D": 120.0, "ADD": 10.0}
    assert list(times) == ["CONV_2D", "ADD"]
    assert convolution_share(times) == pytest.approx(120 / 130)

"""Every benchmark_model generation parses: LiteRT 2.x "BENCHMARK RESULTS", logs pasted with indentation,
terminal space-aligned tables, summary-only excerpts, profile fragments, failed runs (fixtures s8-s14).

Expected numbers are read by eye from the fixture files, not produced by the parser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seaformer_deploy.bench.benchmark_model.convert import profile_from_log
from seaformer_deploy.bench.benchmark_model.log import BenchmarkFailedError
from seaformer_deploy.bench.benchmark_model.parser import parse_benchmark_log
from seaformer_deploy.bench.measures import RunStats

FIXTURES = Path(__file__).parent / "fixtures" / "benchmark_model"
LITERT2 = "s8_litert2_compiled_model_generated.txt"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_litert2_results_block_with_statistics_lines() -> None:
    log = parse_benchmark_log(fixture(LITERT2))
    # The microsecond statistics lines win over the block's two-decimal milliseconds.
    assert log.inference == RunStats(1211, 830, 815, 788, 1502, 824.173, 31, median_us=817, p5_us=799, p95_us=866)
    assert log.warmup.count == 604
    results = log.litert_results
    assert (results.inference_avg_ms, results.inference_runs, results.warmup_runs) == (0.82, 1211, 604)
    assert (results.init_ms, results.throughput_mb_per_s, results.peak_memory_mb) == (6.10, 317.42, None)
    assert log.timings_us == pytest.approx({"init": 6100, "first_inference": 1720, "warmup_avg": 830,
                                            "inference_avg": 820})
    assert (log.memory.init_mb, log.memory.overall_mb, log.memory.footprint_kind) == (7.31, 9.87, "delta")
    assert log.delegations[0].delegate == "TfLiteXNNPackDelegate"
    rows = log.op_profile.run_order
    assert [row.name for row in rows][:3] == [
        "LiteRT::Run[buffer registration]/0", "AllocateTensors/0", "Delegate/Transpose (ND, X32):0"]
    assert rows[5].node_type == "Fully Connected (NC, PF32) GEMM" and rows[5].avg_ms == 0.149
    profile = profile_from_log(log, kernel_mode="xnnpack")
    # AllocateTensors is not called during the runs (times called 0): it is no part of a run.
    assert [event.name for event in profile.events] == [
        "LiteRT::Run[buffer registration]/0", "Delegate/Transpose (ND, X32):0",
        "Delegate/Convolution (NHWC, PF32) IGEMM:1", "Delegate/Convolution (NHWC, F32) DWConv:2",
        "Delegate/Fully Connected (NC, PF32) GEMM:3", "Delegate/Batch Matrix Multiply (NC, PF32):4",
        "Delegate/Softmax (NC, F32):5", "Delegate/Fully Connected (NC, PF32) GEMM:6", "LiteRT::Run[Buffer sync]/0"]
    assert sum(event.elapsed_us for event in profile.events) == pytest.approx(993.0)
    assert profile.e2e_us == [824.173]


def test_litert2_results_block_alone_gives_the_latency() -> None:
    text = "\n".join(line for line in fixture(LITERT2).splitlines()
                     if not re.search(r"count=\d+ first|Running benchmark", line))
    log = parse_benchmark_log(text)
    assert log.inference == RunStats(1211, None, None, 790, 1500, 820, 30)
    assert log.warmup == RunStats(604, 1720, None, None, None, 830, None)


def test_litert2_block_without_values_is_still_a_finished_run() -> None:
    text = fixture(LITERT2).replace("Inference (avg):      0.82 ms (1211 runs)", "No inference runs were performed.")
    log = parse_benchmark_log(text)
    assert log.litert_results.inference_avg_ms is None and log.inference.count == 1211


@pytest.mark.parametrize("name", ["s4_litert_xnnpack_stdout_generated.txt", "s7_tf2018_old_format_generated.txt",
                                  LITERT2, "s9_info_percentiles_scinot_generated.txt"])
@pytest.mark.parametrize("indent", ["\t", "   ", "    "])
def test_logs_pasted_with_indentation_parse_like_the_original(name: str, indent: str) -> None:
    original = parse_benchmark_log(fixture(name))
    # Documents indent every line of a code block; blank lines stay empty.
    pasted = "\n".join(indent + line if line.strip() else "" for line in fixture(name).splitlines())
    assert parse_benchmark_log(pasted).to_dict() == original.to_dict()


def test_info_prefix_percentiles_single_warmup_and_scientific_notation() -> None:
    log = parse_benchmark_log(fixture("s9_info_percentiles_scinot_generated.txt"))
    assert log.warmup == RunStats(1, 2104417, 2104417, 2104417, 2104417, 2104417, 0.0,
                                  median_us=2104417, p5_us=2104417, p95_us=2104417)
    assert log.inference.avg_us == 1990130.0 and log.inference.median_us == 1988540
    assert log.timings_us["warmup_avg"] == 2104420.0 and log.memory.overall_mb == 58.4219


def test_documentation_excerpt_with_the_summary_after_the_tables() -> None:
    log = parse_benchmark_log(fixture("s10_readme_excerpt_summary_after_generated.txt"))
    assert log.timings_us == {"warmup_avg": 25402.0, "init": 31207.0, "inference_avg": 24812.6}
    assert log.inference == RunStats(0, None, None, None, None, 24812.6, None)
    rows = log.op_profile.run_order
    assert len(rows) == 6 and {row.times_called for row in rows} == {0}
    assert rows[4].start_ms == 8.832 and rows[4].name == "[seaformer/head/resize]"
    profile = profile_from_log(log, kernel_mode="as logged")
    # 'times called' 0 in every row is a build that did not count calls: one call each, and the report says so.
    assert len(profile.events) == 6 and sum(e.elapsed_us for e in profile.events) == pytest.approx(24716.0)
    assert any("times called" in note for note in profile.notes)


def test_terminal_space_aligned_tables_after_an_early_summary() -> None:
    log = parse_benchmark_log(fixture("s11_terminal_spaces_old_profile_generated.txt"))
    assert log.timings_us["inference_avg"] == 24845.7 and log.inference.count == 40
    rows = log.op_profile.run_order
    assert [row.node_type for row in rows] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "ADD", "RESIZE_BILINEAR",
                                               "ARG_MAX"]
    assert rows[1].start_ms == 3.914 and rows[1].name == "[seaformer/smb1/dw/Relu6]"
    assert all(event.node_index is None for event in profile_from_log(log, kernel_mode="builtin").events)
    assert log.op_profile.timing_summary.avg_us == 24760.3


def test_profile_fragment_without_timings() -> None:
    log = parse_benchmark_log(fixture("s12_profile_fragment_generated.txt"))
    assert log.inference is None and log.timings_us == {}
    assert [(row.node_type, row.times_called) for row in log.init_profile.run_order] == [
        ("ModifyGraphWithDelegate", 2), ("AllocateTensors", 2)]
    assert [row.name for row in log.op_profile.run_order][-1] == "[logits, logits_1, logits_2]:122"
    assert log.op_profile.timing_summary.avg_us == 101781
    # No run latency: the ops are set against the op profiler's own per-run time, and the notes say so.
    profile = profile_from_log(log, kernel_mode="nnapi")
    assert profile.e2e_us == [101781] and "'Timings' line" in profile.notes[-1]


def test_failed_delegate_run_fails_with_the_tools_lines() -> None:
    with pytest.raises(BenchmarkFailedError, match=r"Node number 97 \(TfLiteNnapiDelegate\) failed to prepare"):
        parse_benchmark_log(fixture("s13_nnapi_delegate_failed_generated.txt"), source="npu.log")


def test_external_delegate_build_with_unconsumed_flags() -> None:
    log = parse_benchmark_log(fixture("s14_external_npu_delegate_generated.txt"))
    assert log.unconsumed_flags == ["--use_xnnpack=false"]
    assert (log.memory.footprint_kind, log.memory.init_mb) == ("peak", 9.21484)
    rows = log.op_profile.run_order
    assert [row.node_type for row in rows] == ["Vx Delegate", "SEAFORMER_ARGMAX_POSTPROCESS_CUSTOM"]
    assert rows[1].avg_ms == 0.894 and rows[1].start_ms is None
    assert log.inference.avg_us == 12866.9

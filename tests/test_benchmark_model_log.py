"""benchmark_model log parsing: real excerpts (s1-s3), logs emitted from the tool's format strings (s4-s7).

Expected numbers are copied by eye from the fixture files, not produced by the parser.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from seaformer_deploy.bench.benchmark_model.log import BenchmarkFailedError, NodeRow, NodeTypeRow
from seaformer_deploy.bench.benchmark_model.parser import parse_benchmark_log, parse_op_profile_csv
from seaformer_deploy.bench.measures import RunStats
from seaformer_deploy.errors import CheckFailedError, UsageError

FIXTURES = Path(__file__).parent / "fixtures" / "benchmark_model"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def as_logcat(text: str) -> str:
    """What ``adb logcat -v threadtime,color`` shows for the same messages (tag "tflite").

    The Android log call receives the message without the "INFO: " prefix; logcat splits multi-line
    messages and prefixes every line. Colour codes wrap each line. An unrelated tag is interleaved.
    """
    levels = {"INFO": "I", "VERBOSE": "I", "WARN": "W", "ERROR": "E"}
    out = []
    level = "I"
    for i, line in enumerate(text.splitlines()):
        m = re.match(r"^(INFO|VERBOSE|WARN|ERROR): ", line)
        if m:
            level = levels[m[1]]
            line = line[m.end():]
        out.append(f"\x1b[38;5;40m05-14 10:21:{i % 60:02d}.{i:03d}  8123  8123 {level} tflite  : {line}\x1b[0m")
        if i % 7 == 3:
            out.append(f"05-14 10:21:{i % 60:02d}.{i:03d}  1021  1187 I ActivityManager: Process 4242 died")
    return "\r\n".join(out) + "\r\n"


# --- the three shared excerpts -----------------------------------------------------------------------------

def test_s1_old_format_tables_with_start_column():
    log = parse_benchmark_log(fixture("s1_readme_excerpt_old_format.txt"))
    assert log.timings_us == {"warmup_avg": 83235.0, "init": 38467.0, "inference_avg": 79760.9}
    # No statistics lines: the summary's average is the latency, the run count unknown (0).
    assert log.warmup is None and log.init_profile is None
    assert log.inference == RunStats(0, None, None, None, None, 79760.9, None)
    prof = log.op_profile
    assert prof is not None and prof.phase == "regular" and not prof.csv and not prof.truncated
    assert prof.run_order == [
        NodeRow("CONV_2D", 0.0, 4.269, 4.269, 0.107, 0.107, 0.0, 0, "[MobilenetV1/MobilenetV1/Conv2d_0/Relu6]"),
        NodeRow("DEPTHWISE_CONV_2D", 4.270, 2.150, 2.150, 0.054, 0.161, 0.0, 0,
              "[MobilenetV1/MobilenetV1/Conv2d_1_depthwise/Relu6]"),
        NodeRow("CONV_2D", 6.421, 6.107, 6.107, 0.153, 0.314, 0.0, 0,
              "[MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Relu6]"),
    ]
    assert [r.start_ms for r in prof.top_by_time] == [19.352, 6.421]
    assert prof.top_by_time[1].cdf_pct == 0.320
    assert prof.nodes_executed == 31 and prof.nodes_observed == 31
    assert prof.by_node_type[0] == NodeTypeRow("CONV_2D", 15, 1.406, 89.270, 89.270, 0.0, 0)
    assert [r.node_type for r in prof.by_node_type] == [
        "CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX", "RESHAPE", "AVERAGE_POOL_2D"]
    assert prof.timing_summary == RunStats(50, 79449, 81350, 77385, 88213, 79732, 1929)
    assert log.warnings == ["the log has no statistics line for the regular runs: latency is the summary's average"]


def test_s2_nnapi_run_order_excerpt():
    log = parse_benchmark_log(fixture("s2_deeplab_nnapi_runorder.txt"))
    rows = log.op_profile.run_order
    assert len(rows) == 8
    # stdout mode keeps commas in names (only csv mode replaces them)
    assert rows[0] == NodeRow("TfLiteNnapiDelegate", 0.0, 11.665, 11.422, 21.939, 21.939, 0.0, 1,
                            "[MobilenetV2/expanded_conv_16/project/add_fold, aspp0/Relu]:71")
    assert rows[-1] == NodeRow("ARG_MAX", 36.740, 15.440, 15.326, 29.438, 100.0, 0.0, 1, "[ArgMax]:70")
    resize_argmax = sum(r.pct for r in rows if r.node_type in ("RESIZE_BILINEAR", "ARG_MAX"))
    assert resize_argmax == pytest.approx(1.404 + 0.182 + 42.965 + 29.438)
    # the excerpt stops right after the last row: no terminating blank line
    assert log.op_profile.truncated
    assert any("Run Order" in w and "truncated" in w for w in log.warnings)


def test_s3_new_format_runs_memory_and_separate_init_profile():
    log = parse_benchmark_log(fixture("s3_xnnpack_new_format_excerpt.txt"))
    assert log.warmup == RunStats(32, 19834, 15648, 14936, 21608, 15997.4, 1663)
    assert log.inference == RunStats(64, 16067, 15102, 14661, 17579, 15517.6, 551)
    assert log.timings_us == {"init": 32163.0, "first_inference": 19834.0,
                              "warmup_avg": 15997.4, "inference_avg": 15517.6}
    assert log.memory.footprint_kind == "delta"
    assert (log.memory.init_mb, log.memory.overall_mb, log.memory.peak_mb) == (22.0273, 34.8281, None)

    init = log.init_profile
    assert init.phase == "init"
    assert init.run_order == [
        NodeRow("ModifyGraphWithDelegate", None, 6.348, 6.348, 55.640, 55.640, 7148.0, 1, "ModifyGraphWithDelegate/0"),
        NodeRow("AllocateTensors", None, 5.061, 5.061, 44.360, 100.0, 10292.0, 1, "AllocateTensors/0"),
    ]
    assert init.timing_summary == RunStats(1, 11409, 11409, 11409, 11409, 11409, 0)
    assert init.nodes_observed == 2

    regular = log.op_profile.run_order
    assert [r.node_type for r in regular] == [
        "QUANTIZE", "Convolution (NHWC, QC8) IGEMM", "Convolution (NHWC, QC8) DWConv",
        "Convolution (NHWC, QC8) GEMM"]
    assert regular[2] == NodeRow("Convolution (NHWC, QC8) DWConv", None, 0.428, 0.051, 4.317, 8.304, 0.0, 13,
                               "Delegate/Convolution (NHWC, QC8) DWConv:1")
    assert regular[0].name == "[tfl.quantize]:0"
    assert log.op_profile.truncated and not init.truncated


# --- complete logs emitted from the tool's format strings ---------------------------------------------------

def test_s4_full_current_log():
    log = parse_benchmark_log(fixture("s4_litert_xnnpack_stdout_generated.txt"))
    assert log.model_size_mb == 6.72118 and log.init_ms == 61.204
    assert log.warmup == RunStats(52, 13935, 5595, 5136, 13935, 5619.33, 1173,
                                  median_us=5462, p5_us=5231, p95_us=5731)
    assert log.inference == RunStats(107, 7030, 5384, 5132, 7030, 5300.31, 181,
                                     median_us=5281, p5_us=5166, p95_us=5418)
    # no build prints per-run times, so p90 and the per-run list stay empty
    assert log.inference.p90_us is None and log.per_run_us == []
    assert log.timings_us == {"init": 61204.0, "first_inference": 13935.0,
                              "warmup_avg": 5619.33, "inference_avg": 5300.31}
    mem = log.memory
    assert (mem.init_mb, mem.overall_mb, mem.peak_mb) == (27.1836, 41.3711, 45.9102)
    assert (mem.vm_rss_mb, mem.rss_anon_mb, mem.rss_file_shmem_mb) == (52, 38, 14)
    assert log.params["Graph"] == "/data/local/tmp/seaformer_t_512.tflite"
    assert log.params["#threads used for CPU inference"] == "4"
    assert log.params["Use xnnpack"] == "1"

    [deleg] = log.delegations
    assert (deleg.delegate, deleg.replaced_nodes, deleg.total_nodes, deleg.partitions) == (
        "TfLiteXNNPackDelegate", 422, 425, 5)
    assert (deleg.subgraph_index, deleg.subgraph_name) == (0, "main")
    assert any(w.startswith("Explicitly applied XNNPACK delegate") for w in log.warnings)

    prof = log.op_profile
    assert len(prof.run_order) == 11 and len(prof.top_by_time) == 10 and not prof.truncated
    assert prof.run_order[4] == NodeRow(
        "SPLIT", None, 0.030, 0.022, 0.446, 71.911, 0.0, 1,
        "[Segmentor/SeaFormer_backbone/attn/split_q, Segmentor/SeaFormer_backbone/attn/split_kv]:131")
    assert prof.top_by_time[1].name == "[Segmentor/SeaFormer_backbone/SeaFormerBlock_trans1/Sigmoid_hsig]:118"
    assert prof.by_node_type[7] == NodeTypeRow("RELU_0_TO_1", 2, 0.134, 2.735, 96.877, 0.0, 2)
    assert prof.nodes_executed == 11 and prof.nodes_observed == 11
    assert prof.timing_summary == RunStats(107, 6629, 4903, 4817, 6629, 4906.37, 169)
    assert log.init_profile.run_order[0].mem_kb == 21960.0
    assert log.init_profile.timing_summary.count == 1
    assert log.other_profiles == []


def test_s5_csv_file_restores_commas_and_matches_stdout_mode():
    text = fixture("s5_op_profile_generated.csv")
    rows = parse_op_profile_csv(text)
    assert len(rows) == 11
    # node types keep their commas; names had them replaced by TAB
    assert rows[0] == NodeRow("Convolution (NHWC, F32) IGEMM", None, 0.548, 0.410757, 8.37191, 8.37191, 0.0, 1,
                            "Delegate/Convolution (NHWC, F32) IGEMM:0")
    assert rows[4].name == (
        "[Segmentor/SeaFormer_backbone/attn/split_q, Segmentor/SeaFormer_backbone/attn/split_kv]:131")
    assert rows[-1].cdf_pct == 100.0 and rows[-1].pct == 0.832981

    log = parse_benchmark_log(text)
    assert log.op_profile.csv and log.init_profile.csv
    assert log.op_profile.by_node_type[0] == NodeTypeRow("Convolution (NHWC, F32) GEMM", 1, 1.907, 38.9263,
                                                         38.9263, 0.0, 40)
    assert log.init_profile.run_order[1] == NodeRow("AllocateTensors", None, 4.127, 4.127, 9.74682, 100.0,
                                                  5312.0, 1, "AllocateTensors/0")

    # the same run printed in stdout mode (3 decimals) agrees row by row
    stdout_rows = parse_benchmark_log(fixture("s4_litert_xnnpack_stdout_generated.txt")).op_profile.run_order
    assert [(r.node_type, r.name, r.times_called) for r in rows] == [
        (r.node_type, r.name, r.times_called) for r in stdout_rows]
    for csv_row, out_row in zip(rows, stdout_rows, strict=True):
        assert csv_row.avg_ms == pytest.approx(out_row.avg_ms, abs=5e-4)
        assert csv_row.pct == pytest.approx(out_row.pct, abs=5e-4)


def test_s7_2018_format():
    log = parse_benchmark_log(fixture("s7_tf2018_old_format_generated.txt"))
    assert log.init_ms == 5.127
    assert log.warmup == RunStats(1, 151327, 151327, 151327, 151327, 151327, 0)
    assert log.inference == RunStats(50, 140013, 138998, 137677, 141414, 139587, 903)
    assert log.timings_us == {"warmup_avg": 151327.0, "init": 5127.0, "inference_avg": 139587.0}
    assert log.params["Use nnapi"] == "0" and log.op_profile is None


def test_to_dict_is_strict_json():
    log = parse_benchmark_log(fixture("s4_litert_xnnpack_stdout_generated.txt"))
    data = json.loads(json.dumps(log.to_dict(), allow_nan=False))
    assert data["inference"]["median_us"] == 5281
    assert data["op_profile"]["run_order"][0]["node_type"] == "Convolution (NHWC, F32) IGEMM"
    # 0/0 percentages print as "-nan%" (all-zero timings); JSON gets null
    nan_log = parse_benchmark_log(
        "============================== Run Order ==============================\n"
        "\t[node type]\t[first]\t[avg ms]\t[%]\t[cdf%]\t[mem KB]\t[times called]\t[Name]\n"
        "\tTfLiteGpuDelegateV2\t0.000\t0.000\t-nan%\t-nan%\t0.000\t1\t[out]:0\n\n")
    assert math.isnan(nan_log.op_profile.run_order[0].pct)
    assert nan_log.to_dict()["op_profile"]["run_order"][0]["pct"] is None


# --- noise ---------------------------------------------------------------------------------------------------

def test_logcat_ansi_crlf_prefixes_parse_like_plain_output():
    plain = parse_benchmark_log(fixture("s4_litert_xnnpack_stdout_generated.txt"))
    noisy = parse_benchmark_log(as_logcat(fixture("s4_litert_xnnpack_stdout_generated.txt")))
    assert noisy.to_dict() == plain.to_dict()


def test_glog_and_timestamp_prefixes():
    text = fixture("s7_tf2018_old_format_generated.txt")
    stamped = "\n".join(f"2024-05-14T10:21:03.512Z {line}" for line in text.splitlines())
    assert parse_benchmark_log(stamped).to_dict() == parse_benchmark_log(text).to_dict()
    glog = "\n".join(f"2018-09-10 12:36:37.571102: I tensorflow/lite/tools/benchmark/x.cc:99] {line}"
                     for line in text.splitlines())
    assert parse_benchmark_log(glog).inference.count == 50
    brief = "\n".join(f"I/tflite  ( 8123): {line}" for line in text.splitlines())
    assert parse_benchmark_log(brief).to_dict() == parse_benchmark_log(text).to_dict()
    # a message that merely looks like a logcat "brief" prefix is kept
    assert "I/O error: short read" in parse_benchmark_log(text + "I/O error: short read\n").warnings


def test_stderr_message_interleaved_in_a_table_keeps_the_table():
    lines = fixture("s4_litert_xnnpack_stdout_generated.txt").splitlines()
    at = lines.index("INFO: Operator-wise Profiling Info for Regular Benchmark Runs:") + 5
    lines.insert(at, "WARNING: Attempting to use a delegate that only supports static-sized tensors")
    log = parse_benchmark_log("\n".join(lines))
    assert len(log.op_profile.run_order) == 11
    assert "WARNING: Attempting to use a delegate that only supports static-sized tensors" in log.warnings


# --- truncation ------------------------------------------------------------------------------------------------

def test_log_cut_in_the_middle_of_a_table_keeps_its_rows():
    text = fixture("s4_litert_xnnpack_stdout_generated.txt")
    cut = text.index("Delegate/Transpose (ND, X32):3") - 30  # inside the 6th regular Run Order row
    log = parse_benchmark_log(text[:cut])
    assert [r.node_type for r in log.op_profile.run_order] == [
        "Convolution (NHWC, F32) IGEMM", "Convolution (NHWC, F32) DWConv", "Convolution (NHWC, F32) GEMM",
        "RELU_0_TO_1", "SPLIT"]
    assert log.op_profile.truncated and log.op_profile.by_node_type == []
    assert any("incomplete" in w and "Run Order" in w for w in log.warnings)
    assert log.inference.count == 107 and len(log.init_profile.run_order) == 2


def test_log_cut_at_a_row_boundary_warns():
    text = fixture("s4_litert_xnnpack_stdout_generated.txt")
    cut = text.rindex("\n", 0, text.index("Delegate/Transpose (ND, X32):3"))  # end of the 5th row
    log = parse_benchmark_log(text[:cut + 1])
    assert len(log.op_profile.run_order) == 5
    assert any("log ends inside the 'Run Order' table after 5 rows" in w for w in log.warnings)


# --- failed runs -----------------------------------------------------------------------------------------------

def test_missing_model_raises_with_the_tools_message():
    with pytest.raises(BenchmarkFailedError) as info:
        parse_benchmark_log(fixture("s6_missing_model_generated.txt"), source="device.log")
    message = str(info.value)
    assert message.startswith("device.log: benchmark_model failed:")
    assert "Failed to load model /data/local/tmp/seaformer_missing.tflite" in message
    assert isinstance(info.value, CheckFailedError) and info.value.exit_code == 1


@pytest.mark.parametrize("tail", [
    "ERROR: Node number 12 (CONV_2D) failed to invoke.\nERROR: Benchmarking failed.",
    "FATAL: Failed to read the input_layer_value_file:/data/local/tmp/in.bin",
    "05-14 10:22:01.000  8123  8130 F libc    : Fatal signal 11 (SIGSEGV), code 1 (SEGV_MAPERR)",
])
def test_failure_after_the_summary_is_not_success(tail):
    text = fixture("s4_litert_xnnpack_stdout_generated.txt") + tail + "\n"
    with pytest.raises(BenchmarkFailedError):
        parse_benchmark_log(text)


def test_crash_during_regular_runs():
    text = fixture("s4_litert_xnnpack_stdout_generated.txt")
    cut = text.index("INFO: count=107")
    with pytest.raises(BenchmarkFailedError, match="run block without a statistics line"):
        parse_benchmark_log(text[:cut] + "Segmentation fault\n")
    with pytest.raises(BenchmarkFailedError, match="never printed"):
        parse_benchmark_log(text[:text.index("INFO: Inference timings")])


def test_log_cut_inside_the_regular_statistics_line():
    text = fixture("s4_litert_xnnpack_stdout_generated.txt")
    cut = text.index("INFO: count=107") + len("INFO: count=107 first=70")
    with pytest.raises(BenchmarkFailedError, match="run block without a statistics line"):
        parse_benchmark_log(text[:cut])


def test_binary_that_never_ran():
    text = 'CANNOT LINK EXECUTABLE "/data/local/tmp/benchmark_model": library "libc++_shared.so" not found\n'
    with pytest.raises(BenchmarkFailedError, match="CANNOT LINK EXECUTABLE"):
        parse_benchmark_log(text)


# --- not benchmark_model output, malformed numbers -------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "hello\nworld\n", "Model: SeaFormer-T\n\n"])
def test_unrecognisable_text(text):
    with pytest.raises(UsageError, match="is not benchmark_model output"):
        parse_benchmark_log(text, source="x.log")


def test_format_strings_are_not_a_log():
    with pytest.raises(UsageError, match="bad number '<MB>'"):
        parse_benchmark_log(fixture("format_strings.txt"))


GOOD_STATS = "count=64 first=16067 curr=15102 min=14661 max=17579 avg=15517.6 std=551"


@pytest.mark.parametrize("stats, problem", [
    ("count=64 first=16067 curr=15102 min=14661 max=17579 avg=15517.6x std=551", "malformed statistics"),
    ("count=64 first=16067 curr=15102 min=17579 max=14661 avg=15517.6 std=551", "inconsistent"),
    ("count=64 first=16067 curr=15102 min=14661 max=17579 avg=25517.6 std=551", "inconsistent"),
    ("count=5 curr=100", "all same"),
    ("count=1 curr=100(all same)", "all same"),
    ("count=64 first=16067", "malformed statistics"),
    (f"{GOOD_STATS} p5=15000 median=14900 p95=16000", "inconsistent"),
    ("count=3 first=5 curr=5 min=5 max=5 avg=5 std=0", "all values are equal"),
])
def test_malformed_run_statistics(stats, problem):
    text = ("Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding "
            f"150 seconds.\ncount=1 curr=19834\n\n{stats}\n\n"
            "Inference timings in us: Init: 1, First inference: 19834, Warmup (avg): 19834, Inference (avg): 1\n")
    with pytest.raises(UsageError, match=problem):
        parse_benchmark_log(text)


def test_malformed_summary_and_extra_blocks():
    with pytest.raises(UsageError, match="bad number 'abc'"):
        parse_benchmark_log("Inference timings in us: Init: abc, First inference: 1, Warmup (avg): 1, "
                            "Inference (avg): 1\n")
    three = f"{GOOD_STATS}\n{GOOD_STATS}\n{GOOD_STATS}\n"
    with pytest.raises(UsageError, match="more than two run blocks"):
        parse_benchmark_log(three)


def test_malformed_row_inside_a_table():
    text = fixture("s1_readme_excerpt_old_format.txt").replace("\t    4.269\t    4.269", "\t    4.2.69\t    4.269")
    with pytest.raises(UsageError, match="malformed row in the 'Run Order' table"):
        parse_benchmark_log(text)


def test_csv_parser_rejects_stdout_tables():
    with pytest.raises(UsageError, match="not a benchmark_model op-profile CSV"):
        parse_op_profile_csv(fixture("s3_xnnpack_new_format_excerpt.txt"), source="ops.csv")


# --- multi-graph sections ---------------------------------------------------------------------------------------

def test_subgraph_sections_stay_apart():
    header = "\t[node type]\t[first]\t[avg ms]\t[%]\t[cdf%]\t[mem KB]\t[times called]\t[Name]"
    lines = [
        "INFO: Operator-wise Profiling Info for Regular Benchmark Runs:",
        "Primary graph (name: main) profile:",
        "============================== Run Order ==============================", header,
        "\tWHILE\t2.500\t2.400\t100.000%\t100.000%\t0.000\t1\t[out]:3", "",
        "Timings (microseconds): count=2 first=2500 curr=2300 min=2300 max=2500 avg=2400 std=100",
        "Memory (bytes): count=0", "1 nodes observed", "",
        "Subgraph (index: 1, name: while_body) profile:",
        "============================== Run Order ==============================", header,
        "\tADD\t0.100\t0.090\t100.000%\t100.000%\t0.000\t20\t[acc]:0", "",
        "Subgraph (index: 1, name: while_body) Timings (microseconds): count=2 curr=1800(all same)",
        "Memory (bytes): count=0", "1 nodes observed", "", "",
    ]
    log = parse_benchmark_log("\n".join(lines))
    assert [r.node_type for r in log.op_profile.run_order] == ["WHILE"]
    [sub] = log.other_profiles
    assert sub.graph == "subgraph 1 (while_body)" and sub.run_order[0].times_called == 20
    assert sub.timing_summary == RunStats(2, 1800, 1800, 1800, 1800, 1800, 0)


# --- RunStats from samples ----------------------------------------------------------------------------------------

def test_run_stats_from_samples_uses_the_tools_conventions():
    stats = RunStats.from_samples([4, 1, 7, 3, 6, 2, 5])
    assert (stats.count, stats.first_us, stats.curr_us, stats.min_us, stats.max_us) == (7, 4, 5, 1, 7)
    assert stats.avg_us == 4.0
    assert stats.std_us == pytest.approx(2.0)  # population std (140/7 - 4**2 = 4), as Stat::std_deviation
    # element n*p/100 (integer division) of the sorted values, as StatWithPercentiles::percentile
    assert (stats.p5_us, stats.median_us, stats.p90_us, stats.p95_us) == (1, 4, 7, 7)
    assert RunStats.from_samples([]) == RunStats(0, None, None, None, None, None, None)

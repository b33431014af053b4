"""The benchmark_model builds the simulated phone can run: which flags each knows and how it prints.

Each generation is what users really download (see tests/fixtures/benchmark_model for their output):

- ``current``: TFLite 2.x builds since ~2021: ``--help``, ``--op_profiling_output_mode=csv`` with
  ``--op_profiling_output_file``, INFO: prefixes, "Inference timings in us: ..." summary.
- ``csv-legacy``: builds that spelled the CSV file ``--profiling_output_csv_file`` (before the output-mode
  flags); they know ``--help``.
- ``csv-less``: builds that know ``--enable_op_profiling`` but no profile-file flag and no ``--help``: the
  file flags end up in "Unconsumed cmdline flags" and the tables go to stdout.
- ``oldest``: 2018 builds: no INFO: prefixes, "Running benchmark for N iterations", "Average inference
  timings in us: Warmup:, Init:, no stats:", tables with a [start] column and no section headers, the
  builtin kernels (no XNNPACK flag), no ``--help``; they still write ``--output_filepath`` here, so
  accuracy stays testable (the simulation changes only what the host parses).
- ``litert2``: the LiteRT 2.x CompiledModel tool: ``--use_cpu/--use_gpu/--use_npu``, ``--use_profiler``
  (tables on stdout, per-operator XNNPACK rows beside ``LiteRT::Run[...]`` rows), the "BENCHMARK RESULTS"
  block with LiteRT's "[file:line]" log prefix, no input/output tensor files.
"""

from __future__ import annotations

from dataclasses import dataclass

COMMON = frozenset({
    "graph", "num_threads", "num_runs", "min_secs", "max_secs", "warmup_runs", "warmup_min_secs", "run_delay",
    "verbose", "report_peak_memory_footprint", "allow_fp16", "signature_to_run_for",
})
TFLITE = COMMON | {
    "use_xnnpack", "use_gpu", "use_nnapi", "enable_op_profiling", "max_profiling_buffer_entries", "input_layer",
    "input_layer_shape", "input_layer_value_range", "input_layer_value_files", "output_filepath",
}
OP_PROFILE_FILE = frozenset({"op_profiling_output_mode", "op_profiling_output_file"})


@dataclass(frozen=True)
class Generation:
    name: str
    flags: frozenset[str]
    info_prefix: bool = True
    old_format: bool = False  # 2018 run headers, summary and tables
    litert_results: bool = False  # LiteRT 2.x BENCHMARK RESULTS block and profiler
    builtin_by_default: bool = False

    @property
    def knows_help(self) -> bool:
        return "help" in self.flags

    @property
    def profile_flag(self) -> str:
        return "use_profiler" if self.litert_results else "enable_op_profiling"

    def usage(self, program: str) -> str:
        """What ``--help`` prints (tflite::Flags::Usage): one "--name=default<TAB>type..." line per flag."""
        lines = [f"usage: {program}", "Flags:"]
        lines += [f"\t--{name}=\tstring\toptional\t(simulated)" for name in sorted(self.flags - {"help"})]
        return "\n".join(lines)


GENERATIONS = {
    generation.name: generation
    for generation in (
        Generation("current", TFLITE | OP_PROFILE_FILE | {"help"}),
        Generation("csv-legacy", TFLITE | {"profiling_output_csv_file", "help"}),
        Generation("csv-less", TFLITE),
        Generation("oldest", (TFLITE - {"use_xnnpack", "warmup_min_secs", "min_secs", "max_secs",
                                        "report_peak_memory_footprint"}),
                   info_prefix=False, old_format=True, builtin_by_default=True),
        Generation("litert2", COMMON | {"use_cpu", "use_gpu", "use_npu", "use_profiler", "result_file_path", "help"},
                   litert_results=True),
    )
}

_LITERT_SOURCE = "./litert/tools/benchmark_litert_model.h"


def litert_line(line: int, text: str) -> str:
    """One LITERT_LOG(INFO) line: severity, then the source location, then the message."""
    return f"INFO: [{_LITERT_SOURCE}:{line}] {text}"


def litert_results_block(init_us: int, warmup: object, regular: object, init_mb: float, overall_mb: float) -> str:
    """The "BENCHMARK RESULTS" block of benchmark_litert_model.h for two ``Stat`` objects."""
    rows = [
        (81, "\n========== BENCHMARK RESULTS =========="),
        (82, f"Model initialization: {init_us / 1e3:.2f} ms"),
        (84, f"Warmup (first):       {warmup.first / 1e3:.2f} ms"),
        (86, f"Warmup (avg):         {warmup.avg / 1e3:.2f} ms ({warmup.count} runs)"),
        (88, f"Inference (avg):      {regular.avg / 1e3:.2f} ms ({regular.count} runs)"),
        (92, f"Inference (min):      {min(regular.values) / 1e3:.2f} ms"),
        (94, f"Inference (max):      {max(regular.values) / 1e3:.2f} ms"),
        (96, f"Inference (std):      {regular.std() / 1e3:.2f}"),
        (106, "No throughput data available (throughput <= 0)."),
        (112, "\nMemory Usage:"),
        (114, f"Init footprint:       {init_mb:.2f} MB"),
        (116, f"Overall footprint:    {overall_mb:.2f} MB"),
        (123, "Peak memory usage not available. (peak_mem_mb <= 0)"),
        (126, "======================================\n"),
    ]
    return "\n".join(litert_line(number, text) for number, text in rows)

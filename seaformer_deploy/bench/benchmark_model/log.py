"""What one benchmark_model log holds, as JSON-friendly dataclasses (``parser`` fills them).

Line formats follow the tool's sources (tools/benchmark/benchmark_model.cc, benchmark_tflite_model.cc,
profiling/profile_summary_formatter.cc and the StatsCalculator in tensorflow/core/util or tsl/util):

- Run blocks: "Running benchmark for at least N iterations and at least S seconds but terminate if exceeding
  M seconds." (oldest builds: "Running benchmark for N iterations"), each followed by one statistics line:
  "count=N first= curr= min= max= avg= std=", "count=N curr=X" plus "(all same)" when N > 1, or "count=0";
  recent builds append " p5= median= p95=". The first block is the warm-up, the second the regular runs.
- Summary: "Inference timings in us: Init:, First inference:, Warmup (avg):, Inference (avg):"; older builds
  print "Average inference timings in us: Warmup:, Init:, Inference:" ("no stats:" in the oldest); the LiteRT
  2.x tool prints a "BENCHMARK RESULTS" block in milliseconds instead (``litert_results``). A log with a
  summary but no statistics lines (a documentation excerpt) gets ``inference`` from the summary's average,
  with ``count`` from the logged "Num runs" parameter (0 when not logged: unknown).
- Memory: "Memory footprint delta from the start of the tool (MB): init= overall=" (older: "Peak memory
  footprint (MB): init= overall="), the periodic peak and the VmRSS block (--report_peak_memory_footprint).
- Op profile (--enable_op_profiling): "Profiling Info for Benchmark Initialization:" and "Operator-wise
  Profiling Info for Regular Benchmark Runs:" sections, optionally split per graph ("Primary graph (name: X)
  profile:", "Subgraph (index: N, name: X) profile:", "Delegate internal:"), each holding "Run Order", "Top by
  Computation Time" and "Summary by node type" tables, tab-aligned (stdout mode) or CSV (csv mode, where commas
  in node names were replaced by TAB). Older builds have an extra "[start]" / "start" column.
- No build and no flag prints individual run times, so a parsed log never has per-run data: ``per_run_us``
  stays empty and ``median_us`` comes only from the tool's own "median=" (p90 never). ``RunStats.from_samples``
  fills both for runners that do have samples.

Failure policy: a log that records a failed or crashed run ("Benchmarking failed.", a FATAL line, a crash
signal, a run block without its statistics line, or a run that started but never printed its summary) raises
``BenchmarkFailedError`` (a ``CheckFailedError``, exit 1) carrying the tool's own error lines. Text with nothing
recognisable raises ``UsageError``. Numbers are parsed strictly (a malformed number on a recognised line is a
``UsageError``); unrelated lines, log prefixes (INFO:, LiteRT's "[file.cc:N]", logcat, glog, timestamps), the
indentation of logs pasted from documents and ANSI codes are ignored; tables may be TAB- or space-aligned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seaformer_deploy.bench.benchmark_model.litert_results import LiteRtResults
from seaformer_deploy.bench.measures import JsonRecord, RunStats
from seaformer_deploy.errors import CheckFailedError


class BenchmarkFailedError(CheckFailedError):
    """The log is benchmark_model output, but the run it records failed or crashed (exit 1)."""


@dataclass(frozen=True)
class NodeRow(JsonRecord):
    """One row of a Run Order / Top by ... table. ``start_ms`` exists only in older builds."""

    node_type: str
    start_ms: float | None
    first_ms: float
    avg_ms: float
    pct: float
    cdf_pct: float
    mem_kb: float
    times_called: int
    name: str


@dataclass(frozen=True)
class NodeTypeRow(JsonRecord):
    """One row of the "Summary by node type" table."""

    node_type: str
    count: int
    avg_ms: float
    pct: float
    cdf_pct: float
    mem_kb: float
    times_called: int


@dataclass
class ProfileTables(JsonRecord):
    """The tables of one profiling section ("init" or "regular") for one graph."""

    phase: str
    graph: str
    run_order: list[NodeRow] = field(default_factory=list)
    top_by_time: list[NodeRow] = field(default_factory=list)
    top_by_memory: list[NodeRow] = field(default_factory=list)
    by_node_type: list[NodeTypeRow] = field(default_factory=list)
    nodes_executed: int | None = None
    nodes_observed: int | None = None
    timing_summary: RunStats | None = None
    csv: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class MemoryInfo(JsonRecord):
    """Memory lines in MB. ``footprint_kind`` is "delta" (newer builds) or "peak" (older builds)."""

    footprint_kind: str | None = None
    init_mb: float | None = None
    overall_mb: float | None = None
    peak_mb: float | None = None
    vm_rss_mb: float | None = None
    rss_anon_mb: float | None = None
    rss_file_shmem_mb: float | None = None


@dataclass(frozen=True)
class Delegation(JsonRecord):
    """A "Replacing N out of M node(s) with delegate (X) node, yielding K partitions" line."""

    delegate: str
    replaced_nodes: int
    total_nodes: int
    partitions: int
    subgraph_index: int | None = None
    subgraph_name: str | None = None


@dataclass
class BenchmarkLog(JsonRecord):
    """Everything recognised in one benchmark_model log.

    Attributes:
        warmup: the first run block; inference: the second (the tool always runs the warm-up first).
        timings_us: the summary line; keys ``init``, ``warmup_avg``, ``inference_avg`` and, in newer builds,
            ``first_inference``.
        op_profile: regular-run tables of the primary graph. ``init_profile`` holds the initialization tables
            (never mixed with the runs); ``other_profiles`` the subgraphs and "Delegate internal" of either phase.
        per_run_us: always empty for parsed logs (no build prints per-run times).
        delegations: "Replacing N out of M node(s) ..." lines.
        params: the "Name: [value]" parameter lines logged at start.
        unconsumed_flags: the flags this build did not know ("Unconsumed cmdline flags: --a=1 --b=2").
        litert_results: the LiteRT 2.x "BENCHMARK RESULTS" block, which stands in for the summary line (its
            values fill ``timings_us``, ``memory`` and, without statistics lines, ``warmup`` / ``inference``).
        warnings: delegate, WARN/ERROR and failure lines, and notes about truncated or noisy tables.
    """

    model_size_mb: float | None = None
    init_ms: float | None = None
    warmup: RunStats | None = None
    inference: RunStats | None = None
    timings_us: dict[str, float] = field(default_factory=dict)
    memory: MemoryInfo | None = None
    op_profile: ProfileTables | None = None
    init_profile: ProfileTables | None = None
    other_profiles: list[ProfileTables] = field(default_factory=list)
    per_run_us: list[float] = field(default_factory=list)
    delegations: list[Delegation] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    litert_results: LiteRtResults | None = None
    unconsumed_flags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


"""Parse the text output of TFLite / LiteRT ``benchmark_model`` into a ``BenchmarkLog``.

The line formats and the failure policy are described in ``benchmark_model.log``. The parser is a line-by-line
state machine: section and table headers switch what the following rows belong to.
"""

from __future__ import annotations

import re
from typing import Any

from seaformer_deploy.bench.benchmark_model import litert_results
from seaformer_deploy.bench.benchmark_model.lines import (
    CRASH,
    NUM,
    STAT,
    Line,
    LineContext,
    clean_line,
    parse_stat,
)
from seaformer_deploy.bench.benchmark_model.litert_results import LiteRtResults
from seaformer_deploy.bench.benchmark_model.log import (
    BenchmarkFailedError,
    BenchmarkLog,
    Delegation,
    MemoryInfo,
    NodeRow,
    ProfileTables,
)
from seaformer_deploy.bench.benchmark_model.tables import (
    TABLE_FIELDS,
    Table,
    header_layout,
    parse_row,
    row_shaped,
)
from seaformer_deploy.bench.measures import RunStats
from seaformer_deploy.errors import UsageError

# --- line patterns ----------------------------------------------------------------------------------------

_TITLE = re.compile(r"^=+ (?P<title>.+?) =+$")
_INIT_SECTION = "Profiling Info for Benchmark Initialization:"
_RUN_SECTION = "Operator-wise Profiling Info for Regular Benchmark Runs:"
_PRIMARY = re.compile(r"^Primary graph \(name: (?P<name>.*)\) (?:profile|summary):$")
_SUBGRAPH = re.compile(r"^Subgraph \(index: (?P<index>\d+), name: (?P<name>.*?)\) (?:profile|summary):$")
_DELEGATE_INTERNAL = re.compile(r"^Delegate internal:\s*$")
_SUBGRAPH_PREFIX = re.compile(r"^Subgraph \(index: \d+, name: .*?\) (?=Timings|Memory)")
_TIMINGS_SUMMARY = re.compile(r"^Timings \(microseconds\): (?P<stat>.*)$")
_MEMORY_SUMMARY = re.compile(r"^Memory \(bytes\): (?P<stat>.*)$")
_NODES_EXECUTED = re.compile(r"^Number of nodes executed: (?P<n>.*)$")
_NODES_OBSERVED = re.compile(r"^(?P<n>\S+) nodes observed$")
_RUN_HEADER = re.compile(
    r"^Running benchmark for (?:at least )?(?P<n>\S+) iterations"
    r"(?: and at least (?P<min_secs>\S+) seconds(?: but terminate if exceeding (?P<max_secs>\S+) seconds\.)?)?$"
)
_SUMMARY_NEW = re.compile(
    r"^Inference timings in us: Init: (?P<init>[^,]*), First inference: (?P<first_inference>[^,]*), "
    r"Warmup \(avg\): (?P<warmup_avg>[^,]*), Inference \(avg\): (?P<inference_avg>.*)$"
)
# The Android app glues its memory report straight onto the number ("...Inference: 80660.1Overall ...").
_SUMMARY_OLD = re.compile(
    rf"^Average inference timings in us: Warmup: (?P<warmup_avg>[^,]*), Init: (?P<init>[^,]*), "
    rf"(?:Inference|no stats): (?P<inference_avg>(?:{NUM})|\S*)"
)
_MODEL_SIZE = re.compile(r"^The input model file size \(MB\): (?P<v>.*)$")
_INIT_TIME = re.compile(r"^Initialized session in (?P<v>.*?)ms\.?$")
_FOOTPRINT = re.compile(
    r"^(?P<kind>Memory footprint delta from the start of the tool|Peak memory footprint) \(MB\): "
    r"init=(?P<init>\S*) overall=(?P<overall>\S*)$"
)
_PEAK = re.compile(r"^Overall peak memory footprint \(MB\) via periodic monitoring: (?P<v>.*)$")
_RSS = re.compile(r"^[-+] (?P<key>VmRSS|RssAnnon|RssFile \+ RssShmem)\s*: (?P<v>\S*) MB$")
_RSS_FIELDS = {"VmRSS": "vm_rss_mb", "RssAnnon": "rss_anon_mb", "RssFile + RssShmem": "rss_file_shmem_mb"}
_REPLACING = re.compile(
    r"Replacing (?P<replaced>\d+) out of (?P<total>\d+) node\(s\) with delegate \((?P<delegate>[^)]*)\) node, "
    r"yielding (?P<partitions>\d+) partitions?(?: for subgraph (?P<index>\d+)(?: \((?P<name>.*)\))?)?\.?"
)
_UNCONSUMED = re.compile(r"^Unconsumed cmdline flags:\s*(?P<flags>.*)$")
_STARTED = re.compile(r"^(?:STARTING!|Loaded model\b|Log parameter values verbosely\b)")
_PARAM = re.compile(r"^(?P<key>[^\[\]:=]+?)\s*:\s*\[(?P<value>.*)\]$")
_NOTEWORTHY = re.compile(r"\bdelegate\b|\bfail(?:s|ed|ure)?\b|\berror\b", re.IGNORECASE)
_MARKERS = (
    litert_results.TITLE, _TITLE, _PRIMARY, _SUBGRAPH, _DELEGATE_INTERNAL, _SUBGRAPH_PREFIX, _TIMINGS_SUMMARY,
    _MEMORY_SUMMARY, _NODES_EXECUTED, _RUN_HEADER, _SUMMARY_NEW, _SUMMARY_OLD, re.compile(r"^count="),
)


class _Parser:
    """Line-by-line state machine; ``finish`` applies the failure policy."""

    def __init__(self, source: str) -> None:
        self.ctx = LineContext(source)
        self.log = BenchmarkLog()
        self.profiles: dict[tuple[str, str], ProfileTables] = {}
        self.phase = "regular"  # tables printed without a section header are the regular runs
        self.graph = "primary"
        self.table: Table | None = None
        self.run_stats: list[RunStats] = []
        self.pending_header: str | None = None
        self.started = False
        self.summary_seen = False
        self.results: LiteRtResults | None = None
        self.in_results = False
        self.failed: list[str] = []
        self.tool_errors: list[str] = []
        self.memory: dict[str, Any] = {}

    def feed_text(self, text: str) -> None:
        lines = text.splitlines()
        last = max((i for i, raw in enumerate(lines) if clean_line(raw).text.strip()), default=-1)
        for i, raw in enumerate(lines):
            self.ctx.line_no = i + 1
            self.feed(clean_line(raw), is_last=i == last)
        if self.table is not None:
            self.warn(f"log ends inside the '{self.table.title}' table after {self.table.rows} rows "
                      "(truncated output?)")
            self.table.profile.truncated = True
            self.table = None

    def warn(self, message: str) -> None:
        self.log.warnings.append(message)

    def feed(self, line: Line, is_last: bool) -> None:
        s = line.text.strip()
        if CRASH.search(s):
            self.failed.append(s)
        if not line.keep:
            return
        if self.table is not None and self.feed_table(line, s, is_last):
            return
        if not s:
            return
        if line.severity in ("ERROR", "FATAL"):
            self.tool_errors.append(s)
            if line.severity == "FATAL":
                self.failed.append(s)
        self.feed_line(line, s, is_last)

    # tables

    def feed_table(self, line: Line, s: str, is_last: bool) -> bool:
        """Handle a line while a table is open; False hands it on to ``feed_line``."""
        table = self.table
        assert table is not None
        if not s:
            self.table = None
            return True
        if any(p.match(s) for p in _MARKERS) or s in (_INIT_SECTION, _RUN_SECTION):
            self.table = None
            return False
        if line.severity is not None:
            return False  # a separate log message interleaved with the table (stderr vs stdout)
        if table.layout is None:
            table.layout = header_layout(s)
            if table.layout is None:
                self.warn(f"'{table.title}' table has no header row; ignored line: {s!r}")
            elif table.field_name is not None:
                expected = "type" if table.field_name == "by_node_type" else "op"
                if table.layout[0] != expected:
                    raise self.ctx.bad(f"header row does not fit the '{table.title}' table", s)
                table.profile.csv = table.layout[1]
            return True
        if table.field_name is None:
            return True
        row = parse_row(self.ctx, table, s)
        if row is not None:
            getattr(table.profile, table.field_name).append(row)
            table.rows += 1
        elif is_last:
            self.warn(f"last line of the '{table.title}' table is incomplete (truncated output?): {s!r}")
            table.profile.truncated = True
        elif row_shaped(s):
            raise self.ctx.bad(f"malformed row in the '{table.title}' table", s)
        else:
            self.warn(f"ignored non-row line inside the '{table.title}' table: {s!r}")
        return True

    def profile(self) -> ProfileTables:
        key = (self.phase, self.graph)
        if key not in self.profiles:
            self.profiles[key] = ProfileTables(phase=self.phase, graph=self.graph)
        return self.profiles[key]

    # everything else

    def feed_line(self, line: Line, s: str, is_last: bool) -> None:
        if self.feed_results_line(s):
            return
        if self.feed_profile_line(s) or self.feed_run_line(s, is_last) or self.feed_memory_line(s):
            return
        if s == "Benchmarking failed.":
            self.failed.append(s)
            return
        if _STARTED.match(s):
            self.started = True
        m = _UNCONSUMED.match(s)
        if m:
            self.log.unconsumed_flags += m["flags"].split()
            self.warn(s)
            return
        m = _REPLACING.search(s)
        if m:
            self.log.delegations.append(Delegation(
                m["delegate"], int(m["replaced"]), int(m["total"]), int(m["partitions"]),
                int(m["index"]) if m["index"] is not None else None, m["name"]))
            self.warn(s)
            return
        m = _PARAM.match(s)
        if m and line.severity not in ("WARN", "WARNING", "ERROR", "FATAL"):
            self.log.params[m["key"]] = m["value"]
            return
        if line.severity in ("WARN", "WARNING", "ERROR", "FATAL"):
            self.warn(f"{line.severity}: {s}")
        elif _NOTEWORTHY.search(s):
            self.warn(s)

    def feed_results_line(self, s: str) -> bool:
        """The LiteRT 2.x "BENCHMARK RESULTS" block (see ``litert_results``)."""
        if litert_results.TITLE.match(s):
            if self.summary_seen:
                raise self.ctx.bad("second timing summary (are several logs concatenated?)", s)
            self.results, self.in_results, self.summary_seen = LiteRtResults(), True, True
            return True
        if not self.in_results:
            return False
        assert self.results is not None
        if litert_results.END.match(s):
            self.in_results = False
        elif not self.results.feed(self.ctx, s) and _NOTEWORTHY.search(s):
            self.warn(s)
        return True

    def feed_profile_line(self, s: str) -> bool:
        ctx = self.ctx
        m = _TITLE.match(s)
        if m:
            title = m["title"]
            self.table = Table(title, self.profile(), TABLE_FIELDS.get(title))
            if self.table.field_name is None:
                self.warn(f"unknown profile table '{title}' ignored")
            return True
        if s in (_INIT_SECTION, _RUN_SECTION):
            self.phase = "init" if s == _INIT_SECTION else "regular"
            self.graph = "primary"
            return True
        m = _PRIMARY.match(s) or _SUBGRAPH.match(s)
        if m:
            self.graph = "primary" if "index" not in m.groupdict() else f"subgraph {m['index']} ({m['name']})"
            return True
        if _DELEGATE_INTERNAL.match(s):
            self.graph = "delegate internal"
            return True
        body = _SUBGRAPH_PREFIX.sub("", s)
        m = _TIMINGS_SUMMARY.match(body)
        if m:
            self.profile().timing_summary = parse_stat(ctx, m["stat"], s)
            return True
        m = _MEMORY_SUMMARY.match(body)
        if m:
            parse_stat(ctx, m["stat"], s)  # validated only: TFLite never records node memory (count=0)
            return True
        m = _NODES_EXECUTED.match(s)
        if m:
            self.profile().nodes_executed = ctx.int_(m["n"], s)
            return True
        m = _NODES_OBSERVED.match(s)
        if m:
            self.profile().nodes_observed = ctx.int_(m["n"], s)
            return True
        return False

    def feed_run_line(self, s: str, is_last: bool) -> bool:
        ctx = self.ctx
        m = _RUN_HEADER.match(s)
        if m:
            ctx.int_(m["n"], s)
            for secs in (m["min_secs"], m["max_secs"]):
                if secs is not None:
                    ctx.num(secs, s)
            if self.pending_header is not None:
                self.failed.append(f"run block without a statistics line: {self.pending_header!r}")
            self.pending_header = s
            self.started = True
            return True
        if s.startswith("count="):
            if is_last and not STAT.match(s):
                self.warn(f"last line is an incomplete statistics line (truncated output?): {s!r}")
                return True
            stats = parse_stat(ctx, s, s)
            if len(self.run_stats) == 2:
                raise ctx.bad("more than two run blocks (benchmark_model prints a warm-up and a regular "
                              "block; are several logs concatenated?)", s)
            self.run_stats.append(stats)
            self.pending_header = None
            return True
        m = _SUMMARY_NEW.match(s) or _SUMMARY_OLD.match(s)
        if m:
            if self.summary_seen:
                raise ctx.bad("second timing summary (are several logs concatenated?)", s)
            self.log.timings_us = {k: ctx.num(v, s) for k, v in m.groupdict().items()}
            self.summary_seen = True
            return True
        m = _MODEL_SIZE.match(s)
        if m:
            self.log.model_size_mb = ctx.num(m["v"], s)
            return True
        m = _INIT_TIME.match(s)
        if m:
            self.log.init_ms = ctx.num(m["v"], s)
            self.started = True
            return True
        return False

    def feed_memory_line(self, s: str) -> bool:
        ctx = self.ctx
        m = _FOOTPRINT.match(s)
        if m:
            self.memory.update(
                footprint_kind="delta" if m["kind"].startswith("Memory") else "peak",
                init_mb=ctx.num(m["init"], s), overall_mb=ctx.num(m["overall"], s))
            return True
        m = _PEAK.match(s)
        if m:
            self.memory["peak_mb"] = ctx.num(m["v"], s)
            return True
        m = _RSS.match(s)
        if m:
            self.memory[_RSS_FIELDS[m["key"]]] = ctx.num(m["v"], s)
            return True
        return False

    def finish(self) -> BenchmarkLog:
        """Apply the failure policy and assemble the result."""
        log = self.log
        if self.pending_header is not None:
            self.failed.append(f"run block without a statistics line: {self.pending_header!r}")
        if self.started and not self.summary_seen:
            self.failed.append("the run started but never printed its 'Inference timings' summary")
        if self.failed:
            detail = list(dict.fromkeys(self.tool_errors + self.failed))
            raise BenchmarkFailedError(f"{self.ctx.source}: benchmark_model failed: {'; '.join(detail[:4])}")
        has_rows = any(p.run_order or p.top_by_time or p.by_node_type for p in self.profiles.values())
        if not (self.run_stats or self.summary_seen or has_rows):
            raise UsageError(f"{self.ctx.source} is not benchmark_model output: no run statistics, timing "
                             "summary or op-profile table found")
        log.warmup = self.run_stats[0] if self.run_stats else None
        log.inference = self.run_stats[1] if len(self.run_stats) > 1 else None
        if self.results is not None:
            log.litert_results = self.results
            log.timings_us = log.timings_us or self.results.timings_us()
            log.warmup = log.warmup or self.results.warmup_stats()
            log.inference = log.inference or self.results.inference_stats()
            self.memory = self.memory or self.results.memory()
        if log.inference is None and "inference_avg" in log.timings_us:
            # A log without statistics lines (a documentation excerpt): the summary's average is all there is.
            log.inference = RunStats(_logged_run_count(log.params), None, None, None, None,
                                     log.timings_us["inference_avg"], None)
            self.warn("the log has no statistics line for the regular runs: latency is the summary's average")
        if self.memory:
            log.memory = MemoryInfo(**self.memory)
        log.op_profile = self.profiles.get(("regular", "primary"))
        log.init_profile = self.profiles.get(("init", "primary"))
        log.other_profiles = [p for k, p in self.profiles.items() if k[1] != "primary"]
        return log


def _logged_run_count(params: dict[str, str]) -> int:
    """The run count the parameter lines name (0: unknown), for logs that print no statistics line."""
    for key in ("Num runs", "Min num runs"):
        if params.get(key, "").isdigit():
            return int(params[key])
    return 0


def parse_benchmark_log(text: str, *, source: str = "benchmark log") -> BenchmarkLog:
    """Parse benchmark_model stdout/stderr (any build, stdout or csv op-profile mode).

    Args:
        text: the captured output; log prefixes, logcat framing and ANSI codes are tolerated.
        source: how error messages name the input (e.g. the log file path).

    Raises:
        BenchmarkFailedError: the log shows a failed, crashed or unfinished run.
        UsageError: nothing recognisable, or a recognised line with malformed numbers.
    """
    parser = _Parser(source)
    parser.feed_text(text)
    return parser.finish()


def parse_op_profile_csv(text: str, *, source: str = "op-profile CSV") -> list[NodeRow]:
    """Rows of the regular runs' "Run Order" table from a ``--op_profiling_output_mode=csv`` file.

    Node names get their commas back (the tool wrote them as TAB). For the other tables and the
    initialization section, pass the same text to ``parse_benchmark_log``.
    """
    parser = _Parser(source)
    parser.feed_text(text)
    profile = parser.profiles.get(("regular", "primary"))
    if profile is None or not profile.csv or not profile.run_order:
        raise UsageError(f"{source} is not a benchmark_model op-profile CSV: no CSV 'Run Order' table "
                         "for the regular runs")
    return list(profile.run_order)

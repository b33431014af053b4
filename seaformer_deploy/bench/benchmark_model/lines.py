"""Reading one benchmark_model log line: log framing removed, numbers and statistics lines parsed strictly."""

from __future__ import annotations

import re
from dataclasses import dataclass

from seaformer_deploy.bench.measures import RunStats
from seaformer_deploy.errors import UsageError

# --- line noise -------------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_LOGCAT_THREADTIME = re.compile(
    r"^(?:\d{4}-)?\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2}\.\d{3}\s+\d+\s+\d+\s+(?P<level>[VDIWEFA])\s+(?P<tag>[^:]*?)\s*: ?"
)
_LOGCAT_BRIEF = re.compile(
    r"^(?:(?:\d{4}-)?\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2}\.\d{3}\s+)?(?P<level>[VDIWEFA])/(?P<tag>[^\s(:]+)\s*"
    r"(?:\(\s*\d+\))?: ?"
)
_GLOG = re.compile(
    r"^(?:[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [^\]]*\] |"
    r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+: [IWEF] [^\]]*\] )"
)
_TIMESTAMP = re.compile(
    r"^\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?:? ?"
)
_SEVERITY = re.compile(r"^(?P<sev>INFO|WARN|WARNING|ERROR|FATAL|VERBOSE): ?")
# LiteRT's logger puts the source location after the severity: "INFO: [litert/tools/x.h:81] message".
_SOURCE_LOCATION = re.compile(r"^\[[\w./+-]+\.(?:h|cc|c|cpp):\d+\] ?")
# Logs pasted from documents carry the page's indentation (spaces or TABs) before every prefix.
_INDENT = re.compile(r"^[ \t]+")
_LOGCAT_SEVERITY = {"W": "WARN", "E": "ERROR", "F": "FATAL", "A": "FATAL"}
_TFLITE_TAGS = ("tflite", "litert", "benchmark")
CRASH = re.compile(
    r"^(?:Segmentation fault|Aborted|Illegal instruction|Bus error|Killed|Floating point exception)\b"
    r"|CANNOT LINK EXECUTABLE|Fatal signal \d+"
    r"|^(?:/system/bin/)?(?:sh|bash): .*(?:not found|Permission denied|No such file or directory)$"
)


@dataclass(frozen=True)
class Line:
    text: str
    severity: str | None
    keep: bool


def clean_line(raw: str) -> Line:
    """Strip _ANSI codes, indentation and log prefixes; ``keep`` is False for logcat lines of unrelated tags.

    Indentation before a prefix is dropped with it; a line without a prefix keeps its leading white space
    (table rows are matched with it).
    """
    text = _ANSI.sub("", raw).replace("\r", "")
    indent = _INDENT.match(text)
    if indent and _has_prefix(text[indent.end():]):
        text = text[indent.end():]
    severity = None
    keep = True
    logcat = _LOGCAT_THREADTIME.match(text) or _LOGCAT_BRIEF.match(text)
    if logcat:
        text = text[logcat.end():]
        severity = _LOGCAT_SEVERITY.get(logcat["level"])
        keep = logcat["tag"].strip().lower().startswith(_TFLITE_TAGS)
    else:
        prefix = _GLOG.match(text) or _TIMESTAMP.match(text)
        if prefix:
            text = text[prefix.end():]
    tagged = _SEVERITY.match(text)
    if tagged:
        text = text[tagged.end():]
        severity = tagged["sev"]
        located = _SOURCE_LOCATION.match(text)
        if located:
            text = text[located.end():]
    return Line(text, severity, keep)


def _has_prefix(text: str) -> bool:
    return any(p.match(text) for p in (_LOGCAT_THREADTIME, _LOGCAT_BRIEF, _GLOG, _TIMESTAMP, _SEVERITY))


# --- numbers ----------------------------------------------------------------------------------------------

NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf"
NUM_RE = re.compile(rf"(?:{NUM})")


class LineContext:
    """Names the input and the line in error messages."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.line_no = 0

    def bad(self, what: str, line: str) -> UsageError:
        return UsageError(f"{self.source}, line {self.line_no}: {what}: {line.strip()!r}")

    def num(self, token: str, line: str) -> float:
        token = token.strip()
        if not NUM_RE.fullmatch(token):
            raise self.bad(f"bad number {token!r}", line)
        return float(token)

    def int_(self, token: str, line: str) -> int:
        token = token.strip()
        if not re.fullmatch(r"-?\d+", token):
            raise self.bad(f"bad integer {token!r}", line)
        return int(token)


STAT = re.compile(
    rf"^count=(?P<count>\d+)"
    rf"(?: first=(?P<first>{NUM}) curr=(?P<curr>{NUM}) min=(?P<min>{NUM}) max=(?P<max>{NUM})"
    rf" avg=(?P<avg>{NUM}) std=(?P<std>{NUM})"
    rf"| curr=(?P<same>{NUM})(?P<all_same>\(all same\))?)?"
    rf"(?: p5=(?P<p5>{NUM}) median=(?P<median>{NUM}) p95=(?P<p95>{NUM}))?\s*$"
)
# avg is printed with 6 significant digits and may round just past min or max.
_AVG_ROUNDING = 1e-5


def parse_stat(ctx: LineContext, text: str, line: str) -> RunStats:
    """Parse a Stat::OutputToStream string, checking it is one the tool can print."""
    m = STAT.match(text.strip())
    if not m:
        raise ctx.bad("malformed statistics", line)
    count = int(m["count"])
    if count == 0:
        if m["first"] or m["same"]:
            raise ctx.bad("count=0 with values", line)
        return RunStats(0, None, None, None, None, None, None)
    if m["same"] is not None:
        if (count > 1) != bool(m["all_same"]):
            raise ctx.bad("'(all same)' must follow curr= exactly when count > 1", line)
        first = curr = lo = hi = avg = float(m["same"])
        std = 0.0
    elif m["first"] is None:
        raise ctx.bad(f"count={count} without values", line)
    else:
        first, curr, lo, hi, avg, std = (float(m[k]) for k in ("first", "curr", "min", "max", "avg", "std"))
        if count < 2 or not lo < hi:
            raise ctx.bad("inconsistent statistics (the tool prints curr= alone when all values are equal)", line)
    slack = _AVG_ROUNDING * max(abs(lo), abs(hi))
    ranked = [lo] + [float(m[k]) for k in ("p5", "median", "p95") if m[k] is not None] + [hi]
    consistent = (
        lo <= first <= hi and lo <= curr <= hi and lo - slack <= avg <= hi + slack and std >= 0
        and ranked == sorted(ranked)
    )
    if not consistent:
        raise ctx.bad("inconsistent statistics", line)
    median, p5, p95 = (float(m[k]) if m[k] is not None else None for k in ("median", "p5", "p95"))
    return RunStats(count, first, curr, lo, hi, avg, std, median_us=median, p5_us=p5, p95_us=p95)


"""The profile tables of benchmark_model (Run Order, Top by ..., Summary by node type): header layouts and rows.

Rows are TAB-aligned (stdout mode), space-aligned (pasted from a terminal) or CSV (csv mode, where commas in
node names were replaced by TAB); older builds have an extra "[start]" column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seaformer_deploy.bench.benchmark_model.lines import NUM, LineContext
from seaformer_deploy.bench.benchmark_model.log import NodeRow, NodeTypeRow, ProfileTables

TABLE_FIELDS = {
    "Run Order": "run_order",
    "Top by Computation Time": "top_by_time",
    "Top by Memory Use": "top_by_memory",
    "Summary by node type": "by_node_type",
}


def _op_row_re(csv: bool, has_start: bool) -> re.Pattern[str]:
    sep = r",\s*" if csv else r"\s+"
    start = rf"(?P<start>{NUM}){sep}" if has_start else ""
    name = rf"{sep}(?P<name>.*?)" if csv else r"(?:\s+(?P<name>.*?))?"
    return re.compile(
        rf"^\s*(?P<type>\S.*?){sep}{start}(?P<first>{NUM}){sep}(?P<avg>{NUM}){sep}(?P<pct>{NUM})%{sep}"
        rf"(?P<cdf>{NUM})%{sep}(?P<mem>{NUM}){sep}(?P<times>-?\d+){name}\s*$"
    )


def _type_row_re(csv: bool) -> re.Pattern[str]:
    sep = r",\s*" if csv else r"\s+"
    return re.compile(
        rf"^\s*(?P<type>\S.*?){sep}(?P<count>\d+){sep}(?P<avg>{NUM}){sep}(?P<pct>{NUM})%{sep}"
        rf"(?P<cdf>{NUM})%{sep}(?P<mem>{NUM}){sep}(?P<times>-?\d+)\s*$"
    )


ROW_PATTERNS = {
    (kind, csv, start): (_op_row_re(csv, start) if kind == "op" else _type_row_re(csv))
    for kind in ("op", "type") for csv in (False, True) for start in (False, True)
}


@dataclass
class Table:
    title: str
    profile: ProfileTables
    field_name: str | None
    layout: tuple[str, bool, bool] | None = None  # (kind, csv, has_start) once the header row was seen
    rows: int = 0


def header_layout(text: str) -> tuple[str, bool, bool] | None:
    s = text.strip()
    if s.startswith("[node type]"):
        return "op", False, "[start]" in s
    if s.startswith("[Node type]"):
        return "type", False, False
    if s.startswith("node type, count,"):
        return "type", True, False
    if s.startswith("node type,"):
        return "op", True, re.search(r",\s*start\s*,", s) is not None
    return None


def row_shaped(text: str) -> bool:
    return len(re.findall(r"\S%(?=\s|,|$)", text)) >= 2


def parse_row(ctx: LineContext, table: Table, s: str) -> NodeRow | NodeTypeRow | None:
    """One data row of ``table`` (None when ``s`` is not one), numbers parsed strictly."""
    assert table.layout is not None
    kind, csv, has_start = table.layout
    m = ROW_PATTERNS[(kind, csv, has_start)].match(s)
    if m is None:
        return None
    num, int_ = ctx.num, ctx.int_
    if kind == "type":
        return NodeTypeRow(m["type"].strip(), int_(m["count"], s), num(m["avg"], s), num(m["pct"], s),
                           num(m["cdf"], s), num(m["mem"], s), int_(m["times"], s))
    name = (m["name"] or "").strip()
    if csv:
        name = name.replace("\t", ",")
    return NodeRow(m["type"].strip(), num(m["start"], s) if has_start else None, num(m["first"], s),
                   num(m["avg"], s), num(m["pct"], s), num(m["cdf"], s), num(m["mem"], s),
                   int_(m["times"], s), name)


"""The ending every benchmark script shares: print its table, write its JSON atomically, say where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from seaformer_deploy.fileio import ensure_writable_dir, write_json_atomic


def publish(console: Console, table: Table, output: Path, benchmark: str, rows: list[dict[str, Any]]) -> None:
    console.print(table)
    ensure_writable_dir(output.parent)
    write_json_atomic(output, {"benchmark": benchmark, "rows": rows})
    console.print(f"wrote {output}")

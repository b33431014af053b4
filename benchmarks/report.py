"""What every benchmark script shares: a console free of third-party logs, and its ending (print its table,
write its JSON atomically, say where)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from seaformer_deploy.cli.quiet import LOG_NAME, third_party_output_to
from seaformer_deploy.fileio import ensure_writable_dir, write_json_atomic

# Piped into a log (``make perf | tee``), rich would wrap wide tables at 80 columns; the tables are the output.
_PIPED_WIDTH = 200


def benchmark_console() -> Console:
    """The console a benchmark prints to: the terminal's width, or wide enough for its tables when piped."""
    return Console() if sys.stdout.isatty() else Console(width=_PIPED_WIDTH)


def quiet(main: Callable[..., None]) -> Callable[..., None]:
    """Run a benchmark's ``main(..., output=PATH)`` with third-party output (LiteRT, TensorFlow, torch logs) sent
    to ``third-party.log`` beside ``PATH``, as the commands do without ``--verbose``."""

    @functools.wraps(main)
    def run(*args: Any, output: Path, **kwargs: Any) -> None:
        with third_party_output_to(output.parent / LOG_NAME):
            main(*args, output=output, **kwargs)

    return run


def publish(console: Console, table: Table, output: Path, benchmark: str, rows: list[dict[str, Any]]) -> None:
    console.print(table)
    ensure_writable_dir(output.parent)
    write_json_atomic(output, {"benchmark": benchmark, "rows": rows})
    console.print(f"wrote {output}")

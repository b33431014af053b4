"""What every command shares: typed errors become one line on stderr with our exit codes.

Heavy libraries (torch, converters, runtimes) are imported inside the command bodies so ``--help`` is instant.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from seaformer_deploy.cli.quiet import LOG_NAME, third_party_output_to
from seaformer_deploy.errors import SeaformerError, first_line

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"auto_envvar_prefix": "SEAFORMER", "help_option_names": ["-h", "--help"]}
EXIT_INTERRUPTED = 130


class ToolError(click.ClickException):
    """A library error shown as ``error: <message>`` with the library's exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def debug_option(function: F) -> F:
    """``--debug``: show tracebacks instead of one-line errors; ``--verbose``: show third-party logs too."""
    function = click.option("--verbose", is_flag=True, envvar="SEAFORMER_VERBOSE",
                            help=f"Show third-party libraries' logs on the console [default: OUTPUT_DIR/{LOG_NAME}].")(
        function)
    return click.option("--debug", is_flag=True, help="Show full tracebacks on errors.", envvar="SEAFORMER_DEBUG")(
        function
    )


def _third_party_output(verbose: bool, output_dir: Path | None,
                        loads_torch: bool) -> contextlib.AbstractContextManager[object]:
    """Where third-party output goes while a command runs: the console with ``--verbose``, else a log file."""
    if verbose:
        return contextlib.nullcontext()
    return third_party_output_to(Path(output_dir or "build") / LOG_NAME, loads_torch=loads_torch)


def _apply(function: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        function = option(function)
    return function


def bench_device_options(function: F) -> F:
    """The options every bench command that measures shares: where (``--device``, ``--adb``,
    ``--benchmark-binary``), where the reports go, and ``--allow-unstable``.

    ``device``, ``adb`` and ``benchmark_binary`` are named as the ``BenchOptions`` fields they set.
    """
    return _apply(function, [
        click.option("--device", default="local", show_default=True,
                     help="local, adb (the only phone), adb:SERIAL, adb:SERIAL1,SERIAL2 or adb:all "
                          "(phones in parallel, one report each plus a combined table)."),
        click.option("--adb", help="adb executable [default: $ADB, PATH, then adbutils' bundled adb]."),
        click.option("--benchmark-binary", envvar="SEAFORMER_BENCHMARK_MODEL",
                     help="benchmark_model for the phone [env: SEAFORMER_BENCHMARK_MODEL]."),
        click.option("--allow-unstable", is_flag=True, help="Exit 0 even when a measurement is inconclusive."),
        output_dir_option(Path("build/bench")),
    ])


def output_dir_option(default: Path) -> Callable[[F], F]:
    """``--output-dir`` (a folder) with ``default``."""
    return click.option("--output-dir", default=default, show_default=True,
                        type=click.Path(file_okay=False, path_type=Path))


def handle_errors(function: F | None = None, *, loads_torch: bool = True) -> Any:
    """Turn library errors, interrupts and unexpected failures into one line and an exit code.

    ``@handle_errors(loads_torch=False)`` marks a command that never imports torch, so quiet mode does not either.
    """
    if function is None:
        return functools.partial(handle_errors, loads_torch=loads_torch)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = kwargs.get("debug", False)
        verbose = kwargs.pop("verbose", False)
        try:
            with _third_party_output(verbose, kwargs.get("output_dir"), loads_torch):
                return function(*args, **kwargs)
        except SeaformerError as exc:
            if debug:
                raise
            raise ToolError(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            click.echo("error: interrupted; no partial artifact was kept", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except Exception as exc:
            if debug:
                raise
            raise ToolError(f"{type(exc).__name__}: {first_line(exc)} (rerun with --debug for details)", 1) from None

    return wrapper  # type: ignore[return-value]

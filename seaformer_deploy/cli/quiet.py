"""Third-party output goes to a log file unless ``--verbose``: the console shows this tool's output only.

Native libraries (LiteRT, TensorFlow, XNNPACK, absl) write straight to file descriptor 2, below anything Python
can filter. So quiet mode points descriptor 2 at the log file for the whole command and hands Python's
``sys.stderr`` a duplicate of the original descriptor: everything this tool writes through Python (click, rich,
its own warnings) still reaches the console. Python-level noise is routed by origin: warnings whose category is
not this package's, and the records of third-party loggers (torch's own handler included), go to the same file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from seaformer_deploy.fileio import ensure_writable_dir

LOG_NAME = "third-party.log"
# Top-level loggers of the libraries the commands drive; torch's own handler is re-pointed separately.
_THIRD_PARTY_LOGGERS = ("torch", "torchao", "absl", "tensorflow", "litert_torch", "ai_edge_litert",
                        "ai_edge_quantizer", "onnx", "onnxscript", "onnx_ir", "onnxruntime", "jax", "matplotlib")
_OWN_PACKAGE = "seaformer_deploy"


def _is_own(category: type[Warning]) -> bool:
    return category.__module__.split(".")[0] == _OWN_PACKAGE


@contextlib.contextmanager
def third_party_output_to(log_path: Path, *, loads_torch: bool = True) -> Iterator[Path]:
    """Send third-party output (native and Python) to ``log_path`` while the block runs.

    ``loads_torch=False`` is for commands that never import torch (the report tool): they skip importing it here
    just to re-point its log handler.

    A log that stayed empty is removed afterwards, with its folder if this call created it, so a command that
    wrote nothing leaves nothing behind.
    """
    created_dir = not log_path.parent.exists()
    ensure_writable_dir(log_path.parent)  # a bad --output-dir is the command's usage error (exit 2), said once
    sys.stdout.flush()
    sys.stderr.flush()
    log = open(log_path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 (closed in finally)
    saved_stderr, saved_showwarning = sys.stderr, warnings.showwarning
    saved_fd = os.dup(2)
    # Our console keeps writing where it wrote: to a duplicate of descriptor 2 when sys.stderr is that
    # descriptor, else to sys.stderr itself (a test runner's capture, say).
    terminal: TextIO = (io.TextIOWrapper(os.fdopen(os.dup(saved_fd), "wb", buffering=0), encoding="utf-8",
                                         errors="backslashreplace", line_buffering=True, write_through=True)
                        if _writes_to_fd2(saved_stderr) else saved_stderr)
    os.dup2(log.fileno(), 2)
    sys.stderr = terminal
    handler = logging.StreamHandler(log)
    routed = _route_loggers(handler, log, saved_stderr, loads_torch=loads_torch)

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        if _is_own(category):
            terminal.write(f"warning: {message}\n")
        else:
            log.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show
    try:
        yield log_path
    finally:
        warnings.showwarning = saved_showwarning
        for logger, propagate, stream_handlers in routed:
            logger.removeHandler(handler)
            logger.propagate = propagate
            for torch_handler, stream in stream_handlers:
                torch_handler.setStream(stream)
        terminal.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        sys.stderr = saved_stderr
        if terminal is not saved_stderr:
            terminal.close()
        log.close()
        _remove_if_empty(log_path, created_dir)


def _remove_if_empty(log_path: Path, created_dir: bool) -> None:
    if log_path.stat().st_size == 0:
        log_path.unlink()
        if created_dir and not any(log_path.parent.iterdir()):
            log_path.parent.rmdir()


def _writes_to_fd2(stream: TextIO) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


def _route_loggers(handler: logging.Handler, log: TextIO, saved: TextIO, *,
                   loads_torch: bool) -> list[tuple[logging.Logger, bool, list[Any]]]:
    # torch installs its own StreamHandler on the "torch" logger when it is imported; import it now so that
    # handler exists and can be pointed at the log (it would otherwise write to the console).
    if loads_torch:
        import torch  # noqa: F401

    routed = []
    for name in _THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        streams = [(h, h.setStream(log)) for h in logger.handlers
                   if type(h) is logging.StreamHandler and h.stream in (sys.__stderr__, sys.stderr, saved)]
        routed.append((logger, logger.propagate, [(h, s) for h, s in streams if s is not None]))
        if not streams:
            logger.addHandler(handler)
        logger.propagate = False
    return routed

"""Typed errors with the exit codes of the command-line contract (docs/design.md, "Exit codes").

The library raises these; the CLI turns each into one line on stderr and the matching exit code.
"""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (its type name when the message is empty): what a
    one-line error shows of a third-party failure."""
    return next(iter(str(exc).strip().splitlines()), "") or type(exc).__name__


class SeaformerError(Exception):
    """Base class: every error the toolkit raises on purpose carries an exit code."""

    exit_code: int = 2


class UsageError(SeaformerError):
    """Bad usage or input: unknown variant, bad size, wrong checkpoint, empty dataset (exit 2)."""

    exit_code = 2


class CheckFailedError(SeaformerError):
    """The thing checked failed: parity, strict lint, a regression (exit 1)."""

    exit_code = 1


class DeviceError(SeaformerError):
    """The device cannot be used: missing adb, unauthorized, offline, disconnected (exit 2)."""

    exit_code = 2


class InconclusiveError(SeaformerError):
    """The measurement is too noisy or throttled to support a verdict (exit 3)."""

    exit_code = 3

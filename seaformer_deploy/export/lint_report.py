"""The outcome of a lint run: one ``Finding`` per rule, the ``Skip``s, and the console table of both."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rich.markup import escape
from rich.table import Table

Status = Literal["PASS", "WARN", "FAIL"]
_MAX_TABLE_NODES = 3


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule, with the names of the nodes (or tensors) that violate it."""

    rule: str
    status: Status
    message: str
    nodes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Skip:
    """A rule that does not apply to this graph or lacks its input."""

    rule: str
    reason: str


@dataclass
class LintReport:
    """All findings of one lint run, plus the rules that were skipped and why."""

    findings: list[Finding]
    skipped: list[Skip] = field(default_factory=list)

    def ok(self, strict: bool = False) -> bool:
        """No FAIL; with `strict`, no WARN either."""
        bad = {"FAIL", "WARN"} if strict else {"FAIL"}
        return not any(finding.status in bad for finding in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok(strict=False),
            "ok_strict": self.ok(strict=True),
            "findings": [asdict(finding) for finding in self.findings],
            "skipped": [asdict(skip) for skip in self.skipped],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LintReport:
        """Inverse of :meth:`to_dict` (the ``ok`` fields are derived, not read)."""
        return cls(findings=[Finding(**finding) for finding in data["findings"]],
                   skipped=[Skip(**skip) for skip in data["skipped"]])

    def render_table(self) -> Table:
        """A console table: one row per rule, offending nodes abbreviated."""
        table = Table(title="Graph lint", show_lines=False)
        table.add_column("rule", style="bold", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("message")
        table.add_column("nodes", overflow="fold")
        styles = {"PASS": "green", "WARN": "yellow", "FAIL": "bold red"}
        for finding in self.findings:
            shown = finding.nodes[:_MAX_TABLE_NODES]
            if len(finding.nodes) > len(shown):
                shown.append(f"... (+{len(finding.nodes) - len(shown)} more)")
            status = f"[{styles[finding.status]}]{finding.status}[/]"
            # Tensor names may contain brackets, which rich would read as markup.
            table.add_row(finding.rule, status, escape(finding.message), escape("\n".join(shown)))
        for skip in self.skipped:
            table.add_row(skip.rule, "[dim]SKIP[/]", f"[dim]{escape(skip.reason)}[/]", "")
        return table

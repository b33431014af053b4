"""The result of a parity check (rows per input, summaries, the gate and its verdict), as the export report holds it.

Kept apart from ``parity`` (which runs PyTorch) so that reading an export report imports no torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ParityRow:
    kind: str
    name: str
    max_abs: float | None
    rel_l2: float | None
    argmax_agreement: float
    top2_margin_median: float | None = None
    class_spread_median: float | None = None
    error_rms: float | None = None


@dataclass(frozen=True)
class ParitySummary:
    """Over a set of inputs: the worst max abs and rel L2 errors, the worst and the mean argmax agreement."""

    max_abs: float | None
    rel_l2: float | None
    argmax_agreement: float | None
    mean_argmax_agreement: float | None


@dataclass
class ParityResult:
    quantization: str
    output_mode: str
    rows: list[ParityRow] = field(default_factory=list)
    gate: dict[str, Any] = field(default_factory=dict)
    passed: bool = False
    reason: str = ""

    def summary(self, kind: str | None = None) -> ParitySummary:
        """Worst errors and agreements over the rows of ``kind`` (``random``, ``image``; None for all)."""
        rows = [r for r in self.rows if kind is None or r.kind == kind]
        if not rows:
            return ParitySummary(None, None, None, None)
        numeric = [r for r in rows if r.rel_l2 is not None]
        return ParitySummary(
            max_abs=max((r.max_abs for r in numeric), default=None),
            rel_l2=max((r.rel_l2 for r in numeric), default=None),
            argmax_agreement=min(r.argmax_agreement for r in rows),
            mean_argmax_agreement=sum(r.argmax_agreement for r in rows) / len(rows),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantization": self.quantization,
            "output_mode": self.output_mode,
            "passed": self.passed,
            "reason": self.reason,
            "gate": self.gate,
            "all_inputs": asdict(self.summary()),
            "random_inputs": asdict(self.summary("random")),
            "image_inputs": asdict(self.summary("image")),
            "per_input": [asdict(r) for r in self.rows],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParityResult:
        """Inverse of :meth:`to_dict` (the summaries are derived from the rows, not read)."""
        return cls(quantization=data["quantization"], output_mode=data["output_mode"],
                   rows=[ParityRow(**row) for row in data["per_input"]], gate=dict(data["gate"]),
                   passed=bool(data["passed"]), reason=str(data["reason"]))

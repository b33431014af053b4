"""``CheckpointInfo``: where a model's weights came from, copied into every report (torch-free, so reports
can be read without torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seaformer_deploy.model_facts import WeightSource


@dataclass
class CheckpointInfo:
    """Where the weights came from; copied into every report written later."""

    source: WeightSource
    path: str | None = None
    sha256: str | None = None
    layout: str | None = None
    num_classes: int | None = None
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    state_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.value,
            "path": self.path,
            "sha256": self.sha256,
            "state_sha256": self.state_sha256,
            "layout": self.layout,
            "num_classes": self.num_classes,
            "missing_keys": self.missing,
            "warnings": self.warnings,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointInfo:
        """Inverse of :meth:`to_dict`."""
        return cls(source=WeightSource(data["source"]), path=data["path"], sha256=data["sha256"],
                   layout=data["layout"], num_classes=data["num_classes"], missing=list(data["missing_keys"]),
                   warnings=list(data["warnings"]), state_sha256=data["state_sha256"])

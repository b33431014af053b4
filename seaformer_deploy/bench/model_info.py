"""What a benchmark needs to know about a model file: the facts embedded at export and its export report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seaformer_deploy.bench.report import ReportedModel
from seaformer_deploy.errors import UsageError
from seaformer_deploy.export.metadata import read_model_facts
from seaformer_deploy.fileio import sha256_file
from seaformer_deploy.model_facts import EXPORT_SCHEMA, ModelFacts, WeightSource
from seaformer_deploy.runtime import MODEL_SUFFIXES
from seaformer_deploy.schema import check_schema

# The part of the export report a bench report repeats, so it stands on its own.
_EXPORT_REPORT_EXCERPT = ("ok", "quantization", "params", "macs", "op_histogram", "delegation", "parity", "weights",
                          "tool_versions", "export_seconds")


@dataclass
class ModelInfo:
    """A model file with its embedded facts (variant, size, layout, normalization...) and export report.

    The export report stays in its JSON form (schema checked): the bench report repeats part of it, and only
    ``--reference``, which loads PyTorch anyway, reads it as an ``ExportReport`` (whose import loads torch).
    """

    path: Path
    sha256: str
    facts: ModelFacts
    export_report: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".")

    def reported(self) -> ReportedModel:
        """The report's ``model`` section."""
        report = self.export_report
        return ReportedModel(
            path=str(self.path), file=self.path.name, format=self.format, bytes=self.path.stat().st_size,
            sha256=self.sha256, facts=self.facts,
            export_report={key: report.get(key) for key in _EXPORT_REPORT_EXCERPT} if report else None)


def load_model_info(path: str | Path) -> ModelInfo:
    """Read ``path``'s embedded facts and the ``<model file>.json`` export report beside it (when present).

    A missing, truncated or corrupt model file, or one without our metadata, is one ``UsageError`` (exit 2).
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"model file {path} does not exist")
    if path.suffix not in MODEL_SUFFIXES:
        raise UsageError(f"model file {path} has an unknown type: expected one of {', '.join(MODEL_SUFFIXES)}")
    facts = read_model_facts(path)
    if facts is None:
        raise UsageError(f"{path} carries no seaformer-deploy metadata: export it with seaformer-export")
    report_path = path.with_name(f"{path.name}.json")
    report = _read_export_report(report_path) if report_path.is_file() else None
    info = ModelInfo(path=path, sha256=sha256_file(path), facts=facts, export_report=report)
    if facts.weights is WeightSource.RANDOM:
        info.warnings.append(
            f"{path.name} was exported with RANDOM weights: latency is meaningful, accuracy is not"
        )
    elif facts.weights is WeightSource.DEMO:
        info.warnings.append(
            f"{path.name} was exported with DEMO weights (trained on synthetic scenes): its accuracy means "
            "something on the demo dataset only"
        )
    if report is None:
        info.warnings.append(f"no export report {report_path.name} beside the model; using embedded facts only")
    return info


def _read_export_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"export report {path} is not readable JSON: {exc}") from None
    return check_schema(data, EXPORT_SCHEMA, f"export report {path}")

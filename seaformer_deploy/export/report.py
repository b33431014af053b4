"""``ExportReport``: the typed export report (``<model file>.json``) and ``ExportResult``, what ``export`` returns.

The report opens with the model's facts (the same JSON embedded in the model file) and adds what the export
measured and decided. ``to_dict`` is the file's content; ``from_dict`` reads one back, checking its schema
version first, so the CLIs and later tools read attributes instead of string keys.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, TypeVar

from seaformer_deploy.errors import CheckFailedError
from seaformer_deploy.export.delegation import DelegateInfo
from seaformer_deploy.export.lint_report import LintReport
from seaformer_deploy.export.options import ExportOptions
from seaformer_deploy.export.parity_report import ParityResult
from seaformer_deploy.export.quantize.common import QuantizationInfo
from seaformer_deploy.model_facts import EXPORT_SCHEMA, ModelFacts
from seaformer_deploy.schema import SchemaError, check_schema, read_json_document
from seaformer_deploy.weights.provenance import CheckpointInfo

T = TypeVar("T")
_TOOLS = ("seaformer-deploy", "torch", "litert-torch", "ai-edge-litert", "ai-edge-quantizer", "onnx",
          "onnxruntime", "onnxsim", "numpy")


@dataclass(frozen=True)
class Artifact:
    """The model file: its name (None when the export failed and wrote no model), format, size, report name."""

    file: str | None
    format: str
    bytes: int
    report: str


@dataclass(frozen=True)
class HowToRun:
    """What to feed the model and how to read its output, in words a third party can follow."""

    input: str
    output: str


@dataclass(frozen=True)
class HostInfo:
    """The machine that exported: architecture, operating system and the threads torch ran with."""

    machine: str
    system: str
    torch_threads: int

    @classmethod
    def this_host(cls, torch_threads: int) -> HostInfo:
        return cls(machine=platform.machine(), system=platform.system(), torch_threads=torch_threads)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostInfo:
        return cls(machine=str(data["machine"]), system=str(data["system"]),
                   torch_threads=int(data["torch_threads"]))


@dataclass
class ExportReport:
    """Everything one export found out; the JSON report is ``to_dict()``."""

    facts: ModelFacts
    ok: bool
    failures: list[str]
    artifact: Artifact
    how_to_run: HowToRun
    weights: CheckpointInfo
    params: int
    macs: int
    macs_by_op: dict[str, int]
    op_histogram: dict[str, int]
    delegation: DelegateInfo | None
    lint: LintReport
    parity: ParityResult
    parity_images: str
    quantization_details: QuantizationInfo | None
    options: ExportOptions
    tool_versions: dict[str, str]
    host: HostInfo
    timings_s: dict[str, float]
    export_seconds: float
    converter_log_tail: list[str]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.facts.to_dict(),
            "ok": self.ok,
            "failures": self.failures,
            "artifact": asdict(self.artifact),
            "how_to_run": asdict(self.how_to_run),
            "weights": self.weights.to_dict(),
            "params": self.params,
            "macs": self.macs,
            "macs_by_op": self.macs_by_op,
            "op_histogram": self.op_histogram,
            "delegation": None if self.delegation is None else self.delegation.to_dict(),
            "lint": self.lint.to_dict(),
            "parity": {**self.parity.to_dict(), "images": self.parity_images},
            "quantization_details": None if self.quantization_details is None else self.quantization_details.to_dict(),
            "options": asdict(self.options),
            "tool_versions": self.tool_versions,
            "host": self.host.to_dict(),
            "timings_s": self.timings_s,
            "export_seconds": self.export_seconds,
            "converter_log_tail": self.converter_log_tail,
            "warnings": self.warnings,
        }

    @classmethod
    def from_dict(cls, data: object, what: str = "export report") -> ExportReport:
        """Inverse of :meth:`to_dict`; another schema version or a malformed report is one ``SchemaError``."""
        report = check_schema(data, EXPORT_SCHEMA, what)
        facts = ModelFacts.from_dict(report, what)
        try:
            return cls(
                facts=facts,
                ok=bool(report["ok"]),
                failures=list(report["failures"]),
                artifact=Artifact(**report["artifact"]),
                how_to_run=HowToRun(**report["how_to_run"]),
                weights=CheckpointInfo.from_dict(report["weights"]),
                params=report["params"],
                macs=report["macs"],
                macs_by_op=dict(report["macs_by_op"]),
                op_histogram=dict(report["op_histogram"]),
                delegation=_optional(report["delegation"], DelegateInfo.from_dict),
                lint=LintReport.from_dict(report["lint"]),
                parity=ParityResult.from_dict(report["parity"]),
                parity_images=str(report["parity"]["images"]),
                quantization_details=_optional(report["quantization_details"], QuantizationInfo.from_dict),
                options=ExportOptions(**report["options"]),
                tool_versions=dict(report["tool_versions"]),
                host=HostInfo.from_dict(report["host"]),
                timings_s=dict(report["timings_s"]),
                export_seconds=float(report["export_seconds"]),
                converter_log_tail=list(report["converter_log_tail"]),
                warnings=list(report["warnings"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(
                f"{what} is a malformed {EXPORT_SCHEMA} document ({type(exc).__name__}: {exc})"
            ) from None

    @classmethod
    def read(cls, path: str | Path) -> ExportReport:
        """Read and check the export report at ``path``."""
        return cls.from_dict(read_json_document(Path(path), "export report"), str(path))


def _optional(data: Any, parse: Callable[[Any], T]) -> T | None:
    return None if data is None else parse(data)


@dataclass
class ExportResult:
    """What ``export`` produced: the model path (None when it failed), the report and its path."""

    ok: bool
    model_path: Path | None
    report_path: Path
    report: ExportReport

    def summary(self) -> dict[str, Any]:
        """The machine-readable summary ``seaformer-export --json`` prints."""
        report = self.report
        return {
            "ok": self.ok, "model": str(self.model_path) if self.model_path else None,
            "report": str(self.report_path), "parity": report.parity.gate,
            "lint": {finding.rule: finding.status for finding in report.lint.findings},
            "bytes": report.artifact.bytes, "export_seconds": report.export_seconds, "warnings": report.warnings,
        }


def raise_for_result(result: ExportResult) -> None:
    """Turn a failed export into a ``CheckFailedError`` naming why and where the report is."""
    if not result.ok:
        raise CheckFailedError(f"{'; '.join(result.report.failures)} (report: {result.report_path})")


def tool_versions() -> dict[str, str]:
    """Versions of the tools that shaped the artifact, for the report."""
    versions = {"python": platform.python_version()}
    for name in _TOOLS:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def output_description(task: str, output_mode: str, layout: str, hw: tuple[int, int], classes: int) -> str:
    """How to read the model's output, for the report's ``how_to_run``."""
    if task == "cls":
        return f"[1, {classes}] class logits"
    if output_mode == "labels":
        return f"[1, {hw[0]}, {hw[1]}] int32 class ids at the input size"
    h, w = (hw[0] // 8, hw[1] // 8) if output_mode == "logits" else hw
    shape = f"[1, {h}, {w}, {classes}]" if layout == "nhwc" else f"[1, {classes}, {h}, {w}]"
    scale = "1/8 of the input" if output_mode == "logits" else "the input size"
    return (f"{shape} float logits at {scale}; to evaluate like mmseg resize them bilinearly "
            "(align_corners=False) to the label size and take the argmax")

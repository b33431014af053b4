"""``BenchReport``: the typed bench report (``<model file>.<device>.bench.json``; schema in docs/bench-report.md).

``to_dict`` is the file's content; ``from_dict`` reads one back after the one schema-version check, so the CLI
and the report tools read attributes, not string keys. This module imports neither torch nor a runtime, so a
tool comparing two reports loads them quickly.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from seaformer_deploy.bench.attribution import ModuleTable
from seaformer_deploy.bench.measures import LatencySummary, Launch, OpProfile, OpTotal
from seaformer_deploy.fileio import write_json_atomic
from seaformer_deploy.model_facts import ModelFacts
from seaformer_deploy.schema import SchemaError, check_schema, read_json_document

BENCH_SCHEMA = "seaformer-deploy/bench-report@1"


@dataclass(frozen=True)
class ReportedModel:
    """The benchmarked model file: where, how big, its hash, its embedded facts and part of its export report.

    A log imported without our model knows only what the log names: ``path`` is the graph it logged (or None),
    and ``format``, ``bytes``, ``sha256`` and ``facts`` are None.
    """

    path: str | None
    file: str
    format: str | None
    bytes: int | None
    sha256: str | None
    facts: ModelFacts | None
    export_report: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "file": self.file, "format": self.format, "bytes": self.bytes,
                "sha256": self.sha256, "facts": None if self.facts is None else self.facts.to_dict(),
                "export_report": self.export_report}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportedModel:
        facts = data["facts"]
        return cls(path=data["path"], file=data["file"], format=data["format"], bytes=data["bytes"],
                   sha256=data["sha256"],
                   facts=None if facts is None else ModelFacts.from_dict(facts, "the report's model facts"),
                   export_report=data["export_report"])


@dataclass(frozen=True)
class DeviceSection:
    """``spec`` as given on the command line and the device's fingerprint (its fields depend on the device)."""

    spec: str
    fingerprint: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        return self.fingerprint.get("kind")

    @property
    def description(self) -> str | None:
        """The phone model or the host CPU."""
        return self.fingerprint.get("model") or self.fingerprint.get("cpu")

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, **self.fingerprint}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceSection:
        return cls(spec=data["spec"], fingerprint={key: value for key, value in data.items() if key != "spec"})


@dataclass(frozen=True)
class MeasurementProtocol:
    """How the latency was measured; ``unstable_cv`` and ``statistic`` are None for an imported log, the
    cooldown gate's settings (``cooldown_temp_c``, ``cooldown_max_s``) None off phones.

    ``delegate`` is the one that ran (an ONNX model on this host runs on onnxruntime's CPU provider, named in
    ``execution_provider``, whatever ``--delegate`` asked for).
    """

    threads: int | None
    delegate: str | None
    warmup: int | None
    runs: int | None
    repeats: int
    unstable_cv: float | None = None
    statistic: str | None = None
    execution_provider: str | None = None
    cooldown_temp_c: float | None = None
    cooldown_max_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MeasurementProtocol:
        return cls(threads=data["threads"], delegate=data["delegate"], warmup=data["warmup"], runs=data["runs"],
                   repeats=data["repeats"], unstable_cv=data.get("unstable_cv"), statistic=data.get("statistic"),
                   execution_provider=data.get("execution_provider"),
                   cooldown_temp_c=data.get("cooldown_temp_c"), cooldown_max_s=data.get("cooldown_max_s"))


@dataclass(frozen=True)
class LatencySection:
    summary: LatencySummary
    launches: list[Launch]

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary.to_dict(), "launches": [launch.to_dict() for launch in self.launches]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencySection:
        return cls(summary=LatencySummary.from_dict(data["summary"]),
                   launches=[Launch.from_dict(launch) for launch in data["launches"]])


@dataclass(frozen=True)
class OpProfileSummary:
    """An ``OpProfile`` as the report keeps it: run times, sum of ops per run and the per-op table."""

    engine: str
    kernel_mode: str
    runs: int
    e2e_us: list[float]
    sum_of_ops_us: list[float]
    notes: list[str]
    ops: list[OpTotal]

    @classmethod
    def of(cls, profile: OpProfile) -> OpProfileSummary:
        return cls(engine=profile.engine, kernel_mode=profile.kernel_mode, runs=profile.runs,
                   e2e_us=list(profile.e2e_us), sum_of_ops_us=profile.sum_of_ops_us_per_run(),
                   notes=list(profile.notes), ops=profile.per_op_table())

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "kernel_mode": self.kernel_mode, "runs": self.runs,
                "e2e_us": list(self.e2e_us), "sum_of_ops_us": list(self.sum_of_ops_us), "notes": list(self.notes),
                "ops": [asdict(row) for row in self.ops]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OpProfileSummary:
        return cls(engine=data["engine"], kernel_mode=data["kernel_mode"], runs=data["runs"],
                   e2e_us=list(data["e2e_us"]), sum_of_ops_us=list(data["sum_of_ops_us"]), notes=list(data["notes"]),
                   ops=[OpTotal(**row) for row in data["ops"]])


@dataclass(frozen=True)
class ProfileSection:
    """The per-op profile, its module table, and (phones with XNNPACK) the delegate's own op-type rows.

    ``modules`` is None when the ops cannot be attributed: a log of another model, or a phone build that
    cannot run the builtin kernels (its XNNPACK rows are then ``ops``).
    """

    ops: OpProfileSummary
    modules: ModuleTable | None
    delegate_ops: OpProfileSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.ops.to_dict(), "modules": None if self.modules is None else self.modules.to_dict(),
                "delegate_ops": None if self.delegate_ops is None else self.delegate_ops.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileSection:
        delegate_ops = data.get("delegate_ops")
        return cls(ops=OpProfileSummary.from_dict(data), modules=_optional(data, "modules", ModuleTable.from_dict),
                   delegate_ops=None if delegate_ops is None else OpProfileSummary.from_dict(delegate_ops))


def _score(metrics: dict[str, Any] | None, name: str) -> float | None:
    return None if metrics is None else metrics.get(name)


@dataclass(frozen=True)
class AccuracySection:
    """Accuracy on a dataset: metrics against its labels and/or agreement with PyTorch, and who computed the
    outputs. ``metrics`` and ``agreement_with_pytorch`` are ``SegmentationMetrics.result()`` dicts (segmentation)
    or ``ClassificationMetrics.result()`` dicts (classification; agreement takes PyTorch's top-1 as the target);
    the scores a task does not have read as None."""

    dataset: dict[str, Any]
    postprocess: str
    metrics: dict[str, Any] | None
    agreement_with_pytorch: dict[str, Any] | None
    evaluated_on: str

    @property
    def dataset_name(self) -> str:
        return self.dataset["name"]

    @property
    def num_samples(self) -> int:
        return self.dataset["num_samples"]

    @property
    def miou(self) -> float | None:
        return _score(self.metrics, "mIoU")

    @property
    def aacc(self) -> float | None:
        return _score(self.metrics, "aAcc")

    @property
    def macc(self) -> float | None:
        return _score(self.metrics, "mAcc")

    @property
    def agreement_miou(self) -> float | None:
        return _score(self.agreement_with_pytorch, "mIoU")

    @property
    def pixel_agreement(self) -> float | None:
        """Share of pixels whose class matches PyTorch's (the agreement's aAcc)."""
        return _score(self.agreement_with_pytorch, "aAcc")

    @property
    def top1(self) -> float | None:
        return _score(self.metrics, "top1")

    @property
    def top5(self) -> float | None:
        return _score(self.metrics, "top5")

    @property
    def top1_agreement(self) -> float | None:
        """Share of images whose top-1 class is PyTorch's."""
        return _score(self.agreement_with_pytorch, "top1")

    @property
    def top5_agreement(self) -> float | None:
        """Share of images whose five best classes include PyTorch's top-1."""
        return _score(self.agreement_with_pytorch, "top5")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccuracySection:
        return cls(dataset=data["dataset"], postprocess=data["postprocess"], metrics=data["metrics"],
                   agreement_with_pytorch=data["agreement_with_pytorch"], evaluated_on=data["evaluated_on"])


def _optional(data: dict[str, Any], key: str, parse: Any) -> Any:
    value = data[key]
    return None if value is None else parse(value)


@dataclass(frozen=True)
class BenchHost:
    """The machine that ran the bench command (the device under test is ``DeviceSection``)."""

    python: str
    machine: str

    @classmethod
    def this_host(cls) -> BenchHost:
        return cls(python=platform.python_version(), machine=platform.machine())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchHost:
        return cls(python=str(data["python"]), machine=str(data["machine"]))


@dataclass
class BenchReport:
    """Everything one benchmark found out; the JSON report is ``to_dict()``.

    ``benchmark_log`` (model size, init time, timings and delegations the tool logged) exists only in reports
    imported from a benchmark_model log.
    """

    created: str
    command: list[str]
    host: BenchHost
    model: ReportedModel
    device: DeviceSection
    protocol: MeasurementProtocol
    latency: LatencySection
    profile: ProfileSection | None
    accuracy: AccuracySection | None
    incomplete: str | None
    warnings: list[str]
    bench_seconds: float
    benchmark_log: dict[str, Any] | None = None
    schema: str = BENCH_SCHEMA

    @property
    def stable(self) -> bool:
        return self.latency.summary.stable

    def to_dict(self) -> dict[str, Any]:
        optional = {} if self.benchmark_log is None else {"benchmark_log": self.benchmark_log}
        return {
            "schema": self.schema,
            "created": self.created,
            "command": list(self.command),
            "host": self.host.to_dict(),
            "model": self.model.to_dict(),
            "device": self.device.to_dict(),
            "protocol": self.protocol.to_dict(),
            "latency": self.latency.to_dict(),
            "profile": None if self.profile is None else self.profile.to_dict(),
            "accuracy": None if self.accuracy is None else self.accuracy.to_dict(),
            "incomplete": self.incomplete,
            **optional,
            "warnings": list(self.warnings),
            "bench_seconds": self.bench_seconds,
        }

    @classmethod
    def from_dict(cls, data: object, what: str = "bench report") -> BenchReport:
        """Inverse of :meth:`to_dict`. Another schema version, JSON that is not a bench report, or a bench report
        with missing or malformed fields is one ``SchemaError`` (exit 2)."""
        report = check_schema(data, BENCH_SCHEMA, what)
        try:
            return cls(
                created=report["created"],
                command=list(report["command"]),
                host=BenchHost.from_dict(report["host"]),
                model=ReportedModel.from_dict(report["model"]),
                device=DeviceSection.from_dict(report["device"]),
                protocol=MeasurementProtocol.from_dict(report["protocol"]),
                latency=LatencySection.from_dict(report["latency"]),
                profile=_optional(report, "profile", ProfileSection.from_dict),
                accuracy=_optional(report, "accuracy", AccuracySection.from_dict),
                incomplete=report["incomplete"],
                warnings=list(report["warnings"]),
                bench_seconds=float(report["bench_seconds"]),
                benchmark_log=report.get("benchmark_log"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SchemaError(f"{what} is a malformed {BENCH_SCHEMA} document ({type(exc).__name__}: {exc})") from None

    @classmethod
    def read(cls, path: str | Path) -> BenchReport:
        """Read and check the bench report at ``path``."""
        return cls.from_dict(read_json_document(Path(path), "bench report"), str(path))

    def write(self, path: str | Path) -> Path:
        """Write the report atomically (a crash never leaves half a file)."""
        return write_json_atomic(path, self.to_dict())


@dataclass
class BenchResult:
    """What ``benchmark`` (or a log import) produced: the report, where it was written, whether it is stable."""

    report: BenchReport
    report_path: Path
    stable: bool
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The machine-readable summary ``--json`` prints."""
        accuracy = self.report.accuracy
        return {
            "report": str(self.report_path),
            "median_ms": self.report.latency.summary.median_ms,
            "stable": self.report.latency.summary.stable,
            "mIoU": None if accuracy is None else accuracy.miou,
            "agreement_mIoU": None if accuracy is None else accuracy.agreement_miou,
            "top1": None if accuracy is None else accuracy.top1,
            "top5": None if accuracy is None else accuracy.top5,
            "agreement_top1": None if accuracy is None else accuracy.top1_agreement,
            "warnings": list(self.report.warnings),
        }

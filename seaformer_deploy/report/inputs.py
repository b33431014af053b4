"""Bench reports as a comparison reads them: the typed ``BenchReport`` and the file it came from.

``BenchReport.read`` rejects a missing, empty or non-JSON file, another schema version and malformed fields; a
report without a single timed launch cannot be compared either. All are one-line ``UsageError``s (exit 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from seaformer_deploy.bench.measures import Launch
from seaformer_deploy.bench.report import BenchReport
from seaformer_deploy.errors import UsageError


@dataclass(frozen=True)
class LabelledAccuracy:
    """mIoU (fraction) and per-class IoU on a labelled dataset; classes absent from both maps are left out."""

    dataset: str
    num_samples: int
    miou: float
    class_iou: dict[str, float]


@dataclass(frozen=True)
class ReportFile:
    """A bench report and where it was read from."""

    path: Path
    report: BenchReport

    @property
    def model_file(self) -> str:
        return self.report.model.file

    @property
    def timed_launches(self) -> list[Launch]:
        return [launch for launch in self.report.latency.launches if launch.centre_us is not None]

    @property
    def centres_ms(self) -> list[float]:
        return [launch.centre_us / 1e3 for launch in self.timed_launches]  # type: ignore[operator]

    @property
    def op_histogram(self) -> dict[str, int] | None:
        """Op type -> count from the export report embedded in the bench report (None without one)."""
        export_report = self.report.model.export_report
        return None if not export_report else export_report.get("op_histogram")

    @property
    def accuracy(self) -> LabelledAccuracy | None:
        accuracy = self.report.accuracy
        if accuracy is None or accuracy.metrics is None:
            return None
        metrics = accuracy.metrics
        class_iou = {str(row["name"]): float(row["IoU"]) for row in metrics["per_class"]
                     if row.get("IoU") is not None and not math.isnan(row["IoU"])}
        return LabelledAccuracy(accuracy.dataset_name, accuracy.num_samples, float(metrics["mIoU"]), class_iou)


def read_report(path: str | Path) -> ReportFile:
    """Read ``path`` as a comparable bench report; see the module docstring for what is rejected."""
    path = Path(path)
    report = BenchReport.read(path)
    loaded = ReportFile(path, report)
    if not loaded.timed_launches or report.latency.summary.median_ms is None:
        stopped = f" (the run stopped early: {report.incomplete})" if report.incomplete else ""
        raise UsageError(f"{path} has no latency measurements{stopped}")
    return loaded

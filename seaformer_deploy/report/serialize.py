"""Comparisons as JSON (``--json`` and the comparison file an interleaved A/B run writes)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from seaformer_deploy.report.fingerprint import device_fingerprint

if TYPE_CHECKING:
    from seaformer_deploy.report.compare import Comparison
    from seaformer_deploy.report.inputs import ReportFile

COMPARISON_SCHEMA = "seaformer-deploy/comparison@1"


def _side(run: ReportFile) -> dict[str, Any]:
    report, summary = run.report, run.report.latency.summary
    return {
        "report": str(run.path),
        "model": report.model.file,
        "model_sha256": report.model.sha256,
        "device": report.device.spec,
        "fingerprint": device_fingerprint(report.device).describe(),
        "threads": report.protocol.threads,
        "delegate": report.protocol.delegate,
        "input_size_hw": list(report.model.facts.input_size_hw),
        "launches": len(run.centres_ms),
        "launch_medians_ms": run.centres_ms,
        "median_ms": summary.median_ms,
        "p90_ms": summary.p90_ms,
        "cv_between_launches": summary.cv_between_launches,
        "miou": None if run.accuracy is None else run.accuracy.miou,
    }


def comparison_to_dict(comparison: Comparison) -> dict[str, Any]:
    latency = comparison.latency
    accuracy = comparison.accuracy
    blame = comparison.blame
    return {
        "schema": COMPARISON_SCHEMA,
        "verdict": comparison.verdict.value,
        "exit_code": comparison.verdict.exit_code,
        "reasons": comparison.reasons,
        "notes": comparison.notes,
        "rule": dataclasses.asdict(comparison.rule),
        "baseline": _side(comparison.baseline),
        "current": _side(comparison.current),
        "latency": None if latency is None else {**dataclasses.asdict(latency), "text": latency.change_text()},
        "accuracy": None if accuracy is None else {
            "dataset": accuracy.dataset, "baseline_miou": accuracy.baseline_miou,
            "current_miou": accuracy.current_miou, "drop_points": accuracy.drop_points,
            "worst_classes": [{"name": c.name, "baseline_iou": c.baseline_iou, "current_iou": c.current_iou}
                              for c in accuracy.worst_classes]},
        "blame": {
            "sentence": blame.sentence,
            "kernel_modes": None if blame.kernel_modes is None else list(blame.kernel_modes),
            "modules": None if blame.modules is None else [
                {"module": row.module, "baseline_ms": row.baseline_ms, "current_ms": row.current_ms,
                 "delta_ms": row.delta_ms, "delta_pct": row.delta_pct} for row in blame.modules],
            "op_types": None if blame.op_types is None else [
                {"op_type": row.op_type, "baseline": row.baseline, "current": row.current, "delta": row.delta}
                for row in blame.op_types],
        },
    }

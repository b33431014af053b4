"""The paper's reference points: ADE20K mIoU at 512x512 against latency on a Snapdragon 865 phone's ARM CPU
(SeaFormer, arXiv 2301.13156, Table 1), the reference series of the accuracy-latency chart."""

from __future__ import annotations

from dataclasses import dataclass

PAPER_SETTING = "Snapdragon 865 ARM CPU, 512x512, ADE20K (arXiv 2301.13156)"


@dataclass(frozen=True)
class PaperPoint:
    variant: str
    latency_ms: float
    miou: float


PAPER_POINTS = (
    PaperPoint("T", 40.0, 35.0),
    PaperPoint("S", 67.0, 38.1),
    PaperPoint("B", 106.0, 40.2),
    PaperPoint("L", 367.0, 42.7),
)

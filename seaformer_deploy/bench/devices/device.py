"""The ``Device`` protocol every device implements (``opening.open_device`` returns one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from seaformer_deploy.bench.devices.spec import Delegate, DeviceKind

if TYPE_CHECKING:
    import numpy as np

    from seaformer_deploy.bench.measures import DeviceProfile, Launch, LaunchProgress

@dataclass(frozen=True)
class Execution:
    """What really runs a model on a device: the delegate in effect and, for ONNX, onnxruntime's execution
    provider. It can differ from the ``--delegate`` asked for (ONNX has no XNNPACK here); the report records this."""

    delegate: Delegate
    provider: str | None = None


@runtime_checkable
class Device(Protocol):
    """Where a model is measured. ``kind`` is ``local`` or ``adb``; ``name`` says which one (``adb:SERIAL``)."""

    kind: DeviceKind
    name: str
    warnings: list[str]  # what the device learned while measuring (e.g. a benchmark_model build's limits)

    def execution(self, model_path: Path) -> Execution:
        """The delegate (and provider) that runs ``model_path`` here."""
        ...

    def measure(self, model_path: Path, sample: np.ndarray, *, warmup: int, runs: int, repeats: int,
                progress: LaunchProgress | None = None) -> list[Launch]:
        """``repeats`` independent launches of ``runs`` timed inferences of ``sample`` after ``warmup``.

        A failure after some launches finished raises ``PartialMeasurementError`` carrying them.
        """
        ...

    def profile(self, model_path: Path, sample: np.ndarray, *, runs: int, warmup: int) -> DeviceProfile:
        """Per-op latency of ``runs`` inferences."""
        ...

    def predict(self, model_path: Path, batch: np.ndarray) -> np.ndarray:
        """The model's raw output for one preprocessed input, computed on this device."""
        ...

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the measurement setup (the report's ``device`` section, without ``spec``)."""
        ...

    def close(self) -> None:
        """Release what the device holds (runtimes, files on a phone); never raises."""
        ...


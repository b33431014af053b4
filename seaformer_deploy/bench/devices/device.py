"""The ``Device`` protocol every device implements (``opening.open_device`` returns one)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from seaformer_deploy.bench.devices.spec import DeviceKind

if TYPE_CHECKING:
    import numpy as np

    from seaformer_deploy.bench.measures import DeviceProfile, Launch, LaunchProgress

@runtime_checkable
class Device(Protocol):
    """Where a model is measured. ``kind`` is ``local`` or ``adb``; ``name`` says which one (``adb:SERIAL``)."""

    kind: DeviceKind
    name: str

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


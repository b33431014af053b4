"""The ``Device`` protocol every device implements, and ``open_device``: a parsed spec to a ready device."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from seaformer_deploy.bench.devices.spec import DeviceKind, DeviceSpec
from seaformer_deploy.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from seaformer_deploy.bench.measures import DeviceProfile, Launch
    from seaformer_deploy.bench.options import BenchOptions

LaunchProgress = Callable[[int, int], None]
"""Called with (launches done, launches planned)."""


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


def open_device(spec: DeviceSpec, options: BenchOptions) -> Device:
    """The device ``spec`` names, checked to be usable with ``options`` (threads, delegate, adb, binary)."""
    if spec.is_fleet:
        raise UsageError(f"--device {spec} names several phones: benchmarking more than one phone at a time is "
                         "not supported yet; choose one with adb:SERIAL")
    if spec.kind is DeviceKind.LOCAL:
        from seaformer_deploy.bench.devices.local import LocalDevice

        return LocalDevice(options.threads, options.delegate)
    from seaformer_deploy.bench.devices.phone import PhoneDevice

    return PhoneDevice.open(spec, options)

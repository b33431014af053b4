"""``BenchOptions``: how to measure one model (what a bench suite entry and the CLI flags set)."""

from __future__ import annotations

from dataclasses import dataclass

from seaformer_deploy.bench.devices.spec import LOCAL, Delegate, DeviceSpec


@dataclass(frozen=True)
class BenchOptions:
    """How to measure. ``device`` and ``delegate`` may be given in their command-line spelling (parsed here)."""

    device: DeviceSpec = LOCAL
    threads: int = 1
    delegate: Delegate = Delegate.XNNPACK
    warmup: int = 5
    runs: int = 30
    repeats: int = 3
    profile: bool = True
    dataset: str | None = None
    limit: int | None = None
    reference: bool = False
    checkpoint: str | None = None
    adb: str | None = None
    benchmark_binary: str | None = None
    cpu_mask: str | None = None
    cooldown_s: float = 30.0

    def __post_init__(self) -> None:
        # Library callers and suite files spell them as on the command line ("adb:R58M", "cpu").
        object.__setattr__(self, "device", DeviceSpec.parse(self.device))
        object.__setattr__(self, "delegate", Delegate.parse(self.delegate))

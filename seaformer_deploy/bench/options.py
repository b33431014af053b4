"""``BenchOptions``: how to measure one model (what a bench suite entry and the CLI flags set)."""

from __future__ import annotations

from dataclasses import dataclass

from seaformer_deploy.bench.devices.spec import LOCAL, Delegate, DeviceSpec

# The phone's cooldown gate: before every launch, wait until thermal status is 0 and the hottest CPU zone is
# below COOLDOWN_TEMP_C, at most COOLDOWN_MAX_S (MLPerf Mobile cools phones 1 to 5 minutes between runs; the
# gate waits only while the phone is hot, so the cap is the upper end).
COOLDOWN_TEMP_C = 45.0
COOLDOWN_MAX_S = 300.0


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
    cooldown_temp_c: float = COOLDOWN_TEMP_C
    cooldown_max_s: float = COOLDOWN_MAX_S

    def __post_init__(self) -> None:
        # Library callers and suite files spell them as on the command line ("adb:R58M", "cpu").
        object.__setattr__(self, "device", DeviceSpec.parse(self.device))
        object.__setattr__(self, "delegate", Delegate.parse(self.delegate))

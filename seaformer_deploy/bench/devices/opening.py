"""``open_device``: a parsed ``--device`` spec to a ready ``Device`` (this host or one phone)."""

from __future__ import annotations

from seaformer_deploy.bench.devices.device import Device
from seaformer_deploy.bench.devices.local import LocalDevice
from seaformer_deploy.bench.devices.phone import PhoneDevice
from seaformer_deploy.bench.devices.spec import DeviceKind, DeviceSpec
from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.errors import UsageError


def open_device(spec: DeviceSpec, options: BenchOptions) -> Device:
    """The device ``spec`` names, checked to be usable with ``options`` (threads, delegate, adb, binary)."""
    if spec.is_fleet:
        raise UsageError(f"--device {spec} names several phones: a device is one phone; run_fleet "
                         "(seaformer_deploy.bench.devices.fleet) opens one per phone")
    if spec.kind is DeviceKind.LOCAL:
        return LocalDevice(options.threads, options.delegate)
    return PhoneDevice.open(spec, options)

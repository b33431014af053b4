"""Thermal state of a phone (thermal service status, zone, HAL and battery temperatures) and the cooldown gate."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from seaformer_deploy.bench.measures import ThermalReading

_HAL_TEMP_RE = re.compile(r"Temperature\{mValue=(-?[\d.]+), mType=(-?\d+), mName=([^,}]*)")

THERMAL_SCRIPT = (
    "dumpsys thermalservice 2>/dev/null; echo __SEAFORMER_ZONES__; "
    "for z in /sys/class/thermal/thermal_zone*; do "
    'echo "${z##*/}|$(cat $z/type 2>/dev/null)|$(cat $z/temp 2>/dev/null)"; done; '
    "echo __SEAFORMER_BATTERY__; dumpsys battery 2>/dev/null"
)


def to_celsius(raw: str) -> float | None:
    """A thermal_zone reading in degC: millidegrees (most kernels) or decidegrees (some PMIC zones)."""
    try:
        value = float(raw)
    except ValueError:
        return None
    if abs(value) >= 1000:
        value /= 1000
    elif abs(value) >= 200:
        value /= 10
    # Disabled sensors read 0 or absurd values; they say nothing about the SoC.
    return round(value, 3) if 0 < value < 150 else None


def parse_thermal(text: str) -> ThermalReading:
    """Parse the output of the thermal script: status, zones (degC), battery degC and the hottest CPU degC.

    ``hottest_c`` is the hottest zone whose type names a CPU, else the hottest zone, else the CPU
    temperatures the thermal HAL reports, else the battery; it is what the cooldown gate compares.
    """
    service, _, rest = text.partition("__SEAFORMER_ZONES__")
    zones_text, _, battery_text = rest.partition("__SEAFORMER_BATTERY__")
    status_match = re.search(r"Thermal Status:\s*(-?\d+)", service)
    zones: dict[str, float] = {}
    for line in zones_text.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 3:
            continue
        celsius = to_celsius(parts[2].strip())
        if celsius is None:
            continue
        key = parts[1].strip() or parts[0]
        zones[f"{key}@{parts[0]}" if key in zones else key] = celsius
    hal_cpu = [
        float(v) for v, kind, _ in _HAL_TEMP_RE.findall(service.partition("from HAL")[2]) if kind == "0"
    ]
    battery_match = re.search(r"^\s*temperature:\s*(-?\d+)", battery_text, re.MULTILINE)
    battery_c = int(battery_match.group(1)) / 10 if battery_match else None
    cpu_zones = [v for k, v in zones.items() if "cpu" in k.lower()]
    candidates = (
        cpu_zones or list(zones.values()) or hal_cpu or ([battery_c] if battery_c is not None else [])
    )
    return ThermalReading(
        status=int(status_match.group(1)) if status_match else None,
        zones_c=zones,
        battery_c=battery_c,
        hottest_c=max(candidates) if candidates else None,
    )



def wait_until_cool(
    read_thermal: Callable[[], ThermalReading], cooldown_s: float, cool_temp_c: float, poll_s: float
) -> tuple[ThermalReading, float]:
    """Poll ``read_thermal`` until the phone is cool or ``cooldown_s`` has passed; the last reading and the wait.

    Cool means thermal status 0 and the hottest CPU zone below ``cool_temp_c``.
    """
    start = time.monotonic()
    while True:
        state = read_thermal()
        remaining = cooldown_s - (time.monotonic() - start)
        if state.is_cool(cool_temp_c) or remaining <= 0:
            return state, time.monotonic() - start
        time.sleep(min(poll_s, remaining))


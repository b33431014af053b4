#!/usr/bin/env python3
"""Phone-side stand-ins for ``df`` and ``dumpsys thermalservice`` on the simulated phone.

Run as ``device_tools.py TOOL ARGS...`` by the wrappers in ``<serial>/bin`` (see phone.py); they answer
from the phone's config and thermal state in the formats Android 13 prints. Reading the thermal
service also applies finished runs to the thermal model and counts down an injected throttle.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import phone

# Thermal HAL temperature types (android.os.Temperature): CPU, GPU, BATTERY, SKIN.
_HAL_TYPES = {"cpu": 0, "gpu": 1, "battery": 2, "skin": 3}


def _hal_type(zone_type: str) -> int | None:
    return next((code for prefix, code in _HAL_TYPES.items() if zone_type.startswith(prefix)), None)


def _thermalservice(config: dict, state: dict, now: float) -> str:
    status = phone.thermal_status(config, state, now)
    temps = [
        f"\tTemperature{{mValue={celsius:.1f}, mType={_hal_type(zone['type'])}, mName={zone['type']}, "
        f"mStatus={status if zone['type'].startswith('cpu') else 0}}}"
        for zone, celsius in phone.zone_temps_c(config, state, now)
        if zone.get("unit") != "disabled" and _hal_type(zone["type"]) is not None
    ]
    listeners = "\tcallbacks: 1\n\tkilled: false\n\tbroadcasts count: -1"
    return "\n".join(
        [
            "IsStatusOverride: false",
            "ThermalEventListeners:",
            listeners,
            "ThermalStatusListeners:",
            listeners,
            f"Thermal Status: {status}",
            "Cached temperatures:",
            *temps,
            "HAL Ready: true",
            "HAL connection:",
            "\tThermalHAL 2.0 connected: yes",
            "Current temperatures from HAL:",
            *temps,
            "Current cooling devices from HAL:",
            "\tCoolingDevice{mValue=0, mType=2, mName=cpu-cluster0}",
        ]
    )


def dumpsys(root: Path, config: dict, args: list[str]) -> int:
    state, now = phone.process_events(root, config), time.time()
    # Reading the thermal service is when the phone's zone files catch up with a run that just ended.
    phone.refresh_thermal_files(root, config, state, now)
    service = args[0] if args else ""
    if service == "thermalservice":
        print(_thermalservice(config, state, now))
        if state["forced_reads"] > 0:
            state["forced_reads"] -= 1
            phone.save_state(root, config["serial"], state)
    else:
        print(f"Can't find service: {service}")
    return 0


def df(root: Path, config: dict, args: list[str]) -> int:
    paths = [a for a in args if not a.startswith("-")] or [
        str(phone.device_fs(root, config["serial"]) / "data")
    ]
    system_used = 40 * 10**9
    avail = phone.free_bytes(root, config)
    used = system_used + phone.used_bytes(root, config["serial"])
    lines = ["Filesystem      1K-blocks     Used Available Use% Mounted on"]
    for path in paths:
        if not Path(path).exists():
            sys.stderr.write(f"df: {path}: No such file or directory\n")
            return 1
        total_kb, used_kb, avail_kb = (used + avail) // 1024, used // 1024, avail // 1024
        lines.append(
            f"/dev/block/dm-8 {total_kb:>9} {used_kb:>8} {avail_kb:>9} {100 * used_kb // total_kb:>3}% /data"
        )
    print("\n".join(lines))
    return 0


TOOLS = {"dumpsys": dumpsys, "df": df}


def main(argv: list[str]) -> int:
    root = phone.sim_root()
    config = phone.find_config(root, os.environ["SEAFORMER_SIM_SERIAL"])
    phone.append_log(root, {"serial": config["serial"], "tool": argv[0], "argv": argv[1:]})
    return TOOLS[argv[0]](root, config, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

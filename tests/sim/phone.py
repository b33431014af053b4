"""A simulated Android phone: configuration, file system, thermal model, and helpers for tests.

Stdlib only: ``fake_adb.py`` and ``device_tools.py`` import it as a sibling module.

A simulation folder (``$SEAFORMER_SIM_ROOT``) holds::

    devices.json           {"devices": [config, ...]}: every phone `adb devices` can see
    log.jsonl              one JSON line per adb invocation and per device-tool call
    <serial>/fs/           the phone's file system (/data, /sys, /sdcard, ... live under it)
    <serial>/bin/          the phone shell's whole PATH: device tools plus whitelisted host tools
    <serial>/state.json    command and launch counters, heat, forced thermal status, disconnected
    <serial>/events.jsonl  programs on the phone report work here ($SEAFORMER_SIM_EVENTS)
    <serial>/props.txt, battery.txt, thermal.cache, .built: what the sh tools print, and caches

How ``adb shell CMD`` runs (fake_adb.py): every absolute path in CMD that starts with a device root
(/data /sys /sdcard /storage /system /vendor) is rewritten to ``<serial>/fs/...``; the result runs
under the host's ``/bin/sh`` (dash: POSIX like Android's mksh) with cwd ``<serial>/fs`` and
PATH=``<serial>/bin`` only, and ``<serial>/fs`` is mapped back out of the output. /dev and /proc stay
the host's, so ``2>/dev/null`` works. df and ``dumpsys thermalservice`` are Python stand-ins
(device_tools.py) answering from the config and state; getprop reads a table written from the
config; ``dumpsys battery`` prints a file the thermal model keeps current; taskset is an sh stand-in
that checks the mask against the phone's CPU count, logs it and runs the command unpinned (the
host's CPUs are not the phone's). cat, sha256sum, chmod, rm, mkdir ... are the host's own tools
working on the simulated tree. Tools named in ``missing_tools`` are left out of PATH, exactly like a
phone whose toybox lacks them.

Thermal model: temperature = ambient + heat * exp(-elapsed / cool_tau_s) + per-zone offset; every
finished benchmark_model run (an ``end`` event, applied as soon as anything on the phone reads the
thermals or the adb command returns) adds ``heat_per_launch_c``. Thermal status is 1/2/3 when the
hottest CPU zone passes throttle_temp_c (+10, +20). An injected throttle
(``faults.throttle_after_launches``) reports ``throttle_status`` for the next ``throttle_hold_reads``
reads of ``dumpsys thermalservice``: counted in reads rather than seconds so tests need no real waits.
"""

from __future__ import annotations

import copy
import json
import math
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

SIM_ROOT_ENV = "SEAFORMER_SIM_ROOT"
EVENTS_ENV = "SEAFORMER_SIM_EVENTS"
CRASH_ON_ENV = "SEAFORMER_SIM_CRASH_ON"
DEVICE_ROOTS = ("data", "sys", "sdcard", "storage", "system", "vendor")
WRITABLE_PREFIXES = ("/data/local/tmp", "/sdcard", "/storage")
PYTHON_TOOLS = ("df",)
HOST_TOOLS = (
    "sh",
    "cat",
    "chmod",
    "rm",
    "mkdir",
    "ls",
    "sha256sum",
    "head",
    "tail",
    "mv",
    "cp",
    "sleep",
    "true",
    "false",
    "echo",
    "touch",
    "wc",
    "grep",
    "sed",
    "tr",
    "cut",
    "stat",
    "date",
    "env",
    "id",
    "uname",
    "rmdir",
    "basename",
    "dirname",
    "printf",
    "test",
)
HERE = Path(__file__).resolve().parent

# Snapdragon 865 (kona): 4x Cortex-A55 1.80 GHz, 3x A77 2.42 GHz, 1x A77 prime 2.84 GHz.
SD865_MAX_FREQ_KHZ = (1804800,) * 4 + (2419200,) * 3 + (2841600,)
SD865_CAPACITY = (404,) * 4 + (871,) * 3 + (1024,)


def sd865_config(serial: str = "SIM865A", **overrides: Any) -> dict[str, Any]:
    """Configuration of a simulated Snapdragon 865 phone; ``overrides`` are merged in (dicts deeply)."""
    config: dict[str, Any] = {
        "serial": serial,
        "state": "device",
        "usb": "1-1",
        "product": "x1qxx",
        "model": "SM_G981B",
        "device": "x1q",
        "getprop": {
            "ro.product.model": "SM-G981B",
            "ro.soc.model": "SM8250",
            "ro.board.platform": "kona",
            "ro.hardware": "qcom",
            "ro.build.version.sdk": "33",
            "ro.build.fingerprint": "samsung/x1qxx/x1q:13/TP1A.220624.014/G981BXXSFHWB1:user/release-keys",
            "ro.product.cpu.abi": "arm64-v8a",
            "ro.product.cpu.abilist": "arm64-v8a,armeabi-v7a,armeabi",
        },
        "cpus": [
            {"max_freq_khz": freq, "governor": "schedutil", "capacity": cap}
            for freq, cap in zip(SD865_MAX_FREQ_KHZ, SD865_CAPACITY, strict=True)
        ],
        "thermal": {
            "ambient_c": 31.0,
            "heat_per_launch_c": 1.0,
            "cool_tau_s": 30.0,
            "throttle_temp_c": 75.0,
            "throttle_status": 2,
            "throttle_hold_reads": 1,
            # Units vary between kernels: most report millidegrees, some PMIC zones decidegrees.
            "zones": [
                {"type": "cpu-0-0-usr", "offset_c": 0.0, "unit": "milli"},
                {"type": "cpu-1-0-usr", "offset_c": 2.0, "unit": "milli"},
                {"type": "cpu-1-3-usr", "offset_c": 3.5, "unit": "milli"},
                {"type": "gpuss-0-usr", "offset_c": -1.0, "unit": "milli"},
                {"type": "skin-therm", "offset_c": -4.0, "unit": "deci"},
                {"type": "battery", "offset_c": -5.0, "unit": "milli"},
                {"type": "pm8150b-bcl-lvl0", "offset_c": 0.0, "unit": "disabled"},
            ],
        },
        "free_bytes": 8 * 10**9,
        "missing_tools": [],
        "faults": {
            "disconnect_after_commands": None,
            "disconnect_after_launches": None,
            "crash_on_launches": [],
            "throttle_after_launches": [],
        },
    }
    return _merged(config, overrides)


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        out[key] = (
            _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


# --------------------------------------------------------------------------- helpers for tests


def create_sim(root: Path, *configs: dict[str, Any]) -> Path:
    """Write ``devices.json`` for the given phone configs into ``root`` (created) and return it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "devices.json").write_text(json.dumps({"devices": list(configs)}, indent=2))
    return root


def write_adb_launcher(directory: Path) -> Path:
    """An executable named ``adb`` in ``directory`` that runs fake_adb.py with this interpreter."""
    directory.mkdir(parents=True, exist_ok=True)
    launcher = directory / "adb"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{HERE / "fake_adb.py"}" "$@"\n')
    launcher.chmod(0o755)
    return launcher


def install_fake_benchmark_model(path: Path, generation: str = "current") -> Path:
    """Install a benchmark_model build of ``generation`` (see generations.py) at ``path``: a launcher of
    fake_benchmark_model.py whose shebang names this (venv) interpreter. Builds of different generations are
    different files, as real binaries are."""
    path.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(HERE)!r})\nimport fake_benchmark_model\n"
        f"sys.exit(fake_benchmark_model.main(sys.argv[1:], generation={generation!r}))\n"
    )
    path.chmod(0o755)
    return path


def read_log(root: Path) -> list[dict[str, Any]]:
    """Every logged adb invocation and device-tool call, oldest first."""
    log_path = root / "log.jsonl"
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


def device_fs(root: Path, serial: str) -> Path:
    """Host folder that holds the phone's ``/``."""
    return root / serial / "fs"


# --------------------------------------------------------------------------- shared by fake_adb and tools


def sim_root() -> Path:
    value = os.environ.get(SIM_ROOT_ENV)
    if not value:
        sys.stderr.write(f"fake adb: ${SIM_ROOT_ENV} is not set\n")
        sys.exit(1)
    return Path(value)


def load_devices(root: Path) -> list[dict[str, Any]]:
    return json.loads((root / "devices.json").read_text())["devices"]


def find_config(root: Path, serial: str) -> dict[str, Any] | None:
    return next((c for c in load_devices(root) if c["serial"] == serial), None)


def append_log(root: Path, entry: dict[str, Any]) -> None:
    with open(root / "log.jsonl", "a") as handle:
        handle.write(json.dumps({"t": round(time.time(), 4), **entry}) + "\n")


def load_state(root: Path, serial: str) -> dict[str, Any]:
    path = root / serial / "state.json"
    if path.exists():
        return json.loads(path.read_text())
    return {
        "commands": 0,
        "launches": 0,
        "events_offset": 0,
        "heat_c": 0.0,
        "heat_t": time.time(),
        "forced_status": 0,
        "forced_reads": 0,
        "disconnected": False,
    }


def save_state(root: Path, serial: str, state: dict[str, Any]) -> None:
    path = root / serial / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def heat_now(config: dict[str, Any], state: dict[str, Any], now: float) -> float:
    tau = config["thermal"]["cool_tau_s"]
    return state["heat_c"] * math.exp(-max(0.0, now - state["heat_t"]) / tau)


def zone_temps_c(config: dict[str, Any], state: dict[str, Any], now: float) -> list[tuple[dict, float]]:
    """Every configured zone with its current temperature in degC."""
    base = config["thermal"]["ambient_c"] + heat_now(config, state, now)
    return [(zone, base + zone["offset_c"]) for zone in config["thermal"]["zones"]]


def thermal_status(config: dict[str, Any], state: dict[str, Any], now: float) -> int:
    if state["forced_reads"] > 0:
        return int(state["forced_status"])
    cpu = [t for zone, t in zone_temps_c(config, state, now) if zone["type"].startswith("cpu")]
    over = max(cpu, default=0.0) - config["thermal"]["throttle_temp_c"]
    return 0 if over < 0 else min(3, 1 + int(over // 10))


def process_events(root: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Apply what programs on the phone reported since last time; return the updated state.

    A finished benchmark run heats the phone, counts as a launch, and may trigger the injected
    throttle or disconnect faults.
    """
    serial = config["serial"]
    state = load_state(root, serial)
    events_path = root / serial / "events.jsonl"
    if not events_path.exists():
        return state
    with open(events_path, "rb") as handle:
        handle.seek(state["events_offset"])
        fresh = handle.read()
    if not fresh:
        return state
    state["events_offset"] += len(fresh)
    thermal, faults, now = config["thermal"], config["faults"], time.time()
    for line in fresh.decode().splitlines():
        if json.loads(line).get("event") != "end":
            continue
        state["launches"] += 1
        state["heat_c"] = heat_now(config, state, now) + thermal["heat_per_launch_c"]
        state["heat_t"] = now
        if state["launches"] in faults.get("throttle_after_launches", []):
            state["forced_status"] = thermal["throttle_status"]
            state["forced_reads"] = thermal["throttle_hold_reads"]
        limit = faults.get("disconnect_after_launches")
        if limit is not None and state["launches"] >= limit:
            state["disconnected"] = True
    save_state(root, serial, state)
    return state


def battery_temp_c(config: dict[str, Any], state: dict[str, Any], now: float) -> float:
    zones = {zone["type"]: t for zone, t in zone_temps_c(config, state, now)}
    return zones.get("battery", config["thermal"]["ambient_c"])


def encode_zone_temp(zone: dict[str, Any], celsius: float) -> str:
    """A zone's temp file content; sensors resolve 0.1 degC, like most phone thermistors."""
    unit = zone.get("unit", "milli")
    if unit == "milli":
        return str(round(celsius * 10) * 100)
    if unit == "deci":
        return str(round(celsius * 10))
    return "0" if unit == "disabled" else f"{celsius:.0f}"


def build_device_tree(root: Path, config: dict[str, Any]) -> Path:
    """Create the phone's file system and PATH (again when devices.json changed); return the fs root."""
    serial = config["serial"]
    fs = device_fs(root, serial)
    marker = root / serial / ".built"
    config_mtime = str((root / "devices.json").stat().st_mtime_ns)
    if marker.exists() and marker.read_text() == config_mtime:
        return fs
    for folder in ("data/local/tmp", "sdcard", "system/bin", "vendor"):
        (fs / folder).mkdir(parents=True, exist_ok=True)
    cpu_root = fs / "sys/devices/system/cpu"
    for index, cpu in enumerate(config["cpus"]):
        cpu_dir = cpu_root / f"cpu{index}"
        (cpu_dir / "cpufreq").mkdir(parents=True, exist_ok=True)
        # A field left out of the config behaves like a read the phone denies: the file is absent.
        files = {
            "cpufreq/cpuinfo_max_freq": cpu.get("max_freq_khz"),
            "cpufreq/scaling_cur_freq": cpu.get("max_freq_khz"),
            "cpufreq/scaling_governor": cpu.get("governor"),
            "cpu_capacity": cpu.get("capacity"),
        }
        for name, value in files.items():
            if value is not None:
                (cpu_dir / name).write_text(f"{value}\n")
    (cpu_root / "possible").write_text(f"0-{len(config['cpus']) - 1}\n")
    for index, zone in enumerate(config["thermal"]["zones"]):
        zone_dir = fs / f"sys/class/thermal/thermal_zone{index}"
        zone_dir.mkdir(parents=True, exist_ok=True)
        (zone_dir / "type").write_text(zone["type"] + "\n")
    _build_path_dir(root, config)
    (root / serial / "thermal.cache").unlink(missing_ok=True)
    marker.write_text(config_mtime)
    return fs


def refresh_thermal_files(root: Path, config: dict[str, Any], state: dict[str, Any], now: float) -> None:
    """Bring the zone temp files and the ``dumpsys battery`` text up to the thermal model's present."""
    device_dir = root / config["serial"]
    zones = [encode_zone_temp(zone, celsius) for zone, celsius in zone_temps_c(config, state, now)]
    tenths = round(battery_temp_c(config, state, now) * 10)
    # File writes are the slow part of every simulated adb call: skip them when nothing changed.
    signature = " ".join([*zones, str(tenths)])
    cache = device_dir / "thermal.cache"
    if cache.exists() and cache.read_text() == signature:
        return
    fs = device_fs(root, config["serial"])
    for index, value in enumerate(zones):
        (fs / f"sys/class/thermal/thermal_zone{index}/temp").write_text(value + "\n")
    battery = [
        "Current Battery Service state:",
        "  AC powered: false",
        "  USB powered: true",
        "  Wireless powered: false",
        "  Max charging current: 500000",
        "  Max charging voltage: 5000000",
        "  Charge counter: 3010000",
        "  status: 2",
        "  health: 2",
        "  present: true",
        "  level: 87",
        "  scale: 100",
        "  voltage: 4271",
        f"  temperature: {tenths}",
        "  technology: Li-ion",
    ]
    (device_dir / "battery.txt").write_text("\n".join(battery) + "\n")
    cache.write_text(signature)


def _build_path_dir(root: Path, config: dict[str, Any]) -> None:
    bin_dir = root / config["serial"] / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    missing = set(config.get("missing_tools", []))
    for name in HOST_TOOLS:
        target = bin_dir / name
        host = _host_tool(name)
        if name in missing or host is None:
            target.unlink(missing_ok=True)
        elif not target.exists():
            target.symlink_to(host)
    # Python stand-ins are slow to start, so every tool that can be plain sh is.
    python = f'"{sys.executable}" -S "{HERE / "device_tools.py"}"'
    scripts = {name: f'exec {python} {name} "$@"\n' for name in PYTHON_TOOLS}
    props = root / config["serial"] / "props.txt"
    props.write_text("".join(f"[{key}]: [{value}]\n" for key, value in sorted(config["getprop"].items())))
    scripts["getprop"] = (
        f'if [ "$#" -eq 0 ]; then exec cat "{props}"; fi\n'
        f'value=$(grep -F "[$1]: [" "{props}" | sed "s/^[^]]*\\]: \\[\\(.*\\)\\]$/\\1/")\n'
        'echo "${value:-$2}"\n'
    )
    scripts["dumpsys"] = (
        f'if [ "$1" = battery ]; then exec cat "{root / config["serial"] / "battery.txt"}"; fi\n'
        f'exec {python} dumpsys "$@"\n'
    )
    log_line = '{"serial": "%s", "tool": "taskset", "argv": ["%s", "%s"]}\\n'
    usage = 'echo "usage: taskset [-ap] [mask] [PID | cmd [args...]]" >&2; exit 1'
    scripts["taskset"] = (
        f'case "$1" in ""|-*|*[!0-9a-fA-F]*) {usage};; esac\n'
        f'if [ "$#" -lt 2 ]; then {usage}; fi\n'
        f"if [ $(( 0x$1 & {(1 << len(config['cpus'])) - 1} )) -eq 0 ]; then\n"
        '    echo "taskset: sched_setaffinity: Invalid argument" >&2; exit 1\nfi\n'
        f'printf \'{log_line}\' {config["serial"]} "$1" "$2" >> "{root / "log.jsonl"}"\n'
        'shift\nexec "$@"\n'
    )
    for name, body in scripts.items():
        target = bin_dir / name
        if name in missing:
            target.unlink(missing_ok=True)
            continue
        target.write_text("#!/bin/sh\n" + body)
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _host_tool(name: str) -> str | None:
    for folder in ("/bin", "/usr/bin"):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


def used_bytes(root: Path, serial: str) -> int:
    """Bytes of everything stored under the phone's /data and /sdcard."""
    fs = device_fs(root, serial)
    total = 0
    for top in ("data", "sdcard"):
        for dirpath, _, filenames in os.walk(fs / top):
            total += sum((Path(dirpath) / name).lstat().st_size for name in filenames)
    return total


def free_bytes(root: Path, config: dict[str, Any]) -> int:
    return max(0, int(config["free_bytes"]) - used_bytes(root, config["serial"]))

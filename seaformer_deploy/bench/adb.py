"""Android phones over adb: find adb, pick the phone, read its fingerprint and thermals, and run
TFLite/LiteRT ``benchmark_model`` as independent, pinned, thermally gated process launches.

The measuring practice is the one in DESIGN.md section 6: pin to the big cores, warm up, cool down
before every launch, treat thermal status > 0 as throttled (back off 90 s, retry up to 3 times, then
keep the launch flagged), and run every repeat as a separate process so each one is an independent
sample. What runs on the phone is ``android_runner/run_benchmark.sh`` plus the user's binary; this
module only talks to an ``adb`` executable through subprocess, so the tests drive this exact code
against a simulated phone (``tests/sim/fake_adb.py``).

Typical use::

    adb = find_adb(opt_adb)
    device = AdbDevice(resolve_device("adb:R58M1234", adb), adb)
    launches = run_benchmark_launches(device, model=m, binary=b, threads=4, delegate="xnnpack",
                                      warmup=5, runs=50, repeats=6)
"""

from __future__ import annotations

import logging
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from seaformer_deploy.bench.benchmark_model.convert import launch_from_log
from seaformer_deploy.bench.benchmark_model.parser import parse_benchmark_log
from seaformer_deploy.bench.measures import Launch, PartialMeasurementError, PhoneProcess
from seaformer_deploy.errors import DeviceError, UsageError
from seaformer_deploy.fileio import atomic_path, ensure_writable_dir, sha256_file

log = logging.getLogger(__name__)

DEVICE_WORK_DIR = "/data/local/tmp/seaformer"
RUNNER_SCRIPT = Path(__file__).resolve().parents[2] / "android_runner" / "run_benchmark.sh"
BENCHMARK_BINARY_ENV = "SEAFORMER_BENCHMARK_MODEL"

Delegate = Literal["xnnpack", "gpu", "nnapi", "cpu"]
DELEGATE_FLAGS: dict[str, tuple[str, ...]] = {
    "xnnpack": ("--use_xnnpack=true",),
    # Explicitly false makes benchmark_model drop the default XNNPACK delegate: builtin kernels.
    "cpu": ("--use_xnnpack=false",),
    "gpu": ("--use_gpu=true",),
    "nnapi": ("--use_nnapi=true",),
}

FINGERPRINT_PROPS = (
    "ro.product.model",
    "ro.soc.model",
    "ro.board.platform",
    "ro.hardware",
    "ro.build.version.sdk",
    "ro.build.fingerprint",
    "ro.product.cpu.abi",
    "ro.product.cpu.abilist",
)

# Room for the output tensors and profile each launch writes before they are pulled.
_SPACE_HEADROOM_BYTES = 16 * 1024 * 1024
_ELF_MACHINE_ABI = {0xB7: "arm64-v8a", 0x28: "armeabi-v7a", 0x3E: "x86_64", 0x03: "x86"}
_ADB_LOST_RE = re.compile(
    r"device '[^']*' not found|device not found|no devices/emulators found|device offline"
    r"|device unauthorized|error: closed|protocol fault|connection reset",
    re.IGNORECASE,
)
_PROP_RE = re.compile(r"^\[([^\]]+)\]: \[(.*)\]\s*$", re.MULTILINE)
_EXIT_RE = re.compile(r"^SEAFORMER_EXIT=(\d+)\s*$", re.MULTILINE)
_PINNED_RE = re.compile(r"^SEAFORMER_PINNED=([01])", re.MULTILINE)
_TIMINGS_RE = re.compile(r"[Ii]nference timings in us")
_AFTER_MARKER = "__SEAFORMER_AFTER__"
_HAL_TEMP_RE = re.compile(r"Temperature\{mValue=(-?[\d.]+), mType=(-?\d+), mName=([^,}]*)")

_CPU_SCRIPT = (
    "for d in /sys/devices/system/cpu/cpu[0-9]*; do "
    'echo "${d##*/}|$(cat $d/cpufreq/cpuinfo_max_freq 2>/dev/null)|'
    "$(cat $d/cpufreq/scaling_governor 2>/dev/null)|$(cat $d/cpu_capacity 2>/dev/null)|"
    '$(cat $d/cpufreq/scaling_cur_freq 2>/dev/null)"; done'
)
_THERMAL_SCRIPT = (
    "dumpsys thermalservice 2>/dev/null; echo __SEAFORMER_ZONES__; "
    "for z in /sys/class/thermal/thermal_zone*; do "
    'echo "${z##*/}|$(cat $z/type 2>/dev/null)|$(cat $z/temp 2>/dev/null)"; done; '
    "echo __SEAFORMER_BATTERY__; dumpsys battery 2>/dev/null"
)


@dataclass(frozen=True)
class AttachedDevice:
    """One line of ``adb devices -l``."""

    serial: str
    state: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CpuInfo:
    """What sysfs tells about one CPU; every field is optional because every read may be denied."""

    index: int
    max_freq_khz: int | None
    governor: str | None
    capacity: int | None
    cur_freq_khz: int | None


@dataclass
class ShellResult:
    """Exit code and output of one ``adb shell`` command (adb passes the remote exit code on)."""

    returncode: int
    stdout: str
    stderr: str


# --------------------------------------------------------------------------- finding adb and the phone


def find_adb(explicit: str | None = None) -> str:
    """Path of adb: ``--adb PATH``, then ``$ADB``, then ``PATH``, then the adb bundled with adbutils."""
    if explicit:
        return _checked_executable(explicit, "--adb")
    from_env = os.environ.get("ADB")
    if from_env:
        return _checked_executable(from_env, "$ADB")
    on_path = shutil.which("adb")
    if on_path:
        return on_path
    bundled = _adbutils_adb()
    if bundled:
        return bundled
    raise DeviceError(
        "adb not found: install Android platform-tools and put adb on PATH, or pass --adb PATH (or set $ADB)"
    )


def _checked_executable(path: str, source: str) -> str:
    resolved = shutil.which(path) if os.sep not in path else path
    if not resolved or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        raise UsageError(f"{source} {path}: not an executable file")
    return resolved


def _adbutils_adb() -> str | None:
    try:
        import adbutils
    except ImportError:
        return None
    try:
        path = adbutils.adb_path()
    except adbutils.AdbError:
        return None
    return path if path and os.access(path, os.X_OK) else None


def find_benchmark_binary(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The user's benchmark_model: ``--benchmark-binary PATH``, then ``$SEAFORMER_BENCHMARK_MODEL``."""
    source, value = (
        ("--benchmark-binary", explicit)
        if explicit
        else (f"${BENCHMARK_BINARY_ENV}", os.environ.get(BENCHMARK_BINARY_ENV))
    )
    if not value:
        raise UsageError(
            f"no benchmark_model binary: pass --benchmark-binary PATH or set ${BENCHMARK_BINARY_ENV} "
            "(android_runner/README.md says where to get one)"
        )
    path = Path(value).expanduser()
    if not path.is_file():
        raise UsageError(f"{source} {value}: benchmark_model binary not found")
    return path


def parse_devices(text: str) -> list[AttachedDevice]:
    """Parse ``adb devices -l`` output (daemon start-up chatter is ignored)."""
    devices = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("List of devices", "*", "adb server", "daemon")):
            continue
        serial, _, rest = line.partition(" ") if "\t" not in line else line.partition("\t")
        rest = rest.strip()
        if rest.startswith("no permissions"):
            devices.append(AttachedDevice(serial, "no permissions"))
            continue
        tokens = rest.split()
        if not tokens:
            continue
        details = dict(tok.split(":", 1) for tok in tokens[1:] if ":" in tok)
        devices.append(AttachedDevice(serial, tokens[0], details))
    return devices


def list_devices(adb: str) -> list[AttachedDevice]:
    """Devices adb can see, in every state."""
    proc = _run_adb([adb, "devices", "-l"], 30.0, "adb devices")
    if proc.returncode != 0:
        raise DeviceError(f"`adb devices` failed: {_last_line(proc.stderr or proc.stdout)}")
    return parse_devices(proc.stdout)


def resolve_device(spec: str, adb: str) -> str:
    """Serial for ``adb:SERIAL``, or for ``adb`` when exactly one device is attached; it must be online."""
    match = re.fullmatch(r"adb(?::(?P<serial>\S+))?", spec.strip())
    if not match:
        raise UsageError(f"device {spec!r} is not 'adb' or 'adb:SERIAL'")
    devices = list_devices(adb)
    wanted = match.group("serial")
    if wanted:
        found = [d for d in devices if d.serial == wanted]
        if not found:
            raise DeviceError(f"device {wanted} not found by adb (attached: {_describe(devices)})")
        return _require_online(found[0])
    if not devices:
        raise DeviceError(
            "no Android device attached: connect a phone with USB debugging enabled and check `adb devices`"
        )
    if len(devices) > 1:
        raise DeviceError(f"several devices attached ({_describe(devices)}): choose one with adb:SERIAL")
    return _require_online(devices[0])


def _describe(devices: Sequence[AttachedDevice]) -> str:
    return ", ".join(f"{d.serial} ({d.state})" for d in devices) or "none"


def _require_online(device: AttachedDevice) -> str:
    if device.state == "device":
        return device.serial
    raise DeviceError(_state_advice(device.serial, device.state))


def _state_advice(serial: str, state: str) -> str:
    if "unauthorized" in state:
        return (
            f"device {serial} is unauthorized: unlock it and accept the 'Allow USB debugging' prompt "
            "(no prompt? run `adb kill-server` and replug)"
        )
    if "offline" in state:
        return f"device {serial} is offline: replug the USB cable or run `adb reconnect`, then retry"
    if "no permissions" in state:
        return f"adb may not open device {serial} (no permissions): install udev rules for it and replug"
    if "not found" in state:
        return f"device {serial} is not connected: plug it in and check `adb devices`"
    return f"device {serial} is in state '{state}', not ready: boot it normally and retry"


def _run_adb(argv: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv,
            check=False,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise DeviceError(f"{what} timed out after {timeout:g} s") from None
    except OSError as exc:
        raise DeviceError(f"cannot run adb at {argv[0]}: {exc.strerror}") from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _tail(text: str, lines: int = 6) -> str:
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:]) if kept else "no output"


# --------------------------------------------------------------------------- one phone


class AdbDevice:
    """One phone reached through ``adb -s SERIAL``."""

    def __init__(self, serial: str, adb_path: str, *, work_dir: str = DEVICE_WORK_DIR) -> None:
        self.serial = serial
        self.adb_path = adb_path
        self.work_dir = work_dir
        self._has_sha256sum: bool | None = None
        self._props: dict[str, str] | None = None

    def _adb(self, args: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
        proc = _run_adb([self.adb_path, "-s", self.serial, *args], timeout, f"{what} on device {self.serial}")
        if proc.returncode != 0 and _ADB_LOST_RE.search(proc.stderr):
            raise DeviceError(
                f"device {self.serial} disconnected ({_last_line(proc.stderr)}): reconnect it and retry"
            )
        return proc

    def ensure_online(self) -> None:
        """Raise DeviceError with advice unless ``adb get-state`` says ``device``."""
        proc = _run_adb([self.adb_path, "-s", self.serial, "get-state"], 30.0, f"get-state of {self.serial}")
        state = proc.stdout.strip() if proc.returncode == 0 else proc.stderr.strip()
        if state != "device":
            raise DeviceError(_state_advice(self.serial, state or "unknown"))

    def shell_result(self, cmd: str, timeout: float = 60.0) -> ShellResult:
        """Run ``cmd`` in the phone's shell; a lost device raises, a failing command does not."""
        proc = self._adb(["shell", cmd], timeout, f"`{cmd[:60]}`")
        return ShellResult(proc.returncode, proc.stdout, proc.stderr)

    def shell(self, cmd: str, timeout: float = 60.0) -> str:
        """Run ``cmd`` in the phone's shell and return its stdout; a non-zero exit raises DeviceError."""
        result = self.shell_result(cmd, timeout)
        if result.returncode != 0:
            raise DeviceError(
                f"command failed on device {self.serial} (exit {result.returncode}): {cmd[:80]}: "
                f"{_tail(result.stdout + result.stderr, 3)}"
            )
        return result.stdout

    def push(self, local: str | os.PathLike[str], remote: str, timeout: float = 600.0) -> bool:
        """Copy ``local`` to ``remote``; skipped (returns False) when the phone has the same sha256."""
        return self.push_files([(local, remote)], timeout)[0]

    def push_files(
        self, pairs: Sequence[tuple[str | os.PathLike[str], str]], timeout: float = 600.0
    ) -> list[bool]:
        """Push (local, remote) pairs, hashing every remote copy in one round trip; True where pushed."""
        remote_hashes = self._remote_sha256s([remote for _, remote in pairs])
        pushed = []
        for local, remote in pairs:
            local = Path(local)
            if remote_hashes.get(remote) == sha256_file(local):
                log.info("%s: %s already on the phone, not pushed", self.serial, remote)
                pushed.append(False)
                continue
            proc = self._adb(["push", str(local), remote], timeout, f"push {local.name}")
            if proc.returncode != 0:
                text = proc.stderr + proc.stdout
                if "No space left" in text:
                    raise DeviceError(
                        f"not enough space on device {self.serial}: pushing {local.name} "
                        f"({local.stat().st_size / 1e6:.1f} MB) failed: {_last_line(text)}"
                    )
                raise DeviceError(
                    f"adb push {local} {remote} failed on device {self.serial}: {_last_line(text)}"
                )
            pushed.append(True)
        return pushed

    def _remote_sha256s(self, remotes: Sequence[str]) -> dict[str, str]:
        if self._has_sha256sum is False or not remotes:
            return {}
        result = self.shell_result("sha256sum " + " ".join(map(shlex.quote, remotes)), timeout=120.0)
        if result.returncode == 127 or re.search(
            r"sha256sum.*(not found|inaccessible)", result.stderr + result.stdout
        ):
            # Older toybox builds lack sha256sum: always push rather than trust a file name.
            self._has_sha256sum = False
            return {}
        self._has_sha256sum = True
        # Missing files only add error lines; the others still get "HASH  PATH" lines.
        return {
            path: digest
            for digest, path in re.findall(r"^([0-9a-f]{64}) [ *]?(.+?)\s*$", result.stdout, re.M)
        }

    def pull(self, remote: str, local: str | os.PathLike[str], timeout: float = 600.0) -> Path:
        """Copy ``remote`` to ``local`` atomically."""
        local = Path(local)
        with atomic_path(local) as tmp:
            proc = self._adb(["pull", remote, str(tmp)], timeout, f"pull {remote}")
            if proc.returncode != 0:
                reason = _last_line(proc.stderr + proc.stdout)
                raise DeviceError(f"adb pull {remote} failed on device {self.serial}: {reason}")
        return local

    def getprops(self) -> dict[str, str]:
        """All system properties (one ``getprop`` call, cached)."""
        if self._props is None:
            self._props = dict(_PROP_RE.findall(self.shell("getprop", timeout=30.0)))
        return self._props

    def abilist(self) -> list[str]:
        """ABIs the phone runs, preferred first."""
        props = self.getprops()
        listed = [abi.strip() for abi in props.get("ro.product.cpu.abilist", "").split(",") if abi.strip()]
        return listed or [props.get("ro.product.cpu.abi", "unknown")]

    def check_abi(self, binary: str | os.PathLike[str]) -> str:
        """Raise DeviceError unless the phone runs the binary's ABI (arm64-v8a when not an ELF file)."""
        required = elf_abi(binary) or "arm64-v8a"
        abilist = self.abilist()
        if required not in abilist:
            raise DeviceError(
                f"device {self.serial} has ABI {abilist[0]} (runs {','.join(abilist)}) but the "
                f"benchmark_model binary targets {required}: use a {required} phone or a benchmark_model "
                f"built for {abilist[0]}"
            )
        return required

    def cpus(self) -> list[CpuInfo]:
        """Per-CPU max/current frequency, governor and capacity from sysfs (unreadable fields are None)."""
        result = self.shell_result(_CPU_SCRIPT, timeout=30.0)
        cpus = []
        for line in result.stdout.splitlines():
            parts = line.strip().split("|")
            if len(parts) != 5 or not re.fullmatch(r"cpu\d+", parts[0]):
                continue
            cpus.append(
                CpuInfo(
                    int(parts[0][3:]),
                    _int_or_none(parts[1]),
                    parts[2].strip() or None,
                    _int_or_none(parts[3]),
                    _int_or_none(parts[4]),
                )
            )
        return sorted(cpus, key=lambda cpu: cpu.index)

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the measurement setup: the properties of FINGERPRINT_PROPS and per-CPU sysfs."""
        props = self.getprops()
        return {
            "serial": self.serial,
            "props": {name: props.get(name) or None for name in FINGERPRINT_PROPS},
            "cpus": [
                {
                    "cpu": c.index,
                    "cpuinfo_max_freq": c.max_freq_khz,
                    "scaling_governor": c.governor,
                    "cpu_capacity": c.capacity,
                }
                for c in self.cpus()
            ],
        }

    def big_core_mask(self, threads: int = 1) -> str | None:
        """Hex taskset mask of the big cores for ``threads`` threads; None when no CPU is readable."""
        cpus = self.cpus()
        return cpu_mask_hex(select_big_cores(cpus, threads)) if cpus else None

    def thermal(self) -> dict[str, Any]:
        """Thermal status (dumpsys thermalservice), zone temperatures and battery temperature, in degC."""
        return parse_thermal(self.shell_result(_THERMAL_SCRIPT, timeout=30.0).stdout)

    def free_space_bytes(self, path: str = "/data/local/tmp") -> int | None:
        """Bytes available to ``path``'s file system, or None when ``df`` cannot be read."""
        result = self.shell_result(f"df -k {shlex.quote(path)}", timeout=30.0)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        if result.returncode != 0 or len(lines) < 2:
            return None
        fields = lines[-1].split()
        # Counted from the end ("Available Use% Mounted-on") so a wrapped long device name does not matter.
        try:
            return int(fields[-3]) * 1024
        except (IndexError, ValueError):
            return None

    def cleanup(self) -> None:
        """Remove the toolkit's work folder from the phone."""
        self.shell(f"rm -rf {shlex.quote(self.work_dir)}", timeout=60.0)


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else None



def elf_abi(path: str | os.PathLike[str]) -> str | None:
    """Android ABI an ELF executable targets, or None when the file is not ELF (or an unknown machine)."""
    with open(path, "rb") as handle:
        head = handle.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return _ELF_MACHINE_ABI.get(machine)


def select_big_cores(cpus: Sequence[CpuInfo], threads: int = 1) -> list[int]:
    """CPUs of the fastest max-frequency group, adding the next group until ``threads`` cores are in.

    On a Snapdragon 865 (4x1.8 + 3x2.42 + 1x2.84 GHz) that is [7] for one thread and [4..7] for 2-4
    threads: pinning four threads to the lone prime core would serialise them. ``cpu_capacity`` ranks
    the CPUs when no frequency is readable; with neither, every CPU is kept.
    """
    use_freq = any(c.max_freq_khz is not None for c in cpus)
    speeds = {c.index: (c.max_freq_khz if use_freq else c.capacity) for c in cpus}
    ranked = {i: s for i, s in speeds.items() if s is not None}
    if not ranked:
        return sorted(speeds)
    chosen: list[int] = []
    for speed in sorted(set(ranked.values()), reverse=True):
        chosen += [i for i, s in ranked.items() if s == speed]
        if len(chosen) >= threads:
            break
    return sorted(chosen)


def cpu_mask_hex(indices: Sequence[int]) -> str:
    """taskset mask for CPU indices, in hex without 0x (e.g. [4, 5, 6, 7] -> 'f0')."""
    return format(sum(1 << i for i in set(indices)), "x")


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


def parse_thermal(text: str) -> dict[str, Any]:
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
    return {
        "status": int(status_match.group(1)) if status_match else None,
        "zones_c": zones,
        "battery_c": battery_c,
        "hottest_c": max(candidates) if candidates else None,
    }


# --------------------------------------------------------------------------- benchmark launches


@dataclass(frozen=True)
class _InputSpec:
    name: str
    shape: tuple[int, ...]
    nbytes: int


def _model_inputs(model: Path) -> list[_InputSpec]:
    # Imported here: the runtime is heavy and only needed when input files are given.
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        interpreter = Interpreter(
            model_path=str(model),
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
    except (ValueError, RuntimeError) as exc:
        raise UsageError(f"cannot read the inputs of {model}: {exc}") from None
    specs = []
    for detail in interpreter.get_input_details():
        shape = tuple(int(d) for d in detail["shape"])
        specs.append(_InputSpec(detail["name"], shape, math.prod(shape) * detail["dtype"]().itemsize))
    return specs


def _input_flags(
    model: Path, input_files: Mapping[str, Path], remote_dir: str
) -> tuple[list[str], list[tuple[Path, str]]]:
    """benchmark_model flags and uploads for input value files.

    benchmark_model matches value files against --input_layer, which must list EVERY model input in
    interpreter order with its shape; a ':' inside a tensor name is escaped as '::'.
    """
    specs = _model_inputs(model)
    by_name = {spec.name: spec for spec in specs}
    unknown = sorted(set(input_files) - set(by_name))
    if unknown:
        raise UsageError(
            f"input {unknown[0]!r} is not an input of {model.name} (inputs: {', '.join(by_name)})"
        )
    uploads, value_files = [], []
    for position, (name, path) in enumerate(sorted(input_files.items())):
        size = path.stat().st_size
        if size != by_name[name].nbytes:
            raise UsageError(
                f"input file {path} has {size} bytes but input {name} {list(by_name[name].shape)} needs "
                f"{by_name[name].nbytes}"
            )
        remote = f"{remote_dir}/input_{position}.raw"
        uploads.append((path, remote))
        value_files.append(f"{name.replace(':', '::')}:{remote}")
    flags = [
        "--input_layer=" + ",".join(spec.name for spec in specs),
        "--input_layer_shape=" + ":".join(",".join(str(d) for d in spec.shape) for spec in specs),
        "--input_layer_value_files=" + ",".join(value_files),
    ]
    return flags, uploads


def _check_mask(mask: str) -> str:
    cleaned = mask.lower().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-f]+", cleaned) or int(cleaned, 16) == 0:
        raise UsageError(f"CPU mask {mask!r} is not a non-zero hex taskset mask (e.g. f0)")
    return cleaned


def _is_cool(state: Mapping[str, Any], cool_temp_c: float) -> bool:
    hottest = state.get("hottest_c")
    return (state.get("status") or 0) <= 0 and (hottest is None or hottest < cool_temp_c)


def _wait_until_cool(
    device: AdbDevice, cooldown_s: float, cool_temp_c: float, poll_s: float
) -> tuple[dict, float]:
    """Poll the thermals until the phone is cool or ``cooldown_s`` has passed; return the last reading."""
    start = time.monotonic()
    while True:
        state = device.thermal()
        remaining = cooldown_s - (time.monotonic() - start)
        if _is_cool(state, cool_temp_c) or remaining <= 0:
            return state, time.monotonic() - start
        time.sleep(min(poll_s, remaining))


def _failure_reason(exit_code: int | None) -> str:
    if exit_code is None:
        return "the runner did not finish"
    if exit_code == 0:
        return "no timing lines in its output"
    if exit_code > 128:
        try:
            return f"exit {exit_code}, {signal.Signals(exit_code - 128).name}"
        except ValueError:
            return f"exit {exit_code}"
    return {126: "exit 126, not executable", 127: "exit 127, command not found"}.get(
        exit_code, f"exit {exit_code}"
    )


def _parse_runner_output(text: str) -> tuple[str, int | None, bool | None]:
    """benchmark_model's own output, its exit code and whether taskset pinned it."""
    exit_match = _EXIT_RE.search(text)
    pinned_match = _PINNED_RE.search(text)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("SEAFORMER_")) + "\n"
    return (
        body,
        int(exit_match.group(1)) if exit_match else None,
        pinned_match.group(1) == "1" if pinned_match else None,
    )


def run_benchmark_launches(
    device: AdbDevice,
    *,
    model: str | os.PathLike[str],
    binary: str | os.PathLike[str],
    threads: int,
    delegate: Delegate,
    warmup: int,
    runs: int,
    repeats: int,
    cpu_mask: str | None = None,
    input_files: Mapping[str, str | os.PathLike[str]] | None = None,
    output_dir_on_host: str | os.PathLike[str] | None = None,
    op_profiling: bool = False,
    cooldown_s: float = 120.0,
    cool_temp_c: float = 45.0,
    cooldown_poll_s: float = 5.0,
    throttle_backoff_s: float = 90.0,
    max_throttle_retries: int = 3,
    launch_timeout_s: float = 1800.0,
    keep: bool = False,
    on_launch: Callable[[Launch], None] | None = None,
) -> list[Launch]:
    """Run ``repeats`` independent benchmark_model launches of ``model`` on the phone.

    Args:
        device: the phone.
        model: local .tflite file.
        binary: local benchmark_model built for the phone's ABI.
        threads, delegate, warmup, runs: benchmark_model's --num_threads, delegate, --warmup_runs and
            --num_runs (exact counts: --warmup_min_secs=0 --min_secs=0).
        repeats: number of process launches.
        cpu_mask: hex taskset mask; default: the big cores for ``threads`` (see select_big_cores).
        input_files: input tensor name -> local raw file (little-endian, the tensor's exact byte size).
        output_dir_on_host: when set, each launch's output tensors (and the op profile as CSV) are
            written on the phone and pulled to ``DIR/launch_NN/outputs.bin`` / ``op_profile.csv``.
        op_profiling: per-op profile; printed in ``stdout`` when there is no output folder.
        cooldown_s, cool_temp_c, cooldown_poll_s: before each launch, wait until thermal status is 0
            and the hottest CPU zone is below ``cool_temp_c``, at most ``cooldown_s``.
        throttle_backoff_s, max_throttle_retries: a launch with thermal status > 0 is throttled; back
            off and retry it, and after the last retry keep it flagged.
        keep: leave /data/local/tmp/seaformer on the phone (later runs then skip unchanged pushes).
        on_launch: called with every finished Launch.

    Raises:
        UsageError: a bad argument or a missing local file.
        DeviceError: the phone cannot be used (ABI, space); PartialMeasurementError once launches began,
            carrying the launches that finished.
    """
    model, binary = Path(model), Path(binary)
    if not binary.is_file():
        raise UsageError(f"benchmark_model binary {binary} not found (see android_runner/README.md)")
    if not model.is_file():
        raise UsageError(f"model {model} not found")
    if delegate not in DELEGATE_FLAGS:
        raise UsageError(f"delegate {delegate!r} is not one of {', '.join(DELEGATE_FLAGS)}")
    for name, value, low in (
        ("threads", threads, 1),
        ("warmup", warmup, 0),
        ("runs", runs, 1),
        ("repeats", repeats, 1),
        ("max_throttle_retries", max_throttle_retries, 0),
    ):
        if value < low:
            raise UsageError(f"{name} must be >= {low}, got {value}")
    local_inputs = {name: Path(path) for name, path in (input_files or {}).items()}
    for path in local_inputs.values():
        if not path.is_file():
            raise UsageError(f"input file {path} not found")
    if not RUNNER_SCRIPT.is_file():
        raise UsageError(f"device runner {RUNNER_SCRIPT} is missing from this installation")
    host_dir = ensure_writable_dir(output_dir_on_host) if output_dir_on_host is not None else None
    mask = _check_mask(cpu_mask) if cpu_mask else None

    work = device.work_dir
    input_flags, input_uploads = _input_flags(model, local_inputs, work) if local_inputs else ([], [])
    device.ensure_online()
    device.check_abi(binary)
    mask = mask or device.big_core_mask(threads)
    uploads = [
        (RUNNER_SCRIPT, f"{work}/run_benchmark.sh"),
        (binary, f"{work}/benchmark_model"),
        (model, f"{work}/{model.name}"),
        *input_uploads,
    ]
    need = sum(local.stat().st_size for local, _ in uploads) + _SPACE_HEADROOM_BYTES
    free = device.free_space_bytes(work.rsplit("/", 1)[0] or "/")
    if free is None:
        log.warning("%s: free space on the phone is unreadable; pushing anyway", device.serial)
    elif free < need:
        raise DeviceError(
            f"not enough space on device: need {need / 1e6:.1f} MB, have {free / 1e6:.1f} MB "
            f"in {work.rsplit('/', 1)[0]} on {device.serial}"
        )

    remote_outputs = f"{work}/outputs.bin" if host_dir else None
    remote_profile = f"{work}/op_profile.csv" if host_dir and op_profiling else None
    flags = [
        f"--graph={work}/{model.name}",
        f"--num_threads={threads}",
        f"--warmup_runs={warmup}",
        "--warmup_min_secs=0",
        f"--num_runs={runs}",
        "--min_secs=0",
        *DELEGATE_FLAGS[delegate],
        "--report_peak_memory_footprint=true",
        *input_flags,
    ]
    if op_profiling:
        flags.append("--enable_op_profiling=true")
    if remote_profile:
        flags += ["--op_profiling_output_mode=csv", f"--op_profiling_output_file={remote_profile}"]
    if remote_outputs:
        flags.append(f"--output_filepath={remote_outputs}")
    command = _launch_command(work, mask, flags, [p for p in (remote_outputs, remote_profile) if p])

    launches: list[Launch] = []
    try:
        device.push_files(uploads)
        for index in range(repeats):
            launch = _run_launch(
                device,
                index,
                repeats,
                command,
                mask,
                cooldown=(cooldown_s, cool_temp_c, cooldown_poll_s),
                throttle=(throttle_backoff_s, max_throttle_retries),
                timeout_s=launch_timeout_s,
            )
            if host_dir and launch.process is not None:
                pulled = _pull_launch_files(device, host_dir / f"launch_{index:02d}", remote_outputs, remote_profile)
                launch.process = replace(launch.process, output_files=pulled)
            launches.append(launch)
            if on_launch:
                on_launch(launch)
    except DeviceError as exc:
        raise PartialMeasurementError(f"{exc} ({len(launches)} of {repeats} launches finished)", launches) from exc
    finally:
        if not keep:
            try:
                device.cleanup()
            except DeviceError as exc:
                log.warning("%s: could not remove %s: %s", device.serial, work, exc)
    return launches


def _launch_command(work: str, mask: str | None, flags: Sequence[str], stale: Sequence[str]) -> str:
    """The shell line of one launch.

    It re-asserts the binary's exec bit, removes stale outputs (a launch must never hand back its
    predecessor's tensors), runs the runner script, and reads the thermals in the same shell right
    after the process exits.
    """
    quote = shlex.quote
    remove = f"rm -f {' '.join(map(quote, stale))} && " if stale else ""
    return (
        f"cd {quote(work)} && chmod 755 ./benchmark_model && {remove}"
        f"sh ./run_benchmark.sh {quote(mask or 'none')} ./benchmark_model "
        f"{' '.join(map(quote, flags))} 2>&1; "
        f"echo {_AFTER_MARKER}; {_THERMAL_SCRIPT}"
    )


def _run_launch(
    device: AdbDevice,
    index: int,
    repeats: int,
    command: str,
    mask: str | None,
    *,
    cooldown: tuple[float, float, float],
    throttle: tuple[float, int],
    timeout_s: float,
) -> Launch:
    """One launch behind the cooldown gate, retried while the phone reports throttling."""
    backoff_s, max_retries = throttle
    retries = 0
    while True:
        before, waited = _wait_until_cool(device, *cooldown)
        start = time.monotonic()
        result = device.shell_result(command, timeout=timeout_s)
        duration = time.monotonic() - start
        runner_text, _, thermal_text = result.stdout.partition(_AFTER_MARKER)
        after = parse_thermal(thermal_text)
        text = runner_text + result.stderr
        body, exit_code, pinned = _parse_runner_output(text)
        if exit_code != 0 or not _TIMINGS_RE.search(body):
            raise DeviceError(
                f"benchmark_model failed on device {device.serial} in launch {index + 1}/{repeats} "
                f"({_failure_reason(exit_code)}): {_tail(text)}"
            )
        throttled = (before.get("status") or 0) > 0 or (after.get("status") or 0) > 0
        if throttled and retries < max_retries:
            retries += 1
            log.warning(
                "%s: launch %d ran throttled (thermal status %s); backing off %g s, retry %d/%d",
                device.serial,
                index + 1,
                after.get("status"),
                backoff_s,
                retries,
                max_retries,
            )
            time.sleep(backoff_s)
            continue
        return launch_from_log(
            index,
            parse_benchmark_log(body, source=f"launch {index} on the phone"),
            thermal_before=before,
            thermal_after=after,
            throttled=throttled,
            retries=retries,
            duration_s=duration,
            process=PhoneProcess(stdout=body, cooldown_wait_s=waited, pinned=pinned, cpu_mask=mask),
        )


def _pull_launch_files(
    device: AdbDevice, launch_dir: Path, remote_outputs: str | None, remote_profile: str | None
) -> dict[str, Path]:
    launch_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, remote, name in (
        ("outputs", remote_outputs, "outputs.bin"),
        ("op_profile", remote_profile, "op_profile.csv"),
    ):
        if remote:
            files[key] = device.pull(remote, launch_dir / name)
    return files

"""One Android phone over adb: finding adb, choosing the phone, and the shell/push/pull client.

This module only talks to an ``adb`` executable through subprocess, so the tests drive this exact code
against a simulated phone (``tests/sim/fake_adb.py``).
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seaformer_deploy.bench.adb.cpus import CPU_SCRIPT, CpuInfo, cpu_mask_hex, parse_cpus, select_big_cores
from seaformer_deploy.bench.adb.thermal import THERMAL_SCRIPT, parse_thermal
from seaformer_deploy.bench.measures import ThermalReading
from seaformer_deploy.errors import DeviceError, UsageError
from seaformer_deploy.fileio import atomic_path, sha256_file

log = logging.getLogger(__name__)

DEVICE_WORK_DIR = "/data/local/tmp/seaformer"

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


_ELF_MACHINE_ABI = {0xB7: "arm64-v8a", 0x28: "armeabi-v7a", 0x3E: "x86_64", 0x03: "x86"}
_ADB_LOST_RE = re.compile(
    r"device '[^']*' not found|device not found|no devices/emulators found|device offline"
    r"|device unauthorized|error: closed|protocol fault|connection reset",
    re.IGNORECASE,
)
_PROP_RE = re.compile(r"^\[([^\]]+)\]: \[(.*)\]\s*$", re.MULTILINE)


@dataclass(frozen=True)
class AttachedDevice:
    """One line of ``adb devices -l``."""

    serial: str
    state: str
    details: dict[str, str] = field(default_factory=dict)


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
        raise DeviceError(f"`adb devices` failed: {last_line(proc.stderr or proc.stdout)}")
    return parse_devices(proc.stdout)


def resolve_serial(serial: str | None, adb: str) -> str:
    """``serial`` when adb sees it online, or with None the only attached device; else DeviceError with advice."""
    devices = list_devices(adb)
    if serial:
        found = [d for d in devices if d.serial == serial]
        if not found:
            raise DeviceError(f"device {serial} not found by adb (attached: {_describe(devices)})")
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
    raise DeviceError(state_advice(device.serial, device.state))


def state_advice(serial: str, state: str) -> str:
    """What to do about a phone adb reports in ``state`` (unauthorized, offline, no permissions, not found)."""
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


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def tail(text: str, lines: int = 6) -> str:
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
                f"device {self.serial} disconnected ({last_line(proc.stderr)}): reconnect it and retry"
            )
        return proc

    def ensure_online(self) -> None:
        """Raise DeviceError with advice unless ``adb get-state`` says ``device``."""
        proc = _run_adb([self.adb_path, "-s", self.serial, "get-state"], 30.0, f"get-state of {self.serial}")
        state = proc.stdout.strip() if proc.returncode == 0 else proc.stderr.strip()
        if state != "device":
            raise DeviceError(state_advice(self.serial, state or "unknown"))

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
                f"{tail(result.stdout + result.stderr, 3)}"
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
                        f"({local.stat().st_size / 1e6:.1f} MB) failed: {last_line(text)}"
                    )
                raise DeviceError(
                    f"adb push {local} {remote} failed on device {self.serial}: {last_line(text)}"
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

    def pull(self, remote: str, local: str | os.PathLike[str], timeout: float = 600.0, *,
             missing_ok: bool = False) -> Path | None:
        """Copy ``remote`` to ``local`` atomically; with ``missing_ok`` a remote file that does not exist
        gives None (a lost phone still raises)."""
        local = Path(local)
        try:
            with atomic_path(local) as tmp:
                proc = self._adb(["pull", remote, str(tmp)], timeout, f"pull {remote}")
                if proc.returncode != 0:
                    raise DeviceError(f"adb pull {remote} failed on device {self.serial}: "
                                      f"{last_line(proc.stderr + proc.stdout)}")
        except DeviceError as exc:
            # Raised inside the block so that nothing is left at ``local``.
            if missing_ok and str(exc).endswith("No such file or directory"):
                return None
            raise
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
        return parse_cpus(self.shell_result(CPU_SCRIPT, timeout=30.0).stdout)

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

    def thermal(self) -> ThermalReading:
        """Thermal status (dumpsys thermalservice), zone temperatures and battery temperature, in degC."""
        return parse_thermal(self.shell_result(THERMAL_SCRIPT, timeout=30.0).stdout)

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


def elf_abi(path: str | os.PathLike[str]) -> str | None:
    """Android ABI an ELF executable targets, or None when the file is not ELF (or an unknown machine)."""
    with open(path, "rb") as handle:
        head = handle.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return _ELF_MACHINE_ABI.get(machine)


#!/usr/bin/env python3
"""Stand-in for the ``adb`` command line, backed by simulated phones in ``$SEAFORMER_SIM_ROOT``.

Supported subset: ``[-s SERIAL] devices [-l] | get-state | shell [-T|-t|-x|-n] CMD... |
push LOCAL... REMOTE | pull REMOTE LOCAL | version``. Messages, output formats and exit codes follow
platform-tools adb (shell passes the remote exit code on, as adb's shell protocol v2 does).
How shell commands run on the simulated file system is described in phone.py.

Faults (``faults`` in a phone's config): ``disconnect_after_commands`` (the phone vanishes once it has
answered N commands), ``disconnect_after_launches`` (after the N-th finished benchmark run),
``crash_on_launches`` (passed to the fake benchmark_model), ``throttle_after_launches`` (thermal status
jumps after those runs); ``free_bytes`` small means no space; ``state`` unauthorized/offline.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import phone

UNAUTHORIZED = (
    "adb: device unauthorized.\n"
    "This adb server's $ADB_VENDOR_KEYS is not set\n"
    "Try 'adb kill-server' if that seems wrong.\n"
    "Otherwise check for a confirmation dialog on your device.\n"
)
# A "/" that starts an absolute device path: not inside a word or another path, followed by a root.
_ROOTS = "|".join(phone.DEVICE_ROOTS)
_DEVICE_PATH_RE = re.compile(rf"(?<![\w./~-])/(?=(?:{_ROOTS})(?:/|$|[\s'\";|&)<>]))")


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(message if message.endswith("\n") else message + "\n")
    return code


def visible_devices(root: Path) -> list[dict]:
    return [c for c in phone.load_devices(root) if not phone.load_state(root, c["serial"])["disconnected"]]


def cmd_devices(root: Path, args: list[str]) -> int:
    lines = ["List of devices attached"]
    for transport_id, config in enumerate(visible_devices(root), start=1):
        if "-l" not in args:
            lines.append(f"{config['serial']}\t{config['state']}")
            continue
        extras = [f"usb:{config['usb']}"]
        if config["state"] == "device":
            extras += [
                f"product:{config['product']}",
                f"model:{config['model']}",
                f"device:{config['device']}",
            ]
        extras.append(f"transport_id:{transport_id}")
        lines.append(f"{config['serial']:<22} {config['state']} {' '.join(extras)}")
    print("\n".join(lines) + "\n")
    return 0


def select_device(root: Path, serial: str | None) -> dict | str:
    """The target phone's config, or the adb error message when there is none to talk to."""
    visible = visible_devices(root)
    if serial is None:
        if not visible:
            return "adb: no devices/emulators found"
        if len(visible) > 1:
            return "adb: more than one device/emulator"
        config = visible[0]
    else:
        config = next((c for c in visible if c["serial"] == serial), None)
        if config is None:
            return f"adb: device '{serial}' not found"
    if config["state"] == "unauthorized":
        return UNAUTHORIZED
    if config["state"] == "offline":
        return "adb: device offline"
    return config


def device_to_host(fs: Path, device_path: str) -> Path:
    return fs / device_path.lstrip("/")


def to_host_paths(command: str, fs: Path) -> str:
    return _DEVICE_PATH_RE.sub(lambda _: f"{fs}/", command)


def to_device_paths(output: bytes, fs: Path) -> bytes:
    return output.replace(str(fs).encode(), b"")


def cmd_shell(root: Path, config: dict, args: list[str]) -> int:
    while args and args[0] in ("-T", "-t", "-x", "-n"):
        args = args[1:]
    if not args:
        return fail("fake adb: an interactive shell is not simulated; pass a command")
    serial = config["serial"]
    fs = phone.build_device_tree(root, config)
    phone.refresh_thermal_files(root, config, phone.load_state(root, serial), time.time())
    env = {
        "PATH": str(root / serial / "bin"),
        "HOME": str(fs / "data/local/tmp"),
        "TMPDIR": str(fs / "data/local/tmp"),
        "LC_ALL": "C",
        phone.SIM_ROOT_ENV: str(root),
        "SEAFORMER_SIM_SERIAL": serial,
        phone.EVENTS_ENV: str(root / serial / "events.jsonl"),
        phone.CRASH_ON_ENV: ",".join(str(n) for n in config["faults"].get("crash_on_launches", [])),
    }
    import subprocess  # only here: every adb call is a fresh interpreter, and most never need it

    proc = subprocess.run(
        ["/bin/sh", "-c", to_host_paths(" ".join(args), fs)],
        cwd=fs,
        env=env,
        capture_output=True,
        check=False,
    )
    sys.stdout.buffer.write(to_device_paths(proc.stdout, fs))
    sys.stderr.buffer.write(to_device_paths(proc.stderr, fs))
    phone.process_events(root, config)
    return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode


def _rate(size: int, seconds: float) -> str:
    return f"{size / seconds / 1e6:.1f} MB/s ({size} bytes in {seconds:.3f}s)"


def _writable(device_path: str) -> bool:
    return any(device_path == p or device_path.startswith(p + "/") for p in phone.WRITABLE_PREFIXES)


def cmd_push(root: Path, config: dict, args: list[str]) -> int:
    args = [a for a in args if not a.startswith("-")]
    if len(args) < 2:
        return fail("adb: error: push requires an argument")
    *sources, remote = args
    fs = phone.build_device_tree(root, config)
    for local in sources:
        src = Path(local)
        if not src.is_file():
            return fail(f"adb: error: cannot stat '{local}': No such file or directory")
        into_dir = remote.endswith("/") or device_to_host(fs, remote).is_dir()
        target = remote.rstrip("/") + "/" + src.name if into_dir else remote
        if not _writable(target):
            return fail(f"adb: error: failed to copy '{local}' to '{target}': remote Read-only file system")
        dest = device_to_host(fs, target)
        replaced = dest.stat().st_size if dest.is_file() else 0
        size = src.stat().st_size
        if size - replaced > phone.free_bytes(root, config):
            return fail(f"adb: error: failed to copy '{local}' to '{target}': remote No space left on device")
        start = time.perf_counter()
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(src.read_bytes())
        # adb push keeps the permission bits of the local file.
        os.chmod(dest, src.stat().st_mode & 0o777)
        seconds = max(time.perf_counter() - start, 1e-6)
        print(f"{local}: 1 file pushed, 0 skipped. {_rate(size, seconds)}")
    return 0


def cmd_pull(root: Path, config: dict, args: list[str]) -> int:
    args = [a for a in args if not a.startswith("-")]
    if len(args) != 2:
        return fail("adb: error: pull requires a remote and a local path")
    remote, local = args
    src = device_to_host(phone.build_device_tree(root, config), remote)
    if not src.is_file():
        return fail(f"adb: error: failed to stat remote object '{remote}': No such file or directory")
    dest = Path(local)
    if dest.is_dir():
        dest = dest / src.name
    start = time.perf_counter()
    dest.write_bytes(src.read_bytes())
    seconds = max(time.perf_counter() - start, 1e-6)
    size = src.stat().st_size
    print(f"{remote}: 1 file pulled, 0 skipped. {_rate(size, seconds)}")
    return 0


def main(argv: list[str]) -> int:
    root = phone.sim_root()
    serial = os.environ.get("ANDROID_SERIAL") or None
    args = list(argv)
    while args and args[0].startswith("-"):
        if args[0] == "-s" and len(args) > 1:
            serial, args = args[1], args[2:]
        else:
            return fail(f"adb: unsupported option {args[0]} in the simulator")
    phone.append_log(root, {"serial": serial, "argv": argv, "cmd": args[0] if args else None})
    if not args:
        return fail("adb: usage: adb [-s SERIAL] COMMAND")
    command, rest = args[0], args[1:]
    if command == "version":
        print(f"Android Debug Bridge version 1.0.41\nVersion 35.0.2-seaformer-sim\nInstalled as {__file__}")
        return 0
    if command == "devices":
        return cmd_devices(root, rest)
    handlers = {"shell": cmd_shell, "push": cmd_push, "pull": cmd_pull}
    if command not in handlers and command != "get-state":
        return fail(f"adb: unknown command {command}")
    target = select_device(root, serial)
    if isinstance(target, str):
        return fail(target)
    state = phone.load_state(root, target["serial"])
    state["commands"] += 1
    limit = target["faults"].get("disconnect_after_commands")
    if limit is not None and state["commands"] > limit:
        state["disconnected"] = True
    phone.save_state(root, target["serial"], state)
    if state["disconnected"]:
        return fail(f"adb: device '{target['serial']}' not found")
    if command == "get-state":
        print("device")
        return 0
    return handlers[command](root, target, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

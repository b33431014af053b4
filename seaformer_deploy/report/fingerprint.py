"""What identifies a measurement device for comparisons and stored baselines.

A phone is its model, SoC (``ro.soc.model``, else the board platform), build fingerprint and the CPU mask the
runs were pinned to; this host is its CPU model, architecture, core count and runtime versions. Serials and
host names are left out on purpose: two phones of one build, or two CI runners of one image, are the same
measurement setup, and a CI runner's host name changes every job.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from seaformer_deploy.bench.report import DeviceSection


@dataclass(frozen=True)
class DeviceFingerprint:
    """Ordered ``(name, value)`` pairs; two devices are the same setup when all pairs are equal."""

    kind: str
    fields: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in self.fields)

    def differences(self, other: DeviceFingerprint) -> list[str]:
        """``"soc sm8250 vs sm8350"`` for every field that differs (the kind first when it differs)."""
        if self.kind != other.kind:
            return [f"device kind {self.kind} vs {other.kind}"]
        mine, theirs = dict(self.fields), dict(other.fields)
        return [f"{name} {mine.get(name, '-')} vs {theirs.get(name, '-')}"
                for name in dict.fromkeys([*mine, *theirs]) if mine.get(name) != theirs.get(name)]

    def slug(self) -> str:
        """A folder name: readable head (kind and model or CPU) plus a hash of every field."""
        digest = hashlib.sha256(repr((self.kind, self.fields)).encode()).hexdigest()[:12]
        head = dict(self.fields).get("model") or dict(self.fields).get("cpu") or "device"
        readable = re.sub(r"[^A-Za-z0-9]+", "-", f"{self.kind}-{head}").strip("-").lower()[:48]
        return f"{readable}-{digest}"


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return "-" if value is None else str(value)


def device_fingerprint(section: DeviceSection) -> DeviceFingerprint:
    """The fingerprint of a bench report's ``device`` section."""
    device = section.fingerprint
    kind = str(section.kind or section.spec)
    if kind == "local":
        names = (("cpu", "cpu"), ("machine", "machine"), ("cores", "cores"), ("runtimes", "runtimes"))
        return DeviceFingerprint(kind, tuple((label, _text(device.get(key))) for label, key in names))
    if kind == "adb":
        props = device.get("props") or {}
        soc = device.get("soc") or props.get("ro.soc.model") or props.get("ro.board.platform")
        return DeviceFingerprint(kind, (
            ("model", _text(device.get("model") or props.get("ro.product.model"))),
            ("soc", _text(soc)),
            ("build", _text(props.get("ro.build.fingerprint"))),
            ("cpu mask", _text(device.get("cpu_mask"))),
        ))
    # An imported log knows only the name it was given.
    return DeviceFingerprint(kind, (("name", section.spec),))

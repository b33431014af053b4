"""The device and delegate a benchmark runs on, parsed from their command-line spelling in one place each.

``--device`` is ``local`` (this host), ``adb`` (the only attached phone), ``adb:SERIAL``, a list
``adb:SERIAL1,SERIAL2`` or ``adb:all`` (every attached phone). ``--delegate`` is ``xnnpack``, ``gpu``, ``nnapi``
or ``cpu`` (the builtin kernels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from seaformer_deploy.errors import UsageError

_SERIAL = re.compile(r"[^\s,]+")  # network serials are HOST:PORT


class Delegate(str, Enum):
    """Which kernels run the model; the value is the command-line and report spelling."""

    XNNPACK = "xnnpack"
    GPU = "gpu"
    NNAPI = "nnapi"
    CPU = "cpu"

    @classmethod
    def parse(cls, text: str | Delegate) -> Delegate:
        """``text`` as a Delegate (case-insensitive); anything else is a UsageError."""
        if isinstance(text, Delegate):
            return text
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise UsageError(f"delegate {text!r} is not one of {', '.join(d.value for d in cls)}") from None

    def __str__(self) -> str:
        return self.value


class DeviceKind(str, Enum):
    LOCAL = "local"
    ADB = "adb"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class DeviceSpec:
    """A parsed ``--device``: its kind and, for phones, which serials (none: the only attached phone).

    ``all_attached`` stands for ``adb:all``. A spec naming several phones (``is_fleet``) parses, so it can be
    validated and reported, but only one device is benchmarked at a time.
    """

    kind: DeviceKind
    serials: tuple[str, ...] = ()
    all_attached: bool = False

    @classmethod
    def parse(cls, text: str | DeviceSpec) -> DeviceSpec:
        """Parse ``local | adb | adb:SERIAL | adb:S1,S2 | adb:all``; anything else is a UsageError."""
        if isinstance(text, DeviceSpec):
            return text
        spec = text.strip()
        if spec == "local":
            return cls(DeviceKind.LOCAL)
        if spec == "adb":
            return cls(DeviceKind.ADB)
        if spec == "adb:all":
            return cls(DeviceKind.ADB, all_attached=True)
        kind, _, rest = spec.partition(":")
        serials = tuple(part.strip() for part in rest.split(","))
        if kind != "adb" or not all(_SERIAL.fullmatch(serial) for serial in serials):
            raise UsageError(f"unknown device {text!r}: use local, adb, adb:SERIAL, adb:SERIAL1,SERIAL2 or adb:all")
        if len(set(serials)) != len(serials):
            raise UsageError(f"device list {text!r} names a phone twice")
        return cls(DeviceKind.ADB, serials)

    @property
    def is_fleet(self) -> bool:
        """True when the spec may stand for more than one phone."""
        return self.all_attached or len(self.serials) > 1

    @property
    def serial(self) -> str | None:
        """The one serial named, or None (local, or ``adb``: the only attached phone)."""
        if self.is_fleet:
            raise UsageError(f"device {self} names several phones, not one")
        return self.serials[0] if self.serials else None

    @property
    def slug(self) -> str:
        """The spec as a file-name part (``adb:R58M`` -> ``adb-R58M``)."""
        return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in str(self))

    def __str__(self) -> str:
        if self.kind is DeviceKind.LOCAL:
            return "local"
        if self.all_attached:
            return "adb:all"
        return "adb:" + ",".join(self.serials) if self.serials else "adb"


LOCAL = DeviceSpec(DeviceKind.LOCAL)
"""This host: the default device."""

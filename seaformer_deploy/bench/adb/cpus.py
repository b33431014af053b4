"""CPU topology of a phone from sysfs, and which cores to pin a benchmark to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from seaformer_deploy.errors import UsageError

CPU_SCRIPT = (
    "for d in /sys/devices/system/cpu/cpu[0-9]*; do "
    'echo "${d##*/}|$(cat $d/cpufreq/cpuinfo_max_freq 2>/dev/null)|'
    "$(cat $d/cpufreq/scaling_governor 2>/dev/null)|$(cat $d/cpu_capacity 2>/dev/null)|"
    '$(cat $d/cpufreq/scaling_cur_freq 2>/dev/null)"; done'
)
"""Prints ``cpuN|max kHz|governor|capacity|current kHz`` per CPU; unreadable fields stay empty."""


@dataclass(frozen=True)
class CpuInfo:
    """What sysfs tells about one CPU; every field is optional because every read may be denied."""

    index: int
    max_freq_khz: int | None
    governor: str | None
    capacity: int | None
    cur_freq_khz: int | None



def parse_cpus(text: str) -> list[CpuInfo]:
    """The CPUs in the output of ``CPU_SCRIPT``, by index."""
    cpus = []
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 5 or not re.fullmatch(r"cpu\d+", parts[0]):
            continue
        cpus.append(CpuInfo(int(parts[0][3:]), _int_or_none(parts[1]), parts[2].strip() or None,
                            _int_or_none(parts[3]), _int_or_none(parts[4])))
    return sorted(cpus, key=lambda cpu: cpu.index)


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else None




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



def check_mask(mask: str) -> str:
    cleaned = mask.lower().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-f]+", cleaned) or int(cleaned, 16) == 0:
        raise UsageError(f"CPU mask {mask!r} is not a non-zero hex taskset mask (e.g. f0)")
    return cleaned


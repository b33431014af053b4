"""Per-module blame: which SeaFormer modules (and which op types of the graph) account for a latency change.

Module times come from each side's per-op profile mapped to modules; they are compared row by row. They are
medians over the profiled runs, so one preempted run does not make its module the cause; a side whose table
holds means (a phone tool's averages, or a report written before the median) is named, since there one slow
run can inflate a module. Profiles taken on a phone's builtin kernels (needed there to name the rows) are
slower than the delegate: their shares are meaningful, their absolute times less so, and the sentence says
which it reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from seaformer_deploy.bench.attribution import MEAN, ModuleTable
from seaformer_deploy.report.inputs import ReportFile

# Rows that are not a module of the network: they stay in the table but are not named as the cause.
_NOT_MODULES = ("gap", "unattributed")


@dataclass(frozen=True)
class ModuleDelta:
    """One module on both sides; a module missing on one side has None there."""

    module: str
    baseline_ms: float | None
    current_ms: float | None

    @property
    def delta_ms(self) -> float:
        return (self.current_ms or 0.0) - (self.baseline_ms or 0.0)

    @property
    def delta_pct(self) -> float | None:
        """Change relative to the baseline's time of this module (None when the baseline lacks it)."""
        return self.delta_ms / self.baseline_ms if self.baseline_ms else None


@dataclass(frozen=True)
class OpTypeDelta:
    op_type: str
    baseline: int
    current: int

    @property
    def delta(self) -> int:
        return self.current - self.baseline


@dataclass(frozen=True)
class Blame:
    """Module and op-type deltas sorted by absolute change, and one sentence naming the main cause."""

    modules: tuple[ModuleDelta, ...] | None
    op_types: tuple[OpTypeDelta, ...] | None
    sentence: str
    kernel_modes: tuple[str, str] | None


def _module_deltas(baseline: ModuleTable, current: ModuleTable) -> tuple[ModuleDelta, ...]:
    base = {row.module: row.us_per_run / 1e3 for row in baseline.rows}
    cur = {row.module: row.us_per_run / 1e3 for row in current.rows}
    rows = [ModuleDelta(name, base.get(name), cur.get(name)) for name in dict.fromkeys([*base, *cur])]
    return tuple(sorted(rows, key=lambda row: -abs(row.delta_ms)))


def _op_type_deltas(baseline: dict[str, int], current: dict[str, int]) -> tuple[OpTypeDelta, ...]:
    rows = [OpTypeDelta(op, int(baseline.get(op, 0)), int(current.get(op, 0)))
            for op in dict.fromkeys([*baseline, *current])]
    return tuple(sorted((row for row in rows if row.delta), key=lambda row: (-abs(row.delta), row.op_type)))


def _sentence(modules: tuple[ModuleDelta, ...], total_ms: float, kernel_note: str) -> str:
    named = [row for row in modules if row.module not in _NOT_MODULES]
    if not named:
        return "no module of the network appears in both profiles"
    # The cause is a module that moved the way the total did (rows are sorted by |delta|, so the first).
    along = [row for row in named if row.delta_ms * total_ms > 0]
    if not along:
        return f"no module moved in the direction of the end-to-end change ({total_ms:+.3f} ms){kernel_note}"
    top, moved = along[0], sum(row.delta_ms for row in along)
    pct = "" if top.delta_pct is None else f", {top.delta_pct:+.0%} of its own time"
    return (f"{top.module} explains most of the change: {top.delta_ms:+.3f} ms{pct}, {top.delta_ms / moved:.0%} of "
            f"the {moved:+.3f} ms that modules moved in the direction of the total ({total_ms:+.3f} ms end to end "
            f"in the profiles){kernel_note}")


def blame(baseline: ReportFile, current: ReportFile, *, changed: bool = True,
          latency_delta_ms: float | None = None) -> Blame:
    """Compare the two sides' module tables and op histograms; say plainly what is missing.

    ``changed`` is False when the end-to-end latency did not change: the module deltas are then named as the
    noise of two profiling runs rather than as a cause. ``latency_delta_ms`` (the change of the launch medians)
    is checked against the profiles' own end-to-end change: far apart, a profiling run was disturbed.
    """
    op_types = None
    base_ops, cur_ops = baseline.op_histogram, current.op_histogram
    if base_ops is not None and cur_ops is not None:
        op_types = _op_type_deltas(base_ops, cur_ops)
    base_profile, cur_profile = baseline.report.profile, current.report.profile
    missing = [side for side, profile in (("baseline", base_profile), ("current", cur_profile)) if profile is None]
    if base_profile is None or cur_profile is None:
        return Blame(None, op_types, f"no per-module blame: no profile in the {' and '.join(missing)} report"
                     + ("s" if len(missing) > 1 else ""), None)
    base_modules, cur_modules = base_profile.modules, cur_profile.modules
    modes = (base_modules.kernel_mode, cur_modules.kernel_mode)
    kernel_note = ""
    if "builtin" in modes:
        kernel_note = " (builtin-kernel profile: read the shares, the absolute times are slower than the delegate's)"
    means = [side for side, table in (("baseline", base_modules), ("current", cur_modules)) if table.statistic == MEAN]
    if means:
        kernel_note += (f" (the {' and '.join(means)} module times are means over runs, not medians: one slow run "
                        "can inflate a module)")
    modules = _module_deltas(base_modules, cur_modules)
    if not changed:
        return Blame(modules, op_types, "the end-to-end latency did not change: the module differences are the "
                     f"noise of two profiling runs{kernel_note}", modes)
    total = (cur_modules.e2e_us - base_modules.e2e_us) / 1e3
    sentence = _sentence(modules, total, kernel_note)
    if latency_delta_ms is not None and "builtin" not in modes and not _agree(total, latency_delta_ms):
        # Medians over runs resist one slow run, not a whole profiling session run under other load.
        sentence += (f"; caution: the profiles moved {total:+.3f} ms end to end but the launch medians "
                     f"{latency_delta_ms:+.3f} ms, so a profiling session ran under other load: re-measure before "
                     "trusting the module shares")
    return Blame(modules, op_types, sentence, modes)


def _agree(profile_ms: float, latency_ms: float) -> bool:
    """Same sign and within a factor of two (not asked of builtin-kernel profiles, slower by design)."""
    if profile_ms * latency_ms <= 0:
        return False
    ratio = profile_ms / latency_ms
    return 0.5 <= ratio <= 2.0

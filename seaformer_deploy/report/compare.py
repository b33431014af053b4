"""The verdict on two bench reports of one model on one device: REGRESSION, IMPROVEMENT, NO CHANGE or
INCONCLUSIVE (with the reasons), from the latency test, the accuracy delta and what must match.

Rule: REGRESSION only if the one-sided Mann-Whitney U test on launch medians gives p < alpha AND the median
slowed down by at least max(threshold, noise_factor x the baseline's CV between launches) (IMPROVEMENT the
mirror image). A significant change smaller than the noise floor but above the threshold is INCONCLUSIVE, and
so is any other outcome whose 95% interval of the median change reaches the threshold: NO CHANGE means the
interval lies inside it. A side whose launches are unstable (CV between launches >= 10%) leaves the verdict
INCONCLUSIVE unless the change is decisive: significant, at least noise_factor x the larger CV of the two
sides, and its whole interval beyond the threshold. An mIoU drop beyond ``max_miou_drop`` is a REGRESSION too.
The models may differ (that is the change under test); the device, threads, delegate, input size and output
mode may not.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from seaformer_deploy.report.blame import Blame, blame
from seaformer_deploy.report.fingerprint import device_fingerprint
from seaformer_deploy.report.inputs import ReportFile
from seaformer_deploy.report.statistics import DecisionRule, LatencyTest, compare_latency

WORST_CLASSES = 5


class Verdict(enum.Enum):
    REGRESSION = "REGRESSION"
    IMPROVEMENT = "IMPROVEMENT"
    NO_CHANGE = "NO CHANGE"
    INCONCLUSIVE = "INCONCLUSIVE"

    @property
    def exit_code(self) -> int:
        return {"REGRESSION": 1, "INCONCLUSIVE": 3}.get(self.value, 0)


# When several pairs are compared, the overall verdict is the most severe one.
_SEVERITY = (Verdict.NO_CHANGE, Verdict.IMPROVEMENT, Verdict.INCONCLUSIVE, Verdict.REGRESSION)


def overall_verdict(verdicts: list[Verdict]) -> Verdict:
    return max(verdicts, key=_SEVERITY.index) if verdicts else Verdict.INCONCLUSIVE


@dataclass(frozen=True)
class ClassChange:
    name: str
    baseline_iou: float
    current_iou: float

    @property
    def delta(self) -> float:
        return self.current_iou - self.baseline_iou


@dataclass(frozen=True)
class AccuracyDelta:
    """mIoU of both sides (fractions) on the same dataset, and the classes whose IoU fell most."""

    dataset: str
    baseline_miou: float
    current_miou: float
    worst_classes: tuple[ClassChange, ...]

    @property
    def drop_points(self) -> float:
        return 100 * (self.baseline_miou - self.current_miou)


@dataclass
class Comparison:
    baseline: ReportFile
    current: ReportFile
    rule: DecisionRule
    verdict: Verdict
    reasons: list[str]
    latency: LatencyTest | None
    accuracy: AccuracyDelta | None
    blame: Blame
    notes: list[str] = field(default_factory=list)


def _setup(run: ReportFile) -> tuple[tuple[str, object], ...]:
    facts, protocol = run.report.model.facts, run.report.protocol
    return (("threads", protocol.threads), ("delegate", protocol.delegate),
            ("execution provider", protocol.execution_provider or "-"),
            ("input size", "x".join(map(str, facts.input_size_hw))), ("output mode", facts.output_mode),
            ("task", facts.task))


def setup_mismatches(baseline: ReportFile, current: ReportFile) -> list[str]:
    """What differs between the two measurement setups (empty when they may be compared)."""
    problems = [f"device fingerprint differs: {', '.join(diff)}" for diff in [
        device_fingerprint(baseline.report.device).differences(device_fingerprint(current.report.device))] if diff]
    for (what, base), (_, cur) in zip(_setup(baseline), _setup(current), strict=True):
        if base != cur:
            problems.append(f"{what} differs: {base} vs {cur}")
    return problems


def _side_problems(side: str, run: ReportFile, rule: DecisionRule) -> list[str]:
    """What keeps any verdict from being drawn on this side (instability is judged separately)."""
    problems = []
    launches = run.timed_launches
    if len(launches) < rule.min_launches:
        problems.append(f"{side} has {len(launches)} launch(es), at least {rule.min_launches} are needed")
    if run.report.incomplete:
        problems.append(f"{side} run stopped early: {run.report.incomplete}")
    throttled = [launch.index for launch in launches if launch.throttled]
    if throttled:
        problems.append(f"{side} launches {throttled} ran throttled")
    return problems


def _instability(side: str, run: ReportFile) -> list[str]:
    # The summary's own throttle reason is one of the side's problems above.
    return [f"{side} is unstable: {reason}" for reason in run.report.latency.summary.reasons
            if "throttled" not in reason]


def accuracy_delta(baseline: ReportFile, current: ReportFile) -> AccuracyDelta | None:
    """The mIoU change when both sides were evaluated on the same dataset and image count, else None."""
    base, cur = baseline.accuracy, current.accuracy
    if base is None or cur is None or (base.dataset, base.num_samples) != (cur.dataset, cur.num_samples):
        return None
    changes = [ClassChange(name, iou, cur.class_iou[name]) for name, iou in base.class_iou.items()
               if name in cur.class_iou]
    worst = tuple(sorted((c for c in changes if c.delta < 0), key=lambda c: c.delta)[:WORST_CLASSES])
    return AccuracyDelta(base.dataset, base.miou, cur.miou, worst)


def _latency_verdict(test: LatencyTest, rule: DecisionRule) -> tuple[Verdict, str]:
    """The latency verdict with the sentence that justifies it."""
    for verdict, p, change, word in ((Verdict.REGRESSION, test.p_slower, test.change, "slowdown"),
                                     (Verdict.IMPROVEMENT, test.p_faster, -test.change, "speed-up")):
        if p < rule.alpha and change >= test.min_effect:
            return verdict, (f"{word} {test.change_text()}: p={p:.2g} < {rule.alpha:g} and at least "
                             f"{test.min_effect:.1%} (max of the {rule.threshold:.0%} threshold and "
                             f"{rule.noise_factor:g} x the baseline CV {test.baseline_cv:.1%})")
        if p < rule.alpha and change >= rule.threshold:
            return Verdict.INCONCLUSIVE, (
                f"the {word} {test.change_text()} is significant (p={p:.2g}) but below {rule.noise_factor:g} x "
                f"the baseline's CV between launches ({test.min_effect:.1%}): measure with more launches or on "
                "a quieter device")
    p = min(test.p_slower, test.p_faster)
    finding = (f"{test.change_text()} is significant (p={p:.2g}) but within the {rule.threshold:.0%} threshold"
               if p < rule.alpha else
               f"{test.change_text()} is not significant (p={test.p_slower:.2g} slower, "
               f"{test.p_faster:.2g} faster; alpha {rule.alpha:g})")
    # "No change" is a claim too: it needs the 95% interval inside the threshold. A noisy pair whose interval
    # reaches a change that would count has not shown there is none.
    if max(test.ci_high, -test.ci_low) >= rule.threshold:
        return Verdict.INCONCLUSIVE, (f"{finding}, but its 95% interval does not rule out a change of "
                                      f"{rule.threshold:.0%} or more: measure with more launches or on a quieter "
                                      "device")
    return Verdict.NO_CHANGE, finding


def compare_runs(baseline: ReportFile, current: ReportFile, rule: DecisionRule | None = None) -> Comparison:
    """The verdict on ``current`` against ``baseline``; see the module docstring."""
    rule = rule or DecisionRule()
    mismatches = setup_mismatches(baseline, current)
    problems = _side_problems("baseline", baseline, rule) + _side_problems("current", current, rule)
    test = None
    if len(baseline.centres_ms) >= 2 and len(current.centres_ms) >= 2:
        test = compare_latency(baseline.centres_ms, current.centres_ms, rule)
    accuracy = accuracy_delta(baseline, current)
    unstable = _instability("baseline", baseline) + _instability("current", current)
    reasons = mismatches + problems
    if test is None and not reasons:
        reasons.append("a latency test needs at least two launches per side")
    verdict = Verdict.INCONCLUSIVE
    notes = []
    # An unstable side cannot show that nothing changed, nor a change of the size of its noise; a change far
    # beyond it (a model twice as slow on a jittery device) is still a verdict, or CI would wave it through.
    if unstable and (reasons or test is None or not test.decisive(rule)):
        reasons += unstable
    elif not reasons and test is not None:
        verdict, reason = _latency_verdict(test, rule)
        reasons.append(reason)
        if unstable:
            notes.append(f"{'; '.join(unstable)}, but the change is at least {rule.noise_factor:g} x the larger "
                         f"CV ({max(test.baseline_cv, test.current_cv):.1%}) and its 95% interval is beyond the "
                         f"{rule.threshold:.0%} threshold, so the verdict stands")
    if rule.max_miou_drop is not None and not mismatches:
        if accuracy is None:
            reasons.append("--max-miou-drop needs accuracy on the same dataset and image count in both reports")
            if verdict is not Verdict.REGRESSION:
                verdict = Verdict.INCONCLUSIVE
        elif accuracy.drop_points > rule.max_miou_drop:
            classes = ", ".join(f"{c.name} {100 * c.delta:+.1f}" for c in accuracy.worst_classes) or "none"
            reasons.append(f"mIoU fell {accuracy.drop_points:.2f} points (allowed {rule.max_miou_drop:g}); "
                           f"IoU fell most for: {classes}")
            verdict = Verdict.REGRESSION
    if baseline.report.model.sha256 == current.report.model.sha256:
        notes.append("both sides measured the same model file (an A/A comparison)")
    latency_changed = verdict in (Verdict.REGRESSION, Verdict.IMPROVEMENT) or (
        test is not None and min(test.p_slower, test.p_faster) < rule.alpha)
    latency_delta = None if test is None else test.current_median_ms - test.baseline_median_ms
    return Comparison(baseline, current, rule, verdict, reasons, test, accuracy,
                      blame(baseline, current, changed=latency_changed, latency_delta_ms=latency_delta), notes)

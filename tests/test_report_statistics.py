"""The regression decision rule on synthetic runs: each verdict, each reason for INCONCLUSIVE, the interval."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from report_helpers import synthetic_report

from seaformer_deploy.report.blame import blame
from seaformer_deploy.report.compare import Verdict, compare_runs, overall_verdict
from seaformer_deploy.report.markdown import render_markdown
from seaformer_deploy.report.statistics import DecisionRule, compare_latency, median_ratio_interval

RNG = np.random.default_rng(7)


def _noisy(centre: float, n: int = 10, cv: float = 0.01, rng: np.random.Generator = RNG) -> list[float]:
    return list(centre * (1 + cv * rng.standard_normal(n)))


def test_a_clear_slowdown_is_a_regression_with_its_interval() -> None:
    comparison = compare_runs(synthetic_report(_noisy(10.0)), synthetic_report(_noisy(11.0)))
    assert comparison.verdict is Verdict.REGRESSION and comparison.verdict.exit_code == 1
    test = comparison.latency
    assert re.fullmatch(r"\+\d+\.\d% \[\+\d+\.\d%, \+\d+\.\d%\]", test.change_text()), test.change_text()
    assert test.ci_low <= test.change <= test.ci_high and 0.05 < test.change < 0.15
    assert "slowdown" in comparison.reasons[0] and test.p_slower < 0.01


def test_a_clear_speed_up_is_an_improvement_and_equal_runs_no_change() -> None:
    faster = compare_runs(synthetic_report(_noisy(10.0)), synthetic_report(_noisy(9.0)))
    assert faster.verdict is Verdict.IMPROVEMENT and faster.verdict.exit_code == 0
    same = compare_runs(synthetic_report([10.0, 10.1, 9.9, 10.0, 10.2, 9.8]),
                        synthetic_report([10.1, 9.9, 10.0, 10.2, 9.8, 10.0]))
    assert same.verdict is Verdict.NO_CHANGE and same.verdict.exit_code == 0
    assert "not significant" in same.reasons[0]


def test_exact_mann_whitney_p_value_of_fully_separated_samples() -> None:
    """6 launches each, every current launch slower: the exact one-sided p is 1 / C(12, 6)."""
    test = compare_latency([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], DecisionRule())
    assert test.p_slower == pytest.approx(1 / math.comb(12, 6))
    assert test.p_faster == pytest.approx(1.0)
    assert test.change == pytest.approx(9.5 / 3.5 - 1)


def test_identical_launches_give_a_point_interval() -> None:
    test = compare_latency([5.0] * 6, [5.0] * 6, DecisionRule())
    assert (test.change, test.ci_low, test.ci_high) == (0.0, 0.0, 0.0)
    assert test.change_text() == "+0.0% [+0.0%, +0.0%]"


def test_too_few_launches_is_inconclusive() -> None:
    comparison = compare_runs(synthetic_report(_noisy(10.0, n=5)), synthetic_report(_noisy(13.0)))
    assert comparison.verdict is Verdict.INCONCLUSIVE and comparison.verdict.exit_code == 3
    assert "baseline has 5 launch(es), at least 6 are needed" in comparison.reasons


def test_a_significant_change_inside_the_noise_floor_is_inconclusive() -> None:
    """+10% is above the 5% threshold, but a baseline CV of 7% puts the floor at 14%."""
    base = [9.0, 9.4, 9.8, 10.2, 10.6, 11.0, 9.2, 10.8, 9.6, 10.4]
    comparison = compare_runs(synthetic_report(base), synthetic_report([v + 1.0 for v in base]))
    assert comparison.latency.p_slower < 0.01
    assert comparison.verdict is Verdict.INCONCLUSIVE
    assert "below 2 x the baseline's CV" in comparison.reasons[0]


def test_threshold_and_alpha_change_the_verdict() -> None:
    base, cur = _noisy(10.0, cv=0.005), _noisy(10.8, cv=0.005)
    assert compare_runs(synthetic_report(base), synthetic_report(cur)).verdict is Verdict.REGRESSION
    loose = compare_runs(synthetic_report(base), synthetic_report(cur), DecisionRule(threshold=0.10))
    assert loose.verdict is Verdict.NO_CHANGE and "within the 10% threshold" in loose.reasons[0]
    # 6 vs 6 cannot reach p < 1/924: not significant, and an 8% change is not "no change" either.
    strict = compare_runs(synthetic_report(base[:6]), synthetic_report(cur[:6]), DecisionRule(alpha=0.0005))
    assert strict.verdict is Verdict.INCONCLUSIVE and "does not rule out a change of 5% or more" in strict.reasons[0]


def test_no_change_needs_the_interval_inside_the_threshold() -> None:
    # Launch medians spread by 6% (a busy host): even without a real change the data cannot show there is none.
    # (Its own generator, so the shared one gives the other tests the draws they were written with.)
    rng = np.random.default_rng(11)
    noisy = compare_runs(synthetic_report(_noisy(10.0, cv=0.06, rng=rng)),
                         synthetic_report(_noisy(10.0, cv=0.06, rng=rng)))
    assert noisy.latency.ci_high >= 0.05 or noisy.latency.ci_low <= -0.05
    assert noisy.verdict is Verdict.INCONCLUSIVE and "is not significant" in noisy.reasons[0]
    assert "95% interval does not rule out" in noisy.reasons[0] and noisy.verdict.exit_code == 3
    calm = compare_runs(synthetic_report(_noisy(10.0, cv=0.005, rng=rng)),
                        synthetic_report(_noisy(10.0, cv=0.005, rng=rng)))
    assert calm.verdict is Verdict.NO_CHANGE and max(calm.latency.ci_high, -calm.latency.ci_low) < 0.05


def test_throttled_unstable_and_incomplete_runs_are_inconclusive() -> None:
    good = synthetic_report(_noisy(10.0))
    throttled = synthetic_report(_noisy(12.0), throttled=(2,))
    assert "current launches [2] ran throttled" in compare_runs(good, throttled).reasons
    # +20% on a side whose launches vary by 14%: within 2 x its noise, so no verdict.
    rng = np.random.default_rng(5)
    unstable = synthetic_report(_noisy(12.0, cv=0.14, rng=rng), reasons=["launch-to-launch CV 14.0% >= 10%"])
    result = compare_runs(good, unstable)
    assert result.verdict is Verdict.INCONCLUSIVE and result.latency.current_cv > 0.1
    assert "current is unstable: launch-to-launch CV 14.0% >= 10%" in result.reasons
    stopped = compare_runs(good, synthetic_report(_noisy(12.0), incomplete="phone disconnected"))
    assert "current run stopped early: phone disconnected" in stopped.reasons


def test_a_change_far_beyond_an_unstable_sides_noise_is_still_a_verdict() -> None:
    # A model 2.5x slower measured on a jittery device (launches vary by 12%, like S at 64 px on a shared VM).
    rng = np.random.default_rng(7)
    stable = synthetic_report(_noisy(0.19, cv=0.02, rng=rng))
    jittery = synthetic_report(_noisy(0.50, cv=0.12, rng=rng), reasons=["launch-to-launch CV 12.0% >= 10%"])
    slower = compare_runs(stable, jittery)
    assert slower.verdict is Verdict.REGRESSION and slower.reasons[0].startswith("slowdown +")
    assert slower.latency.decisive(slower.rule) and slower.latency.ci_low > 2 * slower.latency.current_cv
    (note,) = [n for n in slower.notes if "is unstable" in n]
    assert note.startswith("current is unstable: launch-to-launch CV 12.0% >= 10%, but the change is at least 2 x")
    assert f"Note: {note}" in render_markdown([slower])  # the CI summary says why the verdict stands
    faster = compare_runs(jittery, stable)
    assert faster.verdict is Verdict.IMPROVEMENT and "baseline is unstable" in " ".join(faster.notes)
    # The same jitter cannot show that nothing changed, and throttling blocks even a decisive change.
    same = compare_runs(jittery, synthetic_report(_noisy(0.50, cv=0.12, rng=rng), reasons=["launch-to-launch CV"]))
    assert same.verdict is Verdict.INCONCLUSIVE and not same.latency.decisive(same.rule)
    assert "current is unstable: launch-to-launch CV" in same.reasons
    hot = synthetic_report(_noisy(0.50, cv=0.12, rng=rng), throttled=(1,), reasons=["launch-to-launch CV 12%"])
    assert compare_runs(stable, hot).verdict is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(("change", "expected"), [
    ({"threads": 4}, "threads differs: 1 vs 4"),
    ({"delegate": "gpu"}, "delegate differs: xnnpack vs gpu"),
    ({"execution_provider": "CPUExecutionProvider"}, "execution provider differs: - vs CPUExecutionProvider"),
    ({"input_size_hw": (128, 128)}, "input size differs: 64x64 vs 128x128"),
    ({"output_mode": "labels"}, "output mode differs: logits vs labels"),
])
def test_setups_that_must_match(change, expected) -> None:
    comparison = compare_runs(synthetic_report(_noisy(10.0)), synthetic_report(_noisy(20.0), **change))
    assert comparison.verdict is Verdict.INCONCLUSIVE and expected in comparison.reasons


def test_phone_fingerprints_must_match() -> None:
    phone = {"spec": "adb:A", "kind": "adb", "model": "Pixel", "soc": "SM8250", "cpu_mask": "f0",
             "props": {"ro.build.fingerprint": "google/x/1"}}
    other = {**phone, "spec": "adb:B", "soc": "SM8350"}
    same_but_serial = {**phone, "spec": "adb:C", "serial": "C"}
    base = synthetic_report(_noisy(10.0), device=phone)
    assert compare_runs(base, synthetic_report(_noisy(10.0), device=same_but_serial)).verdict is Verdict.NO_CHANGE
    mismatch = compare_runs(base, synthetic_report(_noisy(10.0), device=other))
    assert "device fingerprint differs: soc SM8250 vs SM8350" in mismatch.reasons


def test_an_miou_drop_beyond_the_limit_is_a_regression_naming_the_classes() -> None:
    base = synthetic_report(_noisy(10.0), accuracy=(0.40, {"wall": 0.6, "sky": 0.8, "tree": 0.5}))
    cur = synthetic_report(_noisy(10.0), accuracy=(0.37, {"wall": 0.58, "sky": 0.65, "tree": 0.51}))
    assert compare_runs(base, cur).verdict is Verdict.NO_CHANGE  # not checked unless asked
    comparison = compare_runs(base, cur, DecisionRule(max_miou_drop=1.0))
    assert comparison.verdict is Verdict.REGRESSION
    assert comparison.reasons[-1] == "mIoU fell 3.00 points (allowed 1); IoU fell most for: sky -15.0, wall -2.0"
    no_accuracy = compare_runs(synthetic_report(_noisy(10.0)), synthetic_report(_noisy(10.0)),
                               DecisionRule(max_miou_drop=1.0))
    assert no_accuracy.verdict is Verdict.INCONCLUSIVE


def test_blame_names_the_module_that_grew_and_says_when_there_is_no_profile() -> None:
    base = synthetic_report(_noisy(10.0), modules={"stem": 1.0, "smb1": 3.0, "head.conv_seg": 1.0, "gap": 0.5},
                         op_histogram={"CONV_2D": 10, "ADD": 4})
    cur = synthetic_report(_noisy(12.0), modules={"stem": 1.0, "smb1": 4.5, "head.conv_seg": 1.5, "gap": 2.0},
                        op_histogram={"CONV_2D": 12, "ADD": 4, "RESHAPE": 1})
    result = blame(base, cur)
    assert [row.module for row in result.modules] == ["smb1", "gap", "head.conv_seg", "stem"]
    assert result.modules[0].delta_ms == pytest.approx(1.5) and result.modules[0].delta_pct == pytest.approx(0.5)
    assert result.sentence.startswith("smb1 explains most of the change: +1.500 ms, +50% of its own time, 75%")
    assert [(row.op_type, row.delta) for row in result.op_types] == [("CONV_2D", 2), ("RESHAPE", 1)]
    missing = blame(synthetic_report(_noisy(10.0)), cur)
    assert missing.modules is None and missing.sentence == "no per-module blame: no profile in the baseline report"


def test_the_overall_verdict_is_the_most_severe() -> None:
    assert overall_verdict([Verdict.NO_CHANGE, Verdict.IMPROVEMENT]) is Verdict.IMPROVEMENT
    assert overall_verdict([Verdict.INCONCLUSIVE, Verdict.REGRESSION, Verdict.NO_CHANGE]) is Verdict.REGRESSION
    assert overall_verdict([Verdict.NO_CHANGE, Verdict.INCONCLUSIVE]) is Verdict.INCONCLUSIVE


def test_module_noise_is_not_blamed_when_the_latency_did_not_change() -> None:
    base = synthetic_report([10.0, 10.1, 9.9, 10.0, 10.2, 9.8], modules={"smb1": 3.0, "smb2": 1.0})
    cur = synthetic_report([10.1, 9.9, 10.0, 10.2, 9.8, 10.0], modules={"smb1": 2.0, "smb2": 2.0})
    comparison = compare_runs(base, cur)
    assert comparison.verdict is Verdict.NO_CHANGE
    assert comparison.blame.sentence.startswith("the end-to-end latency did not change: the module differences")
    assert [row.module for row in comparison.blame.modules] == ["smb1", "smb2"]


def test_blame_warns_when_the_profiles_disagree_with_the_launches() -> None:
    modules = {"stem": 1.0, "smb1": 3.0}
    base = synthetic_report(_noisy(10.0), modules=modules)
    cur = synthetic_report(_noisy(20.0), modules={"stem": 1.0, "smb1": 3.5})
    comparison = compare_runs(base, cur)
    sentence = comparison.blame.sentence
    assert sentence.startswith("smb1 explains most of the change: +0.500 ms")
    moved = comparison.latency.current_median_ms - comparison.latency.baseline_median_ms
    assert f"caution: the profiles moved +0.500 ms end to end but the launch medians +{moved:.3f} ms" in sentence
    agreeing = synthetic_report(_noisy(10.5), modules={"stem": 1.0, "smb1": 3.5})
    assert "caution" not in compare_runs(base, agreeing).blame.sentence
    assert "means over runs" not in compare_runs(base, agreeing).blame.sentence


def test_blame_names_the_side_whose_module_times_are_means() -> None:
    base = synthetic_report(_noisy(10.0), modules={"stem": 1.0, "smb1": 3.0}, module_statistic="mean")
    cur = synthetic_report(_noisy(10.5), modules={"stem": 1.0, "smb1": 3.5})
    sentence = compare_runs(base, cur).blame.sentence
    assert sentence.startswith("smb1 explains most of the change: +0.500 ms")
    assert sentence.endswith("(the baseline module times are means over runs, not medians: one slow run can "
                             "inflate a module)")


def test_median_ratio_interval_pairs_rounds_that_share_their_load() -> None:
    # Interleaved rounds: each round's slowdown hits both models, so pairing the rounds cancels it.
    rng = np.random.default_rng(0)
    load = rng.uniform(1.0, 1.6, 40)
    baseline = 10.0 * load
    faster = 9.0 * load * rng.normal(1.0, 0.005, 40)
    low, high = median_ratio_interval(baseline, faster, paired=True)
    assert low < 0.9 < high and high - low < 0.02
    unpaired_low, unpaired_high = median_ratio_interval(baseline, faster)
    assert unpaired_high - unpaired_low > 5 * (high - low)
    assert median_ratio_interval([2.0, 2.0], [3.0, 3.0]) == (1.5, 1.5)

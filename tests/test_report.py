"""seaformer-report on real bench reports of this host: T against S, outputs, baselines, folders, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_helpers import edited_copy, real_reports

from seaformer_deploy.cli.report import main as report_cli


@pytest.fixture(scope="session")
def reports(tmp_path_factory, exported_t64):
    return real_reports(tmp_path_factory, exported_t64.model_path)


def _report(args: list[str]):
    return CliRunner().invoke(report_cli, [str(arg) for arg in args])


def test_t_against_s_is_a_regression_blaming_the_modules_that_grew(reports) -> None:
    result = _report(["compare", reports.t_report, reports.s_report, "--json"])
    assert result.exit_code == 1, result.output
    (comparison,) = json.loads(result.stdout)
    assert comparison["verdict"] == "REGRESSION" and comparison["exit_code"] == 1
    latency = comparison["latency"]
    assert latency["change"] > 0.3 and latency["ci_low"] > 0.3 and latency["p_slower"] < 0.01
    assert comparison["reasons"][0].startswith(f"slowdown {latency['text']}: p=")
    modules = comparison["blame"]["modules"]
    grew = [row for row in modules if row["module"] not in ("gap", "unattributed") and row["delta_ms"] > 0]
    deltas = [abs(row["delta_ms"]) for row in modules]
    assert deltas == sorted(deltas, reverse=True)
    # S has a third block in each transformer stage that T lacks: they appear with no baseline time.
    assert {"trans1.block2.attn", "trans2.block2.attn"} <= {r["module"] for r in modules if r["baseline_ms"] is None}
    assert comparison["blame"]["sentence"].startswith(f"{grew[0]['module']} explains most of the change: +")
    assert grew[0]["delta_ms"] == max(row["delta_ms"] for row in grew)
    op_types = {row["op_type"]: row["delta"] for row in comparison["blame"]["op_types"]}
    assert op_types["BATCH_MATMUL"] > 0 and op_types["CONV_2D"] > 0
    assert "REGRESSION" in result.stderr and "explains most of the change" in result.stderr


def test_markdown_appends_a_summary_with_details_and_environment(reports, tmp_path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("## an earlier step\n")
    result = _report(["compare", reports.t_report, reports.s_report, "--markdown", summary])
    assert result.exit_code == 1
    text = summary.read_text()
    assert text.startswith("## an earlier step\n")
    assert "## :x: Latency: REGRESSION" in text
    assert "**REGRESSION** `seaformer-s-seg-64x64-fp32.tflite` vs `seaformer-t-seg-64x64-fp32.tflite`" in text
    header = "| model | device | baseline median / p90 ms | current median / p90 ms | delta [95% CI] | p-value |"
    assert header in text
    row = next(line for line in text.splitlines() if line.startswith("| `seaformer-s"))
    assert row.count("|") == 9 and "% [+" in row
    assert text.count("<details>") == 2 and "</details>" in text and "| trans2.block2.attn |" in text
    assert "ai-edge-litert=" in text.split("Environment")[1]


def test_reports_on_other_setups_are_inconclusive_with_the_reason(reports, tmp_path) -> None:
    def more_threads(data: dict) -> None:
        data["protocol"]["threads"] = 4

    other = edited_copy(reports.s_report, tmp_path / "s-4threads.bench.json", more_threads)
    result = _report(["compare", reports.t_report, other])
    assert result.exit_code == 3
    assert "INCONCLUSIVE" in result.stdout and "threads differs: 1 vs 4" in result.stdout

    def other_cpu(data: dict) -> None:
        data["device"]["cpu"] = "Another CPU"

    elsewhere = edited_copy(reports.s_report, tmp_path / "s-elsewhere.bench.json", other_cpu)
    result = _report(["compare", reports.t_report, elsewhere, "--json"])
    assert result.exit_code == 3
    (comparison,) = json.loads(result.stdout)
    assert any(reason.startswith("device fingerprint differs: cpu ") and "Another CPU" in reason
               for reason in comparison["reasons"])


def test_folders_are_paired_by_model_and_device(reports, tmp_path) -> None:
    base, cur = tmp_path / "base", tmp_path / "cur"
    for folder in (base, cur):
        folder.mkdir()
    shutil.copy(reports.t_report, base)
    shutil.copy(reports.s_report, base)
    shutil.copy(reports.t_report, cur)
    result = _report(["compare", base, cur, "--json"])
    (comparison,) = json.loads(result.stdout)
    # The same report on both sides: no change, or (launches noisy on a busy test host) not provably none.
    assert comparison["latency"]["change"] == 0.0
    assert (comparison["verdict"], result.exit_code) in (("NO CHANGE", 0), ("INCONCLUSIVE", 3)), result.output
    assert "seaformer-s-seg-64x64-fp32.tflite.local.bench.json (baseline only)" in result.stderr
    (cur / reports.t_report.name).unlink()
    shutil.copy(reports.s_report, cur / "renamed.bench.json")
    assert json.loads(_report(["compare", base, cur, "--json"]).stdout)[0]["current"]["model"].startswith(
        "seaformer-s")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _report(["compare", base, empty])
    assert result.exit_code == 2 and "holds no *.bench.json bench report" in result.stderr


def test_baselines_are_stored_and_found_by_device_fingerprint(reports, tmp_path) -> None:
    store = tmp_path / "baselines"
    result = _report(["update-baseline", reports.t_report, "--baselines-dir", store])
    assert result.exit_code == 0, result.output
    (stored,) = store.glob("*/*.bench.json")
    assert stored.parent.name.startswith("local-") and (stored.parent / "device.json").is_file()
    result = _report(["compare", "--baselines-dir", store, reports.s_report, "--json"])
    # The stored baseline is T's report; S's model file has no baseline there.
    assert result.exit_code == 2 and "the baseline of its device has no report of seaformer-s" in result.stderr
    renamed = edited_copy(reports.s_report, tmp_path / "cur" / "s.bench.json",
                          lambda data: data["model"].update(file=stored.name.split(".local")[0]))
    result = _report(["compare", "--baselines-dir", store, renamed, "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)[0]["verdict"] == "REGRESSION"

    def elsewhere(data: dict) -> None:
        data["device"]["cores"] = 64

    other = edited_copy(reports.t_report, tmp_path / "other" / reports.t_report.name, elsewhere)
    result = _report(["compare", "--baselines-dir", store, other])
    assert result.exit_code == 2
    assert "no baseline for its device (local: cpu" in result.stderr and "cores 64" in result.stderr
    assert f"stored devices: {stored.parent.name}" in result.stderr


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _view_in_chromium(page_path: Path, profile: Path) -> dict:
    """What a person sees of ``page_path`` in headless Chromium, and every request the page made."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is missing: `make test` installs it"
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            # Requests the page's Content-Security-Policy blocks never reach the network: count them too.
            page.add_init_script("window.__blocked = []; document.addEventListener('securitypolicyviolation', "
                                 "event => window.__blocked.push(event.blockedURI));")
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_path.as_uri(), wait_until="load")
            images = page.eval_on_selector_all("img", """images => images.map(image => {
                const box = image.getBoundingClientRect();
                return {alt: image.alt, complete: image.complete, natural: image.naturalWidth,
                        width: box.width, height: box.height, visible: getComputedStyle(image).display !== 'none'};
            })""")
            text = page.inner_text("body")
            requests += page.evaluate("window.__blocked")
            verdict = page.locator("#overall-verdict")
            verdict_text = verdict.inner_text() if verdict.count() else None
            verdict_visible = verdict.is_visible() if verdict.count() else False
        finally:
            browser.close()
    return {"images": images, "text": text, "verdict": verdict_text, "verdict_visible": verdict_visible,
            "external": [url for url in requests if url != page_path.as_uri() and not url.startswith("data:")]}


def _assert_plots_shown(seen: dict, count: int) -> None:
    assert len(seen["images"]) == count, seen["images"]
    for image in seen["images"]:
        assert image["complete"] and image["natural"] > 0, f"broken image: {image['alt']}"
        assert image["width"] > 50 and image["height"] > 50 and image["visible"], image
    assert seen["external"] == []


def test_comparison_html_in_headless_chromium(reports, tmp_path) -> None:
    page = tmp_path / "latency.html"
    result = _report(["compare", reports.t_report, reports.s_report, "--html", page])
    assert result.exit_code == 1, result.output
    assert "http://" not in page.read_text() and "https://" not in page.read_text()
    seen = _view_in_chromium(page, tmp_path / "profile")
    assert seen["verdict"] == "REGRESSION" and seen["verdict_visible"]
    _assert_plots_shown(seen, 2)
    assert "explains most of the change" in seen["text"] and "trans2.block2.attn" in seen["text"]
    assert "+%" not in seen["text"] and "[+" in seen["text"]


def test_overview_html_draws_accuracy_against_latency_with_the_paper(reports, tmp_path) -> None:
    page = tmp_path / "overview.html"
    result = _report(["html", reports.t_report, reports.s_report.parent, "-o", page])
    assert result.exit_code == 0, result.output
    seen = _view_in_chromium(page, tmp_path / "profile")
    _assert_plots_shown(seen, 2)
    text = seen["text"]
    for variant, latency in (("T", 40), ("S", 67), ("B", 106), ("L", 367)):
        assert f"SeaFormer-{variant} {latency} ms at" in text
    assert "Snapdragon 865" in text and "seaformer-s-seg-64x64-fp32.tflite" in text


def _interleaved(candidate: Path, baseline: Path, output_dir: Path, attempts: int = 3) -> tuple[int, dict]:
    """``seaformer-bench --model CANDIDATE --baseline BASELINE``, re-measured while a burst of load on the shared
    CPU leaves a side unstable (the verdict is then rightly INCONCLUSIVE, but says nothing about the models)."""
    from seaformer_deploy.cli.bench import main as bench_cli

    for attempt in range(attempts):
        out = output_dir / f"attempt{attempt}"
        result = CliRunner().invoke(bench_cli, ["--model", str(candidate), "--baseline", str(baseline), "--warmup",
                                                "2", "--runs", "15", "--no-profile", "--output-dir", str(out),
                                                "--json"])
        assert result.exit_code in (0, 1, 3), result.output
        comparison = json.loads(result.stdout)
        if not any("is unstable" in reason for reason in comparison["reasons"]):
            break
    return result.exit_code, comparison


def test_interleaved_a_a_is_no_change_and_t_against_s_a_regression(reports, tmp_path) -> None:
    code, same = _interleaved(reports.t_model, reports.t_model, tmp_path / "aa")
    assert same["verdict"] in ("NO CHANGE", "INCONCLUSIVE") and code == {"NO CHANGE": 0, "INCONCLUSIVE": 3}[
        same["verdict"]], same["reasons"]
    assert same["reasons"] and "both sides measured the same model file (an A/A comparison)" in same["notes"]
    assert same["baseline"]["launches"] == same["current"]["launches"] == 10  # the A/B default
    code, grown = _interleaved(reports.s_model, reports.t_model, tmp_path / "ts")
    assert (code, grown["verdict"]) == (1, "REGRESSION"), grown["reasons"]
    # The files of the attempt whose verdict counted (an earlier one may have been re-measured).
    attempt = sorted((tmp_path / "ts").iterdir())[-1]
    written = sorted(path.relative_to(attempt) for path in attempt.rglob("*.json"))
    assert [path.name for path in written if path.parent.name in ("baseline", "current")] == [
        f"{reports.t_model.name}.local.bench.json", f"{reports.s_model.name}.local.bench.json"]
    assert any(path.name == f"{reports.s_model.name}.local.comparison.json" for path in written)
    # The two sides' launches alternated: the reports of one run are paired by seaformer-report as well.
    assert _report(["compare", attempt / "baseline", attempt / "current"]).exit_code == 1


def test_interleaved_against_a_stored_report(reports, tmp_path) -> None:
    from seaformer_deploy.cli.bench import main as bench_cli

    result = CliRunner().invoke(bench_cli, ["--model", str(reports.t_model), "--baseline", str(reports.s_report),
                                            "--warmup", "2", "--runs", "15", "--no-profile", "--output-dir",
                                            str(tmp_path), "--json"])
    comparison = json.loads(result.stdout)
    assert comparison["baseline"]["report"] == str(reports.s_report)
    # Against S's 8-launch report the faster T is an IMPROVEMENT (exit 0) unless load made a side unstable.
    assert (result.exit_code, comparison["verdict"]) in ((0, "IMPROVEMENT"), (3, "INCONCLUSIVE")), comparison
    if comparison["verdict"] == "INCONCLUSIVE":
        assert all("is unstable" in reason for reason in comparison["reasons"]), comparison["reasons"]
    missing = CliRunner().invoke(bench_cli, ["--model", str(reports.t_model), "--baseline",
                                             str(tmp_path / "nope.json"), "--output-dir", str(tmp_path)])
    assert missing.exit_code == 2 and "nope.json does not exist" in missing.stderr


def test_interleaved_on_the_simulated_phone_compares_phone_fingerprints(reports, tmp_path, monkeypatch) -> None:
    """The same A/B path on a phone (simulated behind a fake adb and benchmark_model)."""
    from sim.phone import SIM_ROOT_ENV, create_sim, install_fake_benchmark_model, sd865_config, write_adb_launcher

    from seaformer_deploy.cli.bench import main as bench_cli

    monkeypatch.setenv(SIM_ROOT_ENV, str(create_sim(tmp_path / "sim", sd865_config())))
    phone = ["--device", "adb:SIM865A", "--adb", str(write_adb_launcher(tmp_path / "platform-tools")),
             "--benchmark-binary", str(install_fake_benchmark_model(tmp_path / "benchmark_model"))]
    result = CliRunner().invoke(bench_cli, ["--model", str(reports.s_model), "--baseline", str(reports.t_model),
                                            *phone, "--repeats", "6", "--warmup", "1", "--runs", "5",
                                            "--no-profile", "--output-dir", str(tmp_path / "ab"), "--json"])
    comparison = json.loads(result.stdout)
    assert comparison["baseline"]["fingerprint"].startswith("model SM-G981B, soc SM8250, build samsung/")
    assert comparison["baseline"]["launches"] == comparison["current"]["launches"] == 6
    assert result.exit_code == comparison["exit_code"]
    # A phone report never matches a report of this host.
    against_host = _report(["compare", reports.t_report, next((tmp_path / "ab" / "current").glob("*.json"))])
    assert against_host.exit_code == 3 and "device kind local vs adb" in against_host.stdout

"""The latency workflow, checked offline: GitHub's workflow schema (check-jsonschema's vendored copy) and
zizmor's security audits (no template injection, no high findings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "latency.yml"
SCRIPT = ROOT / ".github" / "scripts" / "latency.sh"
BIN = Path(sys.executable).parent


def _zizmor(path: Path) -> list[dict]:
    done = subprocess.run([str(BIN / "zizmor"), "--offline", "--format", "json", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 11, 12, 13, 14), done.stderr  # 1x: findings of that severity were reported
    return json.loads(done.stdout)


def test_the_workflow_matches_githubs_schema() -> None:
    done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_in_the_workflow_and_catches_an_injection(tmp_path) -> None:
    assert _zizmor(WORKFLOW) == []
    # The audit really runs: the same kind of file with pull-request text in a run step is flagged.
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(WORKFLOW.read_text().replace(
        "run: bash candidate/.github/scripts/latency.sh local build/latency",
        'run: echo "${{ github.event.pull_request.title }}"'))
    findings = _zizmor(bad)
    assert [f["ident"] for f in findings] == ["template-injection"]
    assert findings[0]["determinations"]["severity"] == "High"


def test_the_jobs_do_what_the_readme_says() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"] == {"contents": "read"}
    hosted, phone = workflow["jobs"]["hosted"], workflow["jobs"]["phone"]
    assert hosted["runs-on"] == "ubuntu-latest"
    runs = [step.get("run", "") for step in hosted["steps"]]
    assert any("latency.sh local build/latency" in run for run in runs)
    assert phone["runs-on"][0] == "self-hosted" and "matrix.phone.label" in phone["runs-on"][1]
    assert "fromJSON(vars.LATENCY_PHONES" in phone["strategy"]["matrix"]["phone"]
    assert any('latency.sh "adb:$PHONE_SERIAL"' in step.get("run", "") for step in phone["steps"])
    for job in (hosted, phone):
        upload = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@"))
        assert upload["if"] == "always()" and "latency.html" in upload["with"]["path"]
        assert all(step["with"]["persist-credentials"] is False for step in job["steps"]
                   if step.get("uses", "").startswith("actions/checkout@"))
    assert "GITHUB_STEP_SUMMARY" in SCRIPT.read_text()
    syntax = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr

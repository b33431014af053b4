"""A wheel install drives a phone: the wheel is built from this checkout, installed into a fresh virtualenv
(reusing this environment's installed dependencies) and run from outside the checkout against the simulated
phone. Nothing of the checkout is importable there, so the runner script must come from the wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from sim.phone import SIM_ROOT_ENV, create_sim, install_fake_benchmark_model, read_log, sd865_config, write_adb_launcher

CHECKOUT = Path(__file__).resolve().parents[1]


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{argv[:4]} failed: {proc.stderr[-2000:]}"
    return proc


def test_wheel_install_benchmarks_the_simulated_phone(exported_t64, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    # --no-build-isolation: build with this environment's setuptools (no download).
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(wheels),
          str(CHECKOUT)], cwd=tmp_path)
    (wheel,) = wheels.glob("seaformer_deploy-*.whl")
    assert "seaformer_deploy/bench/adb/run_benchmark.sh" in zipfile.ZipFile(wheel).namelist()

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # The dependencies come from this environment; its editable install of the checkout does not (a .pth file
    # inside a directory named by another .pth is never processed).
    (site / "reused_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)])

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    located = _run([str(python), "-c", "import seaformer_deploy; print(seaformer_deploy.__file__)"], cwd=outside)
    assert Path(located.stdout.strip()).is_relative_to(site)

    root = create_sim(tmp_path / "sim", sd865_config())
    adb = write_adb_launcher(tmp_path / "platform-tools")
    binary = install_fake_benchmark_model(tmp_path / "benchmark_model")
    env = {**os.environ, SIM_ROOT_ENV: str(root)}
    env.pop("PYTHONPATH", None)
    bench = _run([str(venv / "bin" / "seaformer-bench"), "--model", str(exported_t64.model_path),
                  "--device", "adb:SIM865A", "--adb", str(adb), "--benchmark-binary", str(binary), "--warmup", "0",
                  "--runs", "2", "--repeats", "1", "--no-profile", "--allow-unstable",
                  "--output-dir", str(outside / "out"), "--json"], cwd=outside, env=env)
    report = json.loads(Path(json.loads(bench.stdout)["report"]).read_text())
    assert report["device"]["soc"] == "SM8250"
    assert report["latency"]["launches"][0]["source"] == "benchmark_model"
    pushed = [entry["argv"] for entry in read_log(root) if entry.get("cmd") == "push"]
    runner = next(Path(argv[-2]) for argv in pushed if argv[-1].endswith("/run_benchmark.sh"))
    assert runner.is_relative_to(site)  # the wheel's copy, not the checkout's

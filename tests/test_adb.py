"""The Android path (seaformer_deploy/bench/adb/) against a simulated phone.

The code under test talks to an ``adb`` executable through subprocess exactly as with a real phone; here
that executable is tests/sim/fake_adb.py (a simulated Snapdragon 865 phone, see tests/sim/phone.py), and
the "benchmark_model" pushed to it is tests/sim/fake_benchmark_model.py, which really runs the model.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from sim.phone import (
    SIM_ROOT_ENV,
    create_sim,
    device_fs,
    install_fake_benchmark_model,
    read_log,
    sd865_config,
    write_adb_launcher,
)
from torch import nn

from seaformer_deploy.bench.adb import launches as launches_mod
from seaformer_deploy.bench.adb.client import DEVICE_WORK_DIR, AdbDevice, find_adb, list_devices, resolve_serial
from seaformer_deploy.bench.adb.cpus import CpuInfo, select_big_cores
from seaformer_deploy.bench.adb.launches import find_benchmark_binary, run_benchmark_launches
from seaformer_deploy.bench.adb.thermal import parse_thermal, to_celsius
from seaformer_deploy.bench.benchmark_model.parser import parse_benchmark_log, parse_op_profile_csv
from seaformer_deploy.bench.devices.spec import Delegate
from seaformer_deploy.bench.measures import PartialMeasurementError
from seaformer_deploy.errors import DeviceError, UsageError

SERIAL = "SIM865A"
FAST = {
    "threads": 1,
    "delegate": Delegate.XNNPACK,
    "warmup": 1,
    "runs": 3,
    "cooldown_s": 0.0,
    "cooldown_poll_s": 0.05,
    "throttle_backoff_s": 0.05,
}


class _TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 4, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(torch.relu(self.conv1(x)))


@dataclass
class TinyModel:
    path: Path
    net: nn.Module
    input_name: str
    op_types: list[str]  # builtin ops in execution order, as the interpreter lists them


@dataclass
class Sim:
    root: Path
    adb: str

    def device(self, serial: str = SERIAL) -> AdbDevice:
        return AdbDevice(serial, self.adb)

    def log(self) -> list[dict]:
        return read_log(self.root)

    def pushed(self) -> list[str]:
        """Remote targets of every adb push so far."""
        return [entry["argv"][-1] for entry in self.log() if entry.get("cmd") == "push"]

    def work_dir(self, serial: str = SERIAL) -> Path:
        return device_fs(self.root, serial) / "data/local/tmp/seaformer"

    def end_events(self, serial: str = SERIAL) -> list[dict]:
        path = self.root / serial / "events.jsonl"
        events = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        return [e for e in events if e["event"] == "end"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    import litert_torch
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    torch.manual_seed(0)
    net = _TinyNet().eval()
    path = tmp_path_factory.mktemp("model") / "tiny.tflite"
    with warnings.catch_warnings():  # litert-torch's own deprecation noise, not ours
        warnings.simplefilter("ignore", FutureWarning)
        litert_torch.convert(net, (torch.randn(1, 3, 32, 32),)).export(str(path))
    interpreter = Interpreter(
        model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    ops = [op["op_name"] for op in interpreter._get_ops_details()]
    return TinyModel(path, net, interpreter.get_input_details()[0]["name"], ops)


@pytest.fixture(scope="module")
def fake_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_fake_benchmark_model(tmp_path_factory.mktemp("tools") / "benchmark_model")


@pytest.fixture
def make_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def make(*configs: dict) -> Sim:
        root = create_sim(tmp_path / "sim", *(configs or (sd865_config(),)))
        monkeypatch.setenv(SIM_ROOT_ENV, str(root))
        return Sim(root, str(write_adb_launcher(tmp_path / "platform-tools")))

    return make


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


# --------------------------------------------------------------------------- finding adb and the phone


def test_find_adb_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import adbutils

    explicit = _executable(tmp_path / "explicit" / "adb")
    from_env = _executable(tmp_path / "env" / "adb")
    on_path = _executable(tmp_path / "path" / "adb")
    bundled = _executable(tmp_path / "bundled" / "adb")
    monkeypatch.setenv("ADB", str(from_env))
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.setenv("ADBUTILS_ADB_PATH", str(bundled))

    assert find_adb(str(explicit)) == str(explicit)
    assert find_adb() == str(from_env)
    monkeypatch.delenv("ADB")
    assert find_adb() == str(on_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_adb() == str(bundled)  # adbutils.adb_path() honours ADBUTILS_ADB_PATH

    def no_adb() -> str:
        raise adbutils.AdbError("No adb exe could be found")

    monkeypatch.setattr(adbutils, "adb_path", no_adb)
    with pytest.raises(DeviceError, match="adb not found"):
        find_adb()
    with pytest.raises(UsageError, match="--adb .*not an executable"):
        find_adb(str(tmp_path / "nowhere" / "adb"))
    monkeypatch.setenv("ADB", str(tmp_path / "README"))
    with pytest.raises(UsageError, match=r"\$ADB"):
        find_adb()


def test_resolve_serial_states(make_sim) -> None:
    sim = make_sim(
        sd865_config("PHONE_OK"),
        sd865_config("PHONE_AUTH", state="unauthorized", usb="1-2"),
        sd865_config("PHONE_OFF", state="offline", usb="1-3"),
    )
    devices = {d.serial: d for d in list_devices(sim.adb)}
    assert devices["PHONE_OK"].state == "device" and devices["PHONE_OK"].details["model"] == "SM_G981B"
    assert devices["PHONE_AUTH"].state == "unauthorized" and devices["PHONE_OFF"].state == "offline"

    assert resolve_serial("PHONE_OK", sim.adb) == "PHONE_OK"
    with pytest.raises(DeviceError, match="several devices attached .*PHONE_AUTH \\(unauthorized\\)"):
        resolve_serial(None, sim.adb)
    with pytest.raises(DeviceError, match="PHONE_AUTH is unauthorized: unlock it and accept"):
        resolve_serial("PHONE_AUTH", sim.adb)
    with pytest.raises(DeviceError, match="PHONE_OFF is offline: replug"):
        resolve_serial("PHONE_OFF", sim.adb)
    with pytest.raises(DeviceError, match="device NOPE not found by adb \\(attached: PHONE_OK \\(device\\)"):
        resolve_serial("NOPE", sim.adb)
    # The unauthorized phone refuses commands with adb's own message, which maps to the same advice.
    with pytest.raises(DeviceError, match="unauthorized"):
        sim.device("PHONE_AUTH").ensure_online()


def test_resolve_single_and_no_device(make_sim) -> None:
    sim = make_sim(sd865_config())
    assert resolve_serial(None, sim.adb) == SERIAL
    create_sim(sim.root)  # unplug everything
    with pytest.raises(DeviceError, match="no Android device attached"):
        resolve_serial(None, sim.adb)


@pytest.mark.slow  # converts a model
def test_non_arm64_device_is_refused(make_sim, tiny: TinyModel, fake_binary: Path, tmp_path: Path) -> None:
    emulator = sd865_config(
        "EMU_X86", getprop={"ro.product.cpu.abi": "x86_64", "ro.product.cpu.abilist": "x86_64,x86"}
    )
    sim = make_sim(emulator)
    with pytest.raises(DeviceError, match="has ABI x86_64.*targets arm64-v8a"):
        run_benchmark_launches(sim.device("EMU_X86"), model=tiny.path, binary=fake_binary, repeats=1, **FAST)
    assert sim.pushed() == []
    # A binary built for x86_64 is what that phone needs: the ELF header decides, not a fixed rule.
    elf = tmp_path / "benchmark_model_x86_64"
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(11) + (0x3E).to_bytes(2, "little") + bytes(44))
    assert sim.device("EMU_X86").check_abi(elf) == "x86_64"
    with pytest.raises(DeviceError, match="has ABI arm64-v8a"):
        make_sim(sd865_config()).device().check_abi(elf)


# --------------------------------------------------------------------------- fingerprint, cores, thermals


def test_fingerprint_and_big_core_mask_on_sd865(make_sim) -> None:
    config = sd865_config()
    device = make_sim(config).device()
    fingerprint = device.fingerprint()
    for name, value in config["getprop"].items():
        assert fingerprint["props"][name] == value
    assert [c["cpuinfo_max_freq"] for c in fingerprint["cpus"]] == [c["max_freq_khz"] for c in config["cpus"]]
    assert {c["scaling_governor"] for c in fingerprint["cpus"]} == {"schedutil"}
    # The fastest max-frequency group is the lone 2.84 GHz prime core (cpu7); more threads add the
    # 2.42 GHz gold cores before any little core.
    assert device.big_core_mask() == "80"
    assert device.big_core_mask(threads=4) == "f0"
    assert device.big_core_mask(threads=5) == "ff"


def test_big_cores_when_sysfs_reads_are_denied(make_sim) -> None:
    capacity_only = [{"capacity": cap} for cap in (404, 404, 871, 1024)]
    device = make_sim(sd865_config(cpus=capacity_only)).device()
    assert [c.max_freq_khz for c in device.cpus()] == [None] * 4
    assert device.big_core_mask() == "8"
    assert device.fingerprint()["cpus"][0]["cpuinfo_max_freq"] is None
    nothing = [CpuInfo(i, None, None, None, None) for i in range(4)]
    assert select_big_cores(nothing, threads=1) == [0, 1, 2, 3]


def test_thermal_readings_are_normalised_to_celsius(make_sim) -> None:
    config = sd865_config()
    thermal = make_sim(config).device().thermal()
    ambient = config["thermal"]["ambient_c"]
    expected = {
        z["type"]: ambient + z["offset_c"] for z in config["thermal"]["zones"] if z["unit"] != "disabled"
    }
    assert thermal.zones_c == pytest.approx(expected)  # milli- and deci-degree zones alike
    assert "pm8150b-bcl-lvl0" not in thermal.zones_c  # a disabled sensor reading 0
    assert thermal.status == 0
    assert thermal.battery_c == pytest.approx(ambient - 5.0)
    assert thermal.hottest_c == pytest.approx(max(v for k, v in expected.items() if k.startswith("cpu")))


def test_thermal_parsing_without_sysfs() -> None:
    text = (
        "Thermal Status: 1\nCurrent temperatures from HAL:\n"
        "\tTemperature{mValue=48.5, mType=0, mName=CPU0, mStatus=1}\n"
        "\tTemperature{mValue=33.0, mType=2, mName=battery, mStatus=0}\n"
        "__SEAFORMER_ZONES__\n__SEAFORMER_BATTERY__\n  temperature: 331\n"
    )
    parsed = parse_thermal(text)
    assert parsed.status == 1 and parsed.zones_c == {}
    assert parsed.hottest_c == 48.5 and parsed.battery_c == pytest.approx(33.1)
    assert [to_celsius(raw) for raw in ("41500", "415", "41", "0", "-273000")] == [
        41.5,
        41.5,
        41.0,
        None,
        None,
    ]


# --------------------------------------------------------------------------- benchmark launches


def _host_reference_output(tiny: TinyModel, data: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return tiny.net(torch.from_numpy(data)).numpy()


@pytest.mark.slow  # converts a model
def test_full_run_three_launches_with_outputs_and_profile(
    make_sim, tiny: TinyModel, fake_binary: Path, tmp_path: Path
) -> None:
    sim = make_sim()
    data = np.random.default_rng(1).standard_normal((1, 3, 32, 32)).astype(np.float32)
    raw = tmp_path / "input.raw"
    data.tofile(raw)
    seen: list[int] = []
    launches = run_benchmark_launches(
        sim.device(),
        model=tiny.path,
        binary=fake_binary,
        repeats=3,
        input_files={tiny.input_name: raw},
        output_dir_on_host=tmp_path / "results",
        op_profiling=True,
        on_launch=lambda launch: seen.append(launch.index),
        **FAST,
    )
    assert [launch.index for launch in launches] == seen == [0, 1, 2]
    ends = sim.end_events()
    assert len(ends) == 3  # three separate benchmark_model processes
    reference = _host_reference_output(tiny, data)
    for launch, end in zip(launches, ends, strict=True):
        assert launch.process.pinned is True and launch.process.cpu_mask == "80"
        assert launch.retries == 0 and not launch.throttled
        assert launch.thermal_before.status == 0 and launch.thermal_after.hottest_c is not None
        assert "Unconsumed cmdline flags" not in launch.process.stdout
        log = parse_benchmark_log(launch.process.stdout)
        assert log.inference.count == 3 and log.warmup.count == 1
        assert log.inference.avg_us == pytest.approx(end["inference_avg_us"], rel=1e-5)
        assert log.memory.peak_mb > 0  # --report_peak_memory_footprint=true
        # Outputs come from the phone: raw float32 written by --output_filepath, pulled back.
        outputs = np.fromfile(launch.process.output_files["outputs"], dtype=np.float32).reshape(reference.shape)
        np.testing.assert_allclose(outputs, reference, rtol=1e-4, atol=1e-5)
        rows = parse_op_profile_csv(launch.process.output_files["op_profile"].read_text())
        # Under XNNPACK the tool aggregates the delegate's operators by type; reshapes and pads vanish.
        assert all(row.name.startswith("Delegate/") for row in rows)
        kept = [op for op in tiny.op_types if op not in ("RESHAPE", "PAD")]
        assert sum(row.times_called for row in rows) == len(kept) and len(rows) == len(set(kept))
        assert sum(row.pct for row in rows) == pytest.approx(100.0, abs=0.01)
    pinned_runs = [
        e for e in sim.log() if e.get("tool") == "taskset" and e["argv"][1].endswith("benchmark_model")
    ]
    assert [e["argv"][0] for e in pinned_runs] == ["80"] * 3
    assert not sim.work_dir().exists()  # the phone is left clean


@pytest.mark.slow  # converts a model
def test_push_is_skipped_when_the_phone_has_the_same_file(
    make_sim, tiny: TinyModel, fake_binary: Path, tmp_path: Path
) -> None:
    sim = make_sim()
    device = sim.device()
    run_benchmark_launches(device, model=tiny.path, binary=fake_binary, repeats=1, keep=True, **FAST)
    first = sim.pushed()
    assert sorted(Path(p).name for p in first) == ["benchmark_model", "run_benchmark.sh", "tiny.tflite"]
    # What a second run would push: only the file whose content changed.
    changed = tmp_path / "benchmark_model"
    changed.write_bytes(fake_binary.read_bytes() + b"\n# changed\n")
    work = DEVICE_WORK_DIR
    again = [(launches_mod.RUNNER_SCRIPT, f"{work}/run_benchmark.sh"), (tiny.path, f"{work}/tiny.tflite")]
    assert device.push_files([*again, (changed, f"{work}/benchmark_model")]) == [False, False, True]
    assert sim.pushed() == [*first, f"{work}/benchmark_model"]
    assert sim.work_dir().is_dir()
    device.cleanup()
    assert not sim.work_dir().exists()


@pytest.mark.slow  # converts a model
def test_push_repeats_when_the_phone_lacks_sha256sum(make_sim, tiny: TinyModel, fake_binary: Path) -> None:
    sim = make_sim(sd865_config(missing_tools=["sha256sum", "taskset"]))
    device = sim.device()
    remote = "/data/local/tmp/seaformer/tiny.tflite"
    # No hash to compare with: every push really copies.
    assert [device.push(tiny.path, remote), device.push(tiny.path, remote)] == [True, True]
    assert sim.pushed() == [remote, remote]
    assert (device_fs(sim.root, SERIAL) / remote.lstrip("/")).read_bytes() == tiny.path.read_bytes()
    (launch,) = run_benchmark_launches(
        device, model=tiny.path, binary=fake_binary, repeats=1, op_profiling=True, **FAST
    )
    assert launch.process.pinned is False  # no taskset on this phone: the run is kept but labelled unpinned
    log = parse_benchmark_log(launch.process.stdout)
    assert log.inference.count == 3
    # Without an output folder the op profile is printed with the rest of the output.
    assert [row.node_type for row in log.op_profile.run_order][:1] == ["Transpose (ND, X32)"]
    assert all(row.name.startswith("Delegate/") for row in log.op_profile.run_order)


@pytest.mark.slow  # converts a model
def test_throttled_launches_back_off_retry_and_stay_flagged(
    make_sim, tiny: TinyModel, fake_binary: Path
) -> None:
    # Runs 1, 3 and 4 on the phone end throttled: launch 0 recovers on its retry, launch 1 does not.
    config = sd865_config(faults={"throttle_after_launches": [1, 3, 4]})
    sim = make_sim(config)
    launches = run_benchmark_launches(
        sim.device(), model=tiny.path, binary=fake_binary, repeats=2, max_throttle_retries=1, **FAST
    )
    assert [(launch.retries, launch.throttled) for launch in launches] == [(1, False), (1, True)]
    assert len(sim.end_events()) == 4  # every throttled run was thrown away and run again
    assert launches[0].thermal_after.status == 0
    assert launches[1].thermal_after.status == config["thermal"]["throttle_status"]


@pytest.mark.slow  # converts a model
def test_cooldown_gate_waits_for_the_phone_to_cool(make_sim, tiny: TinyModel, fake_binary: Path) -> None:
    hot = sd865_config(thermal={"heat_per_launch_c": 20.0, "cool_tau_s": 2.0})
    sim = make_sim(hot)
    options = {**FAST, "cooldown_s": 20.0, "cool_temp_c": 45.0}
    launches = run_benchmark_launches(sim.device(), model=tiny.path, binary=fake_binary, repeats=2, **options)
    assert launches[0].thermal_after.hottest_c > 45.0  # the first run heated the phone
    assert launches[1].thermal_before.hottest_c < 45.0
    assert launches[1].process.cooldown_wait_s > launches[0].process.cooldown_wait_s + 0.3


@pytest.mark.slow  # converts a model
def test_cooldown_gate_gives_up_after_cooldown_s(make_sim, tiny: TinyModel, fake_binary: Path) -> None:
    sim = make_sim()
    options = {**FAST, "cooldown_s": 0.5, "cool_temp_c": 10.0}  # colder than the room: never reached
    (launch,) = run_benchmark_launches(
        sim.device(), model=tiny.path, binary=fake_binary, repeats=1, **options
    )
    assert 0.5 <= launch.process.cooldown_wait_s < 10.0
    assert launch.thermal_before.hottest_c > 10.0


# --------------------------------------------------------------------------- failures


@pytest.mark.slow  # converts a model
def test_disconnect_keeps_finished_launches(make_sim, tiny: TinyModel, fake_binary: Path) -> None:
    sim = make_sim(sd865_config(faults={"disconnect_after_launches": 2}))
    with pytest.raises(PartialMeasurementError, match=f"device {SERIAL} disconnected") as caught:
        run_benchmark_launches(sim.device(), model=tiny.path, binary=fake_binary, repeats=4, **FAST)
    assert isinstance(caught.value, DeviceError)
    kept = caught.value.launches
    assert len(kept) in (1, 2)
    assert [launch.index for launch in kept] == list(range(len(kept)))
    assert parse_benchmark_log(kept[0].process.stdout).inference.count == 3


@pytest.mark.slow  # converts a model
def test_not_enough_space(make_sim, tiny: TinyModel, fake_binary: Path) -> None:
    sim = make_sim(sd865_config(free_bytes=2_000_000))
    with pytest.raises(DeviceError, match=r"not enough space on device: need \d+\.\d MB, have 2\.0 MB"):
        run_benchmark_launches(sim.device(), model=tiny.path, binary=fake_binary, repeats=1, **FAST)
    assert sim.pushed() == []


@pytest.mark.slow  # converts a model
def test_missing_binary_and_bad_inputs_are_usage_errors(
    make_sim, tiny: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_sim()
    with pytest.raises(UsageError, match="benchmark_model binary .*not found"):
        run_benchmark_launches(sim.device(), model=tiny.path, binary=tmp_path / "absent", repeats=1, **FAST)
    short = tmp_path / "short.raw"
    short.write_bytes(bytes(12))
    with pytest.raises(
        UsageError, match=f"has 12 bytes but input {tiny.input_name} \\[1, 3, 32, 32\\] needs 12288"
    ):
        run_benchmark_launches(
            sim.device(),
            model=tiny.path,
            binary=tiny.path,
            repeats=1,
            input_files={tiny.input_name: short},
            **FAST,
        )
    with pytest.raises(UsageError, match="'nope' is not an input"):
        run_benchmark_launches(
            sim.device(), model=tiny.path, binary=tiny.path, repeats=1, input_files={"nope": short}, **FAST
        )
    assert sim.log() == []  # rejected before talking to the phone
    monkeypatch.delenv(launches_mod.BENCHMARK_BINARY_ENV, raising=False)
    with pytest.raises(UsageError, match="no benchmark_model binary"):
        find_benchmark_binary()
    monkeypatch.setenv(launches_mod.BENCHMARK_BINARY_ENV, str(tiny.path))
    assert find_benchmark_binary() == tiny.path


@pytest.mark.slow  # converts a model
def test_binary_crash_reports_its_output(make_sim, tiny: TinyModel, fake_binary: Path) -> None:
    sim = make_sim(sd865_config(faults={"crash_on_launches": [1]}))
    with pytest.raises(
        PartialMeasurementError, match=r"launch 1/2 \(exit 139, SIGSEGV\).*Segmentation fault"
    ) as caught:
        run_benchmark_launches(sim.device(), model=tiny.path, binary=fake_binary, repeats=2, **FAST)
    assert caught.value.launches == []
    assert "Loaded model" in str(caught.value)  # the tail of the tool's own output
    assert not sim.work_dir().exists()


@pytest.mark.slow  # converts a model
def test_binary_without_timing_lines(make_sim, tiny: TinyModel, tmp_path: Path) -> None:
    sim = make_sim()
    silent = tmp_path / "benchmark_model"
    silent.write_text("#!/bin/sh\necho 'not the benchmark tool'\n")
    with pytest.raises(PartialMeasurementError, match="no timing lines in its output.*not the benchmark tool"):
        run_benchmark_launches(sim.device(), model=tiny.path, binary=silent, repeats=1, **FAST)
    assert re.search(r"chmod 755", " ".join(" ".join(e["argv"]) for e in sim.log()))
    assert not sim.work_dir().exists()

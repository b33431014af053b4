"""--device and --delegate: parsed once (DeviceSpec, Delegate), opened by open_device, refused cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from seaformer_deploy.bench.adb.client import AdbDevice
from seaformer_deploy.bench.devices.device import Device
from seaformer_deploy.bench.devices.local import LocalDevice
from seaformer_deploy.bench.devices.opening import open_device
from seaformer_deploy.bench.devices.phone import PhoneDevice
from seaformer_deploy.bench.devices.spec import Delegate, DeviceKind, DeviceSpec
from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.cli.bench import main as bench_cli
from seaformer_deploy.errors import UsageError


@pytest.mark.parametrize(
    ("text", "kind", "serials", "fleet", "slug"),
    [
        ("local", DeviceKind.LOCAL, (), False, "local"),
        ("adb", DeviceKind.ADB, (), False, "adb"),
        ("adb:R58M1234", DeviceKind.ADB, ("R58M1234",), False, "adb-R58M1234"),
        ("adb:192.168.1.7:5555", DeviceKind.ADB, ("192.168.1.7:5555",), False, "adb-192-168-1-7-5555"),
        ("adb:S1,S2", DeviceKind.ADB, ("S1", "S2"), True, "adb-S1-S2"),
        ("adb:all", DeviceKind.ADB, (), True, "adb-all"),
    ],
)
def test_device_spec_parses_every_spelling(text, kind, serials, fleet, slug) -> None:
    spec = DeviceSpec.parse(text)
    assert (spec.kind, spec.serials, spec.is_fleet, spec.slug) == (kind, serials, fleet, slug)
    assert str(spec) == text and DeviceSpec.parse(str(spec)) == spec


def test_device_spec_single_serial() -> None:
    assert DeviceSpec.parse("adb:R58M").serial == "R58M"
    assert DeviceSpec.parse("adb").serial is None
    with pytest.raises(UsageError, match="several phones"):
        _ = DeviceSpec.parse("adb:all").serial


@pytest.mark.parametrize("text", ["usb:R58M", "adb:", "adb:a,,b", "adb:a b", "phone", "", "adb:a,a"])
def test_device_spec_rejects_anything_else(text) -> None:
    with pytest.raises(UsageError):
        DeviceSpec.parse(text)


def test_delegate_parse() -> None:
    assert Delegate.parse("XNNPACK") is Delegate.XNNPACK and Delegate.parse(" cpu ") is Delegate.CPU
    with pytest.raises(UsageError, match="'metal' is not one of xnnpack, gpu, nnapi, cpu"):
        Delegate.parse("metal")


def test_bench_options_parse_their_strings_once() -> None:
    options = BenchOptions(device="adb:R58M", delegate="gpu")
    assert options.device == DeviceSpec(DeviceKind.ADB, ("R58M",)) and options.delegate is Delegate.GPU
    assert BenchOptions().device.kind is DeviceKind.LOCAL
    with pytest.raises(UsageError, match="unknown device"):
        BenchOptions(device="usb:1")


def test_both_devices_implement_the_protocol() -> None:
    phone = PhoneDevice(AdbDevice("R58M", "/nowhere/adb"), Path("benchmark_model"), BenchOptions(device="adb:R58M"))
    assert isinstance(phone, Device) and phone.name == "adb:R58M" and phone.kind is DeviceKind.ADB
    assert isinstance(LocalDevice(), Device)


def test_open_device_local_and_its_delegates() -> None:
    device = open_device(DeviceSpec.parse("local"), BenchOptions(threads=2, delegate="cpu"))
    assert isinstance(device, LocalDevice) and device.threads == 2 and device.kind is DeviceKind.LOCAL
    device.close()
    with pytest.raises(UsageError, match="'gpu' is not available on the local device"):
        open_device(DeviceSpec.parse("local"), BenchOptions(delegate="gpu"))


def test_a_list_of_phones_is_not_one_device(exported_t64, tmp_path, monkeypatch) -> None:
    from sim.phone import SIM_ROOT_ENV, create_sim, write_adb_launcher

    monkeypatch.setenv(SIM_ROOT_ENV, str(create_sim(tmp_path / "sim")))  # no phone attached
    adb = write_adb_launcher(tmp_path / "platform-tools")
    for spec in ("adb:S1,S2", "adb:all"):
        with pytest.raises(UsageError, match="several phones"):
            open_device(DeviceSpec.parse(spec), BenchOptions(device=spec))
        # The command line runs lists as a fleet (tests/test_fleet.py); none of these phones is there.
        result = CliRunner().invoke(bench_cli, ["--model", str(exported_t64.model_path), "--device", spec,
                                                "--adb", str(adb), "--output-dir", str(tmp_path / "o")])
        assert result.exit_code == 2, result.output
        (line,) = result.stderr.strip().splitlines()
        assert "not connected" in line or "no Android device attached" in line


@pytest.mark.parametrize(("args", "message"), [
    (["--device", "usb:R58M"], "unknown device 'usb:R58M'"),
    (["--device", "adb:A,A"], "names a phone twice"),
    (["suite", "bench/standard.json", "--device", "adb:"], "unknown device 'adb:'"),
])
def test_a_bad_device_on_the_command_line_is_one_line_and_exit_2(args, message, tmp_path) -> None:
    if args[0] != "suite":
        args = ["--model", str(tmp_path / "m.tflite"), *args]
    result = CliRunner().invoke(bench_cli, [*args, "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()

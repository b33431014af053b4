"""TFLite/LiteRT ``benchmark_model`` on a phone as independent, pinned, thermally gated process launches.

The measuring practice: pin to the big cores, warm up, cool down before every launch, treat thermal status > 0
as throttled (back off, retry a few times, then keep the launch flagged), and run every repeat as a separate
process so each one is an independent sample. What runs on the phone is ``run_benchmark.sh`` (beside this
module, shipped as package data) plus the user's binary.

Typical use::

    device = AdbDevice(resolve_serial("R58M1234", find_adb(opt_adb)), adb_path)
    launches = run_benchmark_launches(device, model=m, binary=b, threads=4, delegate=Delegate.XNNPACK,
                                      warmup=5, runs=50, repeats=6)
"""

from __future__ import annotations

import logging
import math
import os
import re
import shlex
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from seaformer_deploy.bench.adb.capabilities import BinaryCapabilities
from seaformer_deploy.bench.adb.client import AdbDevice, tail
from seaformer_deploy.bench.adb.cpus import check_mask
from seaformer_deploy.bench.adb.thermal import THERMAL_SCRIPT, parse_thermal, wait_until_cool
from seaformer_deploy.bench.benchmark_model.convert import launch_from_log
from seaformer_deploy.bench.benchmark_model.parser import parse_benchmark_log
from seaformer_deploy.bench.devices.spec import Delegate
from seaformer_deploy.bench.measures import Launch, PartialMeasurementError, PhoneProcess
from seaformer_deploy.bench.options import COOLDOWN_MAX_S, COOLDOWN_TEMP_C
from seaformer_deploy.errors import DeviceError, UsageError
from seaformer_deploy.fileio import ensure_writable_dir

log = logging.getLogger(__name__)

# Package data, so a wheel install drives phones too; wheels install unzipped, so it is a real file.
RUNNER_SCRIPT = Path(str(resources.files("seaformer_deploy.bench.adb") / "run_benchmark.sh"))
BENCHMARK_BINARY_ENV = "SEAFORMER_BENCHMARK_MODEL"

# Room for the output tensors and profile each launch writes before they are pulled.
_SPACE_HEADROOM_BYTES = 16 * 1024 * 1024
_EXIT_RE = re.compile(r"^SEAFORMER_EXIT=(\d+)\s*$", re.MULTILINE)
_PINNED_RE = re.compile(r"^SEAFORMER_PINNED=([01])", re.MULTILINE)
_TIMINGS_RE = re.compile(r"[Ii]nference timings in us|=+ BENCHMARK RESULTS =+")  # classic summary or LiteRT 2.x block
_AFTER_MARKER = "__SEAFORMER_AFTER__"


def find_benchmark_binary(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The user's benchmark_model: ``--benchmark-binary PATH``, then ``$SEAFORMER_BENCHMARK_MODEL``."""
    source, value = (
        ("--benchmark-binary", explicit)
        if explicit
        else (f"${BENCHMARK_BINARY_ENV}", os.environ.get(BENCHMARK_BINARY_ENV))
    )
    if not value:
        raise UsageError(
            f"no benchmark_model binary: pass --benchmark-binary PATH or set ${BENCHMARK_BINARY_ENV} "
            "(android_runner/README.md says where to get one)"
        )
    path = Path(value).expanduser()
    if not path.is_file():
        raise UsageError(f"{source} {value}: benchmark_model binary not found")
    return path



@dataclass(frozen=True)
class _InputSpec:
    name: str
    shape: tuple[int, ...]
    nbytes: int


def _model_inputs(model: Path) -> list[_InputSpec]:
    # Imported here: the runtime is heavy and only needed when input files are given.
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        interpreter = Interpreter(
            model_path=str(model),
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
    except (ValueError, RuntimeError) as exc:
        raise UsageError(f"cannot read the inputs of {model}: {exc}") from None
    specs = []
    for detail in interpreter.get_input_details():
        shape = tuple(int(d) for d in detail["shape"])
        specs.append(_InputSpec(detail["name"], shape, math.prod(shape) * detail["dtype"]().itemsize))
    return specs


def _input_flags(
    model: Path, input_files: Mapping[str, Path], remote_dir: str
) -> tuple[list[str], list[tuple[Path, str]]]:
    """benchmark_model flags and uploads for input value files.

    benchmark_model matches value files against --input_layer, which must list EVERY model input in
    interpreter order with its shape; a ':' inside a tensor name is escaped as '::'.
    """
    specs = _model_inputs(model)
    by_name = {spec.name: spec for spec in specs}
    unknown = sorted(set(input_files) - set(by_name))
    if unknown:
        raise UsageError(
            f"input {unknown[0]!r} is not an input of {model.name} (inputs: {', '.join(by_name)})"
        )
    uploads, value_files = [], []
    for position, (name, path) in enumerate(sorted(input_files.items())):
        size = path.stat().st_size
        if size != by_name[name].nbytes:
            raise UsageError(
                f"input file {path} has {size} bytes but input {name} {list(by_name[name].shape)} needs "
                f"{by_name[name].nbytes}"
            )
        remote = f"{remote_dir}/input_{position}.raw"
        uploads.append((path, remote))
        value_files.append(f"{name.replace(':', '::')}:{remote}")
    flags = [
        "--input_layer=" + ",".join(spec.name for spec in specs),
        "--input_layer_shape=" + ":".join(",".join(str(d) for d in spec.shape) for spec in specs),
        "--input_layer_value_files=" + ",".join(value_files),
    ]
    return flags, uploads



def _failure_reason(exit_code: int | None) -> str:
    if exit_code is None:
        return "the runner did not finish"
    if exit_code == 0:
        return "no timing lines in its output"
    if exit_code > 128:
        try:
            return f"exit {exit_code}, {signal.Signals(exit_code - 128).name}"
        except ValueError:
            return f"exit {exit_code}"
    return {126: "exit 126, not executable", 127: "exit 127, command not found"}.get(
        exit_code, f"exit {exit_code}"
    )


def _parse_runner_output(text: str) -> tuple[str, int | None, bool | None]:
    """benchmark_model's own output, its exit code and whether taskset pinned it."""
    exit_match = _EXIT_RE.search(text)
    pinned_match = _PINNED_RE.search(text)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("SEAFORMER_")) + "\n"
    return (
        body,
        int(exit_match.group(1)) if exit_match else None,
        pinned_match.group(1) == "1" if pinned_match else None,
    )


def run_benchmark_launches(
    device: AdbDevice,
    *,
    model: str | os.PathLike[str],
    binary: str | os.PathLike[str],
    threads: int,
    delegate: Delegate,
    warmup: int,
    runs: int,
    repeats: int,
    cpu_mask: str | None = None,
    input_files: Mapping[str, str | os.PathLike[str]] | None = None,
    output_dir_on_host: str | os.PathLike[str] | None = None,
    op_profiling: bool = False,
    cooldown_s: float = COOLDOWN_MAX_S,
    cool_temp_c: float = COOLDOWN_TEMP_C,
    cooldown_poll_s: float = 5.0,
    throttle_backoff_s: float = 90.0,
    max_throttle_retries: int = 3,
    launch_timeout_s: float = 1800.0,
    keep: bool = False,
    on_launch: Callable[[Launch], None] | None = None,
    capabilities: BinaryCapabilities | None = None,
) -> list[Launch]:
    """Run ``repeats`` independent benchmark_model launches of ``model`` on the phone.

    Args:
        device: the phone.
        model: local .tflite file.
        binary: local benchmark_model built for the phone's ABI.
        threads, delegate, warmup, runs: benchmark_model's --num_threads, delegate, --warmup_runs and
            --num_runs (exact counts: --warmup_min_secs=0 --min_secs=0).
        repeats: number of process launches.
        cpu_mask: hex taskset mask; default: the big cores for ``threads`` (see select_big_cores).
        input_files: input tensor name -> local raw file (little-endian, the tensor's exact byte size).
        output_dir_on_host: when set, each launch's output tensors (and the op profile as CSV, when the build
            can write one) are written on the phone and pulled to ``DIR/launch_NN/outputs.bin`` /
            ``op_profile.csv``; a profile the build printed instead of writing is only in ``stdout``.
        op_profiling: per-op profile; printed in ``stdout`` when there is no output folder.
        cooldown_s, cool_temp_c, cooldown_poll_s: before each launch, wait until thermal status is 0
            and the hottest CPU zone is below ``cool_temp_c``, at most ``cooldown_s``.
        throttle_backoff_s, max_throttle_retries: a launch with thermal status > 0 is throttled; back
            off and retry it, and after the last retry keep it flagged.
        keep: leave /data/local/tmp/seaformer on the phone (later runs then skip unchanged pushes).
        on_launch: called with every finished Launch.
        capabilities: what the binary understands (see ``capabilities``); default: unknown, so the current
            flag spellings are used.

    Raises:
        UsageError: a bad argument or a missing local file.
        DeviceError: the phone cannot be used (ABI, space); PartialMeasurementError once launches began,
            carrying the launches that finished.
    """
    model, binary = Path(model), Path(binary)
    if not binary.is_file():
        raise UsageError(f"benchmark_model binary {binary} not found (see android_runner/README.md)")
    if not model.is_file():
        raise UsageError(f"model {model} not found")
    for name, value, low in (
        ("threads", threads, 1),
        ("warmup", warmup, 0),
        ("runs", runs, 1),
        ("repeats", repeats, 1),
        ("max_throttle_retries", max_throttle_retries, 0),
    ):
        if value < low:
            raise UsageError(f"{name} must be >= {low}, got {value}")
    local_inputs = {name: Path(path) for name, path in (input_files or {}).items()}
    for path in local_inputs.values():
        if not path.is_file():
            raise UsageError(f"input file {path} not found")
    if not RUNNER_SCRIPT.is_file():
        raise UsageError(f"device runner {RUNNER_SCRIPT} is missing from this installation")
    caps = capabilities or BinaryCapabilities(None)
    if local_inputs and caps.can_exchange_tensors() is False:
        raise UsageError(f"this benchmark_model build ({caps.describe}) reads no input tensor files")
    delegate_flags = caps.delegate_flags(delegate)
    host_dir = ensure_writable_dir(output_dir_on_host) if output_dir_on_host is not None else None
    mask = check_mask(cpu_mask) if cpu_mask else None

    work = device.work_dir
    input_flags, input_uploads = _input_flags(model, local_inputs, work) if local_inputs else ([], [])
    device.ensure_online()
    device.check_abi(binary)
    mask = mask or device.big_core_mask(threads)
    uploads = [
        (RUNNER_SCRIPT, f"{work}/run_benchmark.sh"),
        (binary, f"{work}/benchmark_model"),
        (model, f"{work}/{model.name}"),
        *input_uploads,
    ]
    need = sum(local.stat().st_size for local, _ in uploads) + _SPACE_HEADROOM_BYTES
    free = device.free_space_bytes(work.rsplit("/", 1)[0] or "/")
    if free is None:
        log.warning("%s: free space on the phone is unreadable; pushing anyway", device.serial)
    elif free < need:
        raise DeviceError(
            f"not enough space on device: need {need / 1e6:.1f} MB, have {free / 1e6:.1f} MB "
            f"in {work.rsplit('/', 1)[0]} on {device.serial}"
        )

    remote_outputs = f"{work}/outputs.bin" if host_dir and caps.can_exchange_tensors() is not False else None
    remote_profile = None
    flags = [
        f"--graph={work}/{model.name}",
        f"--num_threads={threads}",
        f"--warmup_runs={warmup}",
        "--warmup_min_secs=0",
        f"--num_runs={runs}",
        "--min_secs=0",
        *delegate_flags,
        "--report_peak_memory_footprint=true",
        *input_flags,
    ]
    if op_profiling:
        profile_flags, remote_profile = caps.profiling_flags(f"{work}/op_profile.csv" if host_dir else None)
        flags += profile_flags
    if remote_outputs:
        flags.append(f"--output_filepath={remote_outputs}")
    # Leave out what the build is known to ignore (exact run counts then rest on --num_runs alone).
    flags = [flag for flag in flags if caps.knows(flag[2:].split("=", 1)[0]) is not False]
    command = _launch_command(work, mask, flags, [p for p in (remote_outputs, remote_profile) if p])

    launches: list[Launch] = []
    try:
        device.push_files(uploads)
        for index in range(repeats):
            launch = _run_launch(
                device,
                index,
                repeats,
                command,
                mask,
                cooldown=(cooldown_s, cool_temp_c, cooldown_poll_s),
                throttle=(throttle_backoff_s, max_throttle_retries),
                timeout_s=launch_timeout_s,
            )
            if host_dir and launch.process is not None:
                pulled = _pull_launch_files(device, host_dir / f"launch_{index:02d}", remote_outputs, remote_profile)
                launch.process = replace(launch.process, output_files=pulled)
            launches.append(launch)
            if on_launch:
                on_launch(launch)
    except DeviceError as exc:
        raise PartialMeasurementError(f"{exc} ({len(launches)} of {repeats} launches finished)", launches) from exc
    finally:
        if not keep:
            try:
                device.cleanup()
            except DeviceError as exc:
                log.warning("%s: could not remove %s: %s", device.serial, work, exc)
    return launches


def _launch_command(work: str, mask: str | None, flags: Sequence[str], stale: Sequence[str]) -> str:
    """The shell line of one launch.

    It re-asserts the binary's exec bit, removes stale outputs (a launch must never hand back its
    predecessor's tensors), runs the runner script, and reads the thermals in the same shell right
    after the process exits.
    """
    quote = shlex.quote
    remove = f"rm -f {' '.join(map(quote, stale))} && " if stale else ""
    return (
        f"cd {quote(work)} && chmod 755 ./benchmark_model && {remove}"
        f"sh ./run_benchmark.sh {quote(mask or 'none')} ./benchmark_model "
        f"{' '.join(map(quote, flags))} 2>&1; "
        f"echo {_AFTER_MARKER}; {THERMAL_SCRIPT}"
    )


def _run_launch(
    device: AdbDevice,
    index: int,
    repeats: int,
    command: str,
    mask: str | None,
    *,
    cooldown: tuple[float, float, float],
    throttle: tuple[float, int],
    timeout_s: float,
) -> Launch:
    """One launch behind the cooldown gate, retried while the phone reports throttling."""
    backoff_s, max_retries = throttle
    retries = 0
    cooled_s = 0.0
    while True:
        before, waited = wait_until_cool(device.thermal, *cooldown)
        cooled_s += waited
        start = time.monotonic()
        result = device.shell_result(command, timeout=timeout_s)
        duration = time.monotonic() - start
        runner_text, _, thermal_text = result.stdout.partition(_AFTER_MARKER)
        after = parse_thermal(thermal_text)
        text = runner_text + result.stderr
        body, exit_code, pinned = _parse_runner_output(text)
        if exit_code != 0 or not _TIMINGS_RE.search(body):
            raise DeviceError(
                f"benchmark_model failed on device {device.serial} in launch {index + 1}/{repeats} "
                f"({_failure_reason(exit_code)}): {tail(text)}"
            )
        throttled = before.throttled or after.throttled
        if throttled and retries < max_retries:
            retries += 1
            log.warning(
                "%s: launch %d ran throttled (thermal status %s); backing off %g s, retry %d/%d",
                device.serial,
                index + 1,
                after.status,
                backoff_s,
                retries,
                max_retries,
            )
            time.sleep(backoff_s)
            continue
        return launch_from_log(
            index,
            parse_benchmark_log(body, source=f"launch {index} on the phone"),
            thermal_before=before,
            thermal_after=after,
            throttled=throttled,
            retries=retries,
            duration_s=duration,
            cooldown_wait_s=round(cooled_s, 3),
            process=PhoneProcess(stdout=body, cooldown_wait_s=waited, pinned=pinned, cpu_mask=mask),
        )


def _pull_launch_files(
    device: AdbDevice, launch_dir: Path, remote_outputs: str | None, remote_profile: str | None
) -> dict[str, Path]:
    launch_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    if remote_outputs:
        files["outputs"] = device.pull(remote_outputs, launch_dir / "outputs.bin")
    # A build that ignored the CSV flags printed the profile instead: no file is no failure.
    if remote_profile and device.pull(remote_profile, launch_dir / "op_profile.csv", missing_ok=True):
        files["op_profile"] = launch_dir / "op_profile.csv"
    return files

"""The ``adb`` device: a phone driven over adb with TFLite's benchmark_model (see ``bench/adb/``, whose
``run_benchmark.sh`` runs on the phone). Latency, the op profile and the outputs used for accuracy all come from
the phone."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from seaformer_deploy.bench.adb.capabilities import BinaryCapabilities, probe_binary
from seaformer_deploy.bench.adb.client import AdbDevice, find_adb, resolve_serial
from seaformer_deploy.bench.adb.launches import find_benchmark_binary, run_benchmark_launches
from seaformer_deploy.bench.benchmark_model.convert import profile_from_log
from seaformer_deploy.bench.benchmark_model.parser import parse_benchmark_log, parse_op_profile_csv
from seaformer_deploy.bench.devices.device import Execution
from seaformer_deploy.bench.devices.spec import Delegate, DeviceKind, DeviceSpec
from seaformer_deploy.bench.measures import DeviceProfile, Launch, LaunchProgress, OpProfile
from seaformer_deploy.bench.options import BenchOptions
from seaformer_deploy.errors import DeviceError, UsageError
from seaformer_deploy.runtime import TensorSpec


class PhoneDevice:
    """An Android phone over adb, measured with benchmark_model pinned to its big cores."""

    kind = DeviceKind.ADB

    def __init__(self, device: AdbDevice, binary: Path, options: BenchOptions,
                 capabilities: BinaryCapabilities | None = None) -> None:
        self.device = device
        self.binary = binary
        self.options = options
        self.capabilities = capabilities or BinaryCapabilities(None)
        self.name = str(DeviceSpec(DeviceKind.ADB, (device.serial,)))
        self.cleanup_failed = False
        self.warnings: list[str] = []
        self._tensor_specs: dict[Path, tuple[TensorSpec, TensorSpec]] = {}

    @classmethod
    def open(cls, spec: DeviceSpec, options: BenchOptions) -> PhoneDevice:
        """Find adb and the phone, check it is usable and that the benchmark binary suits its ABI."""
        adb_path = find_adb(options.adb)
        binary = find_benchmark_binary(options.benchmark_binary)
        device = AdbDevice(resolve_serial(spec.serial, adb_path), adb_path)
        device.ensure_online()
        device.check_abi(binary)
        capabilities = probe_binary(device, binary)
        capabilities.delegate_flags(options.delegate)  # a delegate the build cannot run is refused now
        if options.dataset is not None and capabilities.can_exchange_tensors() is False:
            raise UsageError(f"accuracy needs the phone's own outputs, and this benchmark_model build "
                             f"({capabilities.describe}) writes no output tensors (--output_filepath): "
                             "use a TFLite benchmark_model build or leave out --dataset")
        return cls(device, binary, options, capabilities)

    def _run(self, model_path: Path, **overrides: Any) -> list[Launch]:
        settings = {
            "threads": self.options.threads, "delegate": self.options.delegate, "warmup": self.options.warmup,
            "runs": self.options.runs, "repeats": self.options.repeats, "cpu_mask": self.options.cpu_mask,
            "cooldown_s": self.options.cooldown_max_s, "cool_temp_c": self.options.cooldown_temp_c,
            "keep": True, "capabilities": self.capabilities,
        }
        settings.update(overrides)
        launches = run_benchmark_launches(self.device, model=model_path, binary=self.binary, **settings)
        for launch in launches:
            self._learn(launch)
        return launches

    def _learn(self, launch: Launch) -> None:
        """Remember the flags the build said it ignored, so later launches stop asking for them."""
        assert launch.process is not None
        ignored = parse_benchmark_log(launch.process.stdout, source="launch on the phone").unconsumed_flags
        learned = self.capabilities.without(ignored)
        if learned is not self.capabilities:
            message = f"benchmark_model ignored flags it does not know: {' '.join(ignored)}"
            if set(ignored) & set(self.capabilities.delegate_flags(self.options.delegate)):
                message += f" (so it ran its default kernels, not {self.options.delegate.value})"
            self.warnings.append(message)
            self.capabilities = learned

    def execution(self, model_path: Path) -> Execution:
        """benchmark_model applies the delegate asked for (a .tflite is all a phone runs)."""
        return Execution(self.options.delegate)

    def fingerprint(self) -> dict[str, Any]:
        details = self.device.fingerprint()
        props = details.get("props", {})
        return {"kind": self.kind.value, "model": props.get("ro.product.model"), "soc": props.get("ro.soc.model"),
                **details, "thermal_at_end": self.device.thermal().to_dict(),
                "cpu_mask": self.options.cpu_mask or self.device.big_core_mask(self.options.threads),
                "benchmark_binary": str(self.binary), "adb": self.device.adb_path}

    def measure(self, model_path: Path, sample: np.ndarray, *, warmup: int, runs: int, repeats: int,
                progress: LaunchProgress | None = None) -> list[Launch]:
        """``repeats`` independent benchmark_model launches with thermal gating and throttle retries."""
        def finished(launch: Launch) -> None:
            if progress is not None:
                progress(launch.index + 1, repeats)

        return self._run(model_path, warmup=warmup, runs=runs, repeats=repeats, on_launch=finished)

    def _profile_launch(self, model_path: Path, delegate: Delegate, *, runs: int, warmup: int) -> OpProfile | None:
        """One op-profiling launch: the CSV file when the build wrote one, else the tables it printed."""
        with tempfile.TemporaryDirectory() as folder:
            (launch,) = self._run(model_path, delegate=delegate, warmup=warmup, runs=runs, repeats=1,
                                  op_profiling=True, output_dir_on_host=folder)
            assert launch.process is not None
            log = parse_benchmark_log(launch.process.stdout, source="profiling launch on the phone")
            csv_path = launch.process.output_files.get("op_profile")
            rows = parse_op_profile_csv(Path(csv_path).read_text()) if csv_path else None
        kernel_mode = delegate.value if delegate is not Delegate.CPU else "builtin"
        profile = profile_from_log(log, kernel_mode=kernel_mode, csv_rows=rows, model_path=model_path)
        if profile is None:
            self.warnings.append(f"the {kernel_mode} profiling launch printed no op profile "
                                 f"({self.capabilities.describe})")
        elif csv_path is None:
            profile.notes.append("read from benchmark_model's stdout (this build writes no profile CSV file)")
        return profile

    def profile(self, model_path: Path, sample: np.ndarray, *, runs: int, warmup: int) -> DeviceProfile:
        """The profile to attribute to modules and, beside it, the delegate's own op-type rows.

        benchmark_model aggregates XNNPACK's rows by operator type, so no row can be traced to a module; the
        module table then comes from a second launch on the builtin kernels (labelled ``builtin``: slower than
        XNNPACK, read its shares rather than its absolute times), and the XNNPACK rows are kept beside it.
        """
        shipped = self._profile_launch(model_path, self.options.delegate, runs=runs, warmup=warmup)
        if self.options.delegate is not Delegate.XNNPACK:
            return DeviceProfile(shipped)
        if not self.capabilities.can_select_builtin_kernels():
            # No builtin-kernel launch possible: the modules come from XNNPACK's per-operator rows when they
            # could be aligned to the model's nodes, else there is no module table.
            if shipped is not None and any(event.node_index is not None for event in shipped.events):
                return DeviceProfile(shipped)
            self.warnings.append(f"no per-module table: the {self.capabilities.describe} cannot run the builtin "
                                 "kernels and its XNNPACK rows could not be aligned to the model's nodes")
            return DeviceProfile(None, shipped)
        return DeviceProfile(self._profile_launch(model_path, Delegate.CPU, runs=runs, warmup=warmup), shipped)

    def predict(self, model_path: Path, batch: np.ndarray) -> np.ndarray:
        """One input run on the phone (benchmark_model --input_layer_value_files / --output_filepath); returns
        the output tensor the phone computed."""
        if model_path not in self._tensor_specs:
            from seaformer_deploy.runtime import load_exported

            host_model = load_exported(model_path)
            self._tensor_specs[model_path] = (host_model.input, host_model.output)
        spec_in, spec_out = self._tensor_specs[model_path]
        with tempfile.TemporaryDirectory() as folder:
            raw_input = Path(folder) / "input.raw"
            raw_input.write_bytes(np.ascontiguousarray(batch, dtype=spec_in.dtype).tobytes())
            (launch,) = self._run(model_path, warmup=0, runs=1, repeats=1, cooldown_s=0.0,
                                  input_files={spec_in.name: raw_input}, output_dir_on_host=folder)
            assert launch.process is not None
            data = Path(launch.process.output_files["outputs"]).read_bytes()
        expected = int(np.prod(spec_out.shape)) * np.dtype(spec_out.dtype).itemsize
        if len(data) < expected:
            raise DeviceError(f"the phone returned {len(data)} output bytes, expected at least {expected}")
        return np.frombuffer(data[:expected], dtype=spec_out.dtype).reshape(spec_out.shape).copy()

    def close(self) -> None:
        """Remove our files from the phone; a phone that is already gone cannot be cleaned and is not an error
        of its own (the failure that lost it is what gets reported)."""
        try:
            self.device.cleanup()
        except DeviceError:
            self.cleanup_failed = True

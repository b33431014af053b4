"""What the user's benchmark_model build understands, and the flags we give it accordingly.

Users run whatever binary they downloaded, and the tool's flags changed across generations:

- current TFLite builds write the op profile as CSV with ``--op_profiling_output_mode=csv
  --op_profiling_output_file=PATH``; older ones spelled the file ``--profiling_output_csv_file=PATH``; some know
  neither and print the tables to stdout;
- 2018 builds know no XNNPACK flag (their default is the builtin kernels);
- the LiteRT 2.x tool (CompiledModel API) selects hardware with ``--use_cpu/--use_gpu/--use_npu``, profiles
  with ``--use_profiler`` (tables on stdout) and reads/writes no tensor files.

A build that knows ``--help`` lists its flags (tflite::Flags::Usage: one ``--name=default`` line each), which
is read once per binary. A build that does not leaves ``--help`` (like every unknown flag) in its
"Unconsumed cmdline flags" warning; its flags are then unknown and learned from that warning after each
launch (``without``), so the next launch no longer asks for what the build ignored.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path

from seaformer_deploy.bench.adb.client import AdbDevice
from seaformer_deploy.bench.devices.spec import Delegate
from seaformer_deploy.errors import UsageError

_HELP_FLAG = re.compile(r"^\s*--([A-Za-z0-9_]+)=", re.MULTILINE)
_FLAG_NAME = re.compile(r"^--([A-Za-z0-9_]+)")

_TFLITE_DELEGATES: dict[Delegate, tuple[str, ...]] = {
    Delegate.XNNPACK: ("--use_xnnpack=true",),
    # Explicitly false makes benchmark_model drop the default XNNPACK delegate: builtin kernels.
    Delegate.CPU: ("--use_xnnpack=false",),
    Delegate.GPU: ("--use_gpu=true",),
    Delegate.NNAPI: ("--use_nnapi=true",),
}
_LITERT_DELEGATES: dict[Delegate, tuple[str, ...]] = {
    Delegate.XNNPACK: ("--use_cpu=true",),  # the CompiledModel CPU accelerator is XNNPACK
    Delegate.GPU: ("--use_gpu=true",),
}


@dataclass(frozen=True)
class BinaryCapabilities:
    """The flags a build knows (``known``; None: it does not say) and those it was seen to ignore."""

    known: frozenset[str] | None
    ignored: frozenset[str] = frozenset()

    def knows(self, flag: str) -> bool | None:
        """True/False when the build said so (help or an ignored-flags warning), None when unknown."""
        if flag in self.ignored:
            return False
        return None if self.known is None else flag in self.known

    @property
    def is_litert_compiled_model(self) -> bool:
        """The LiteRT 2.x tool: it has ``--use_profiler`` and not ``--enable_op_profiling``."""
        return bool(self.knows("use_profiler")) and self.knows("enable_op_profiling") is False

    @property
    def describe(self) -> str:
        if self.is_litert_compiled_model:
            return "LiteRT 2.x CompiledModel benchmark tool"
        if self.known is None:
            return "benchmark_model build without --help" + (
                f" (ignores {', '.join(sorted(self.ignored))})" if self.ignored else "")
        return "TFLite benchmark_model"

    def without(self, unconsumed: list[str]) -> BinaryCapabilities:
        """These capabilities after the build printed "Unconsumed cmdline flags: ``unconsumed``"."""
        names = {m[1] for m in map(_FLAG_NAME.match, unconsumed) if m}
        return replace(self, ignored=self.ignored | names) if names - self.ignored else self

    def delegate_flags(self, delegate: Delegate) -> tuple[str, ...]:
        """How this build is told to run on ``delegate``; UsageError when it cannot."""
        if self.is_litert_compiled_model:
            if delegate not in _LITERT_DELEGATES:
                raise UsageError(f"the {self.describe} cannot run delegate {delegate.value!r} "
                                 f"(it offers {', '.join(d.value for d in _LITERT_DELEGATES)})")
            return _LITERT_DELEGATES[delegate]
        if delegate in (Delegate.XNNPACK, Delegate.CPU) and self.knows("use_xnnpack") is False:
            # 2018 builds run the builtin kernels and have no XNNPACK at all.
            if delegate is Delegate.XNNPACK:
                raise UsageError(f"this benchmark_model build ({self.describe}) has no XNNPACK flag: "
                                 "use --delegate cpu or a newer build")
            return ()
        return _TFLITE_DELEGATES[delegate]

    def can_select_builtin_kernels(self) -> bool:
        return not self.is_litert_compiled_model

    def can_exchange_tensors(self) -> bool | None:
        """Whether the build reads input files and writes output tensors (on-device accuracy)."""
        known = [self.knows(flag) for flag in ("input_layer_value_files", "output_filepath")]
        return False if False in known else (None if None in known else True)

    def profiling_flags(self, remote_csv: str | None) -> tuple[list[str], str | None]:
        """Flags for an op-profiling launch, and the CSV file it writes (None: the tables go to stdout)."""
        if self.is_litert_compiled_model:
            return ["--use_profiler=true"], None
        flags = ["--enable_op_profiling=true"]
        if remote_csv is None:
            return flags, None
        if self.knows("op_profiling_output_file") is not False and self.knows("op_profiling_output_mode") is not False:
            return [*flags, "--op_profiling_output_mode=csv", f"--op_profiling_output_file={remote_csv}"], remote_csv
        if self.knows("profiling_output_csv_file"):
            return [*flags, f"--profiling_output_csv_file={remote_csv}"], remote_csv
        return flags, None


def parse_help(text: str) -> frozenset[str] | None:
    """Flag names a ``--help`` output lists, or None when it lists none (the build does not know --help)."""
    names = frozenset(_HELP_FLAG.findall(text))
    return names or None


def probe_binary(device: AdbDevice, binary: Path) -> BinaryCapabilities:
    """Push ``binary`` (skipped when unchanged) and read its ``--help``."""
    remote = f"{device.work_dir}/benchmark_model"
    device.shell(f"mkdir -p {shlex.quote(device.work_dir)}", timeout=30.0)
    device.push_files([(binary, remote)])
    result = device.shell_result(f"chmod 755 {shlex.quote(remote)} && {shlex.quote(remote)} --help 2>&1",
                                 timeout=60.0)
    return BinaryCapabilities(parse_help(result.stdout + result.stderr))

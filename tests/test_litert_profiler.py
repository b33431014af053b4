"""LiteRT C-API profiler: event accounting on a real converted net, XNNPACK node mapping, guards."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from seaformer_deploy.bench.litert import capi
from seaformer_deploy.bench.litert.capi import LiteRtVersionError
from seaformer_deploy.bench.litert.nodes import TfliteNode, read_tflite_nodes
from seaformer_deploy.bench.litert.profiler import profile_tflite
from seaformer_deploy.bench.litert.xnnpack_alignment import align_xnnpack_operators
from seaformer_deploy.errors import SeaformerError, UsageError

SIZE = 96
INPUT = np.random.default_rng(0).standard_normal((1, 3, SIZE, SIZE)).astype(np.float32)


class _TinyNet(nn.Module):
    """Convolutions XNNPACK runs, plus a CUMSUM it cannot, so the graph splits into two partitions."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.dw = nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.pw = nn.Conv2d(32, 32, 1)
        self.head = nn.Conv2d(32, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.relu6(self.stem(x))
        x = x + self.pw(nn.functional.relu6(self.dw(x)))
        return self.head(torch.cumsum(x, dim=1))


@pytest.fixture(scope="module")
def tiny_tflite(tmp_path_factory: pytest.TempPathFactory):
    import litert_torch

    path = tmp_path_factory.mktemp("litert") / "tiny.tflite"
    litert_torch.convert(_TinyNet().eval(), (torch.from_numpy(INPUT),)).export(str(path))
    return path


def _run_events(profile, run):
    return [event for event in profile.events if event.run == run]


@pytest.mark.slow  # converts a model
def test_builtin_kernels_give_one_event_per_node_per_run(tiny_tflite) -> None:
    nodes = read_tflite_nodes(tiny_tflite)
    profile = profile_tflite(tiny_tflite, [INPUT], runs=3, warmup=1, kernel_mode="builtin")

    assert profile.engine == "litert" and profile.kernel_mode == "builtin"
    assert len(profile.e2e_us) == 3
    assert len(profile.events) == 3 * len(nodes)
    for run in range(3):
        events = _run_events(profile, run)
        assert [event.node_index for event in events] == [node.index for node in nodes]
        assert [event.op_type for event in events] == [node.op_code for node in nodes]
    assert all(event.elapsed_us > 0 for event in profile.events)
    for ops_us, e2e_us in zip(profile.sum_of_ops_us_per_run(), profile.e2e_us, strict=True):
        assert 0 < ops_us <= e2e_us


@pytest.mark.slow  # converts a model
def test_xnnpack_operators_map_onto_nodes_around_a_node_left_to_builtin_kernels(tiny_tflite) -> None:
    nodes = read_tflite_nodes(tiny_tflite)
    op_codes = [node.op_code for node in nodes]
    assert "CUMSUM" in op_codes
    cumsum = op_codes.index("CUMSUM")
    profile = profile_tflite(tiny_tflite, [INPUT], runs=3, warmup=1, kernel_mode="xnnpack")

    for run in range(3):
        events = _run_events(profile, run)
        # Each node of this net becomes exactly one XNNPACK operator (or stays on its builtin kernel), so
        # the order alignment must come out as the identity, on both sides of the CUMSUM split.
        assert [event.node_index for event in events] == [node.index for node in nodes]
        assert [event.op_type for event in events] == op_codes
        assert events[cumsum].name == "CUMSUM"
        delegated = [event for position, event in enumerate(events) if position != cumsum]
        assert all(event.name != event.op_type and "(" in event.name for event in delegated)
    assert all(event.elapsed_us > 0 for event in profile.events)
    for ops_us, e2e_us in zip(profile.sum_of_ops_us_per_run(), profile.e2e_us, strict=True):
        assert 0 < ops_us <= e2e_us
    assert profile.node_names == {node.index: node.name for node in nodes}
    assert any("100.0%" in note for note in profile.notes)


def test_alignment_skips_elided_nodes_and_keeps_helpers_on_their_node() -> None:
    codes = ["TRANSPOSE", "PAD", "CONV_2D", "RESHAPE", "CONV_2D", "MUL", "ADD"]
    nodes = [TfliteNode(10 + offset, code, "") for offset, code in enumerate(codes)]
    xnnpack = [
        "Transpose (ND, X32) Transpose",
        "Convolution (NHWC, F32) IGEMM",  # PAD folded into it
        "Fully Connected (NC, F32) GEMM",  # the RESHAPE before it vanished
        "Multiply (ND)",
        "Clamp (NC)",  # the MUL's fused activation
        "Add (ND)",
    ]
    assert align_xnnpack_operators(xnnpack, nodes) == [10, 12, 14, 15, 15, 16]
    assert align_xnnpack_operators(["Add (ND)"], []) == [None]


@pytest.mark.slow  # converts a model
def test_unverified_litert_version_is_refused(tiny_tflite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capi, "VERIFIED_LITERT_VERSION", "0.0.1")
    with pytest.raises(LiteRtVersionError) as error:
        profile_tflite(tiny_tflite, [INPUT], runs=1, warmup=0)
    message = str(error.value)
    assert "0.0.1" in message and capi.installed_litert_version() in message
    assert "\n" not in message
    assert isinstance(error.value, SeaformerError) and error.value.exit_code == 2


@pytest.mark.slow  # converts a model
def test_unexpected_event_struct_size_is_refused(tiny_tflite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capi, "PROFILED_EVENT_SIZE", 96)
    with pytest.raises(LiteRtVersionError, match="104 bytes"):
        profile_tflite(tiny_tflite, [INPUT], runs=1, warmup=0)


@pytest.mark.slow  # converts a model
def test_corrupt_model_files_are_one_line_usage_errors(tiny_tflite, tmp_path) -> None:
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    truncated = tmp_path / "truncated.tflite"
    data = tiny_tflite.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    for path in (garbage, truncated, tmp_path / "missing.tflite"):
        with pytest.raises(UsageError) as error:
            profile_tflite(path, [INPUT], runs=1, warmup=0)
        assert str(path) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow  # converts a model
def test_bad_inputs_and_options_are_usage_errors(tiny_tflite) -> None:
    with pytest.raises(UsageError, match=r"\(1, 3, 96, 96\)"):
        profile_tflite(tiny_tflite, [INPUT[:, :, :64]], runs=1, warmup=0)
    with pytest.raises(UsageError, match="1 input"):
        profile_tflite(tiny_tflite, [INPUT, INPUT], runs=1, warmup=0)
    with pytest.raises(UsageError, match="kernel_mode"):
        profile_tflite(tiny_tflite, [INPUT], kernel_mode="gpu")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="runs"):
        profile_tflite(tiny_tflite, [INPUT], runs=0)

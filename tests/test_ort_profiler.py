"""ONNX Runtime profiler: trace parsing, event accounting and module-bearing names on a real exported net."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import helper
from torch import nn

from seaformer_deploy.bench.ort_profiler import parse_ort_trace, profile_onnx, resolve_node_names
from seaformer_deploy.errors import UsageError

SIZE = 96
INPUT = np.random.default_rng(0).standard_normal((1, 3, SIZE, SIZE)).astype(np.float32)


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dw = nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.pw = nn.Conv2d(32, 32, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pw(nn.functional.relu6(self.dw(x)))


class _TinyNet(nn.Module):
    """Every op sits in a named submodule, so every profiled node should resolve to a module path."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU6())
        self.blocks = nn.ModuleList([_Block(), _Block()])
        self.head = nn.Conv2d(32, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x)


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("ort") / "tiny.onnx"
    torch.onnx.export(_TinyNet().eval(), (torch.from_numpy(INPUT),), str(path), dynamo=False)
    return path


def _optimized_node_count(model_path, tmp_path) -> int:
    """Nodes in the graph ONNX Runtime executes, from a separate session that saves it."""
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    return len(onnx.load(str(tmp_path / "optimized.onnx")).graph.node)


@pytest.mark.slow  # converts a model
def test_one_kernel_event_per_executed_node_per_measured_run(tiny_onnx, tmp_path) -> None:
    profile = profile_onnx(tiny_onnx, [INPUT], runs=4, warmup=2)

    assert profile.engine == "onnxruntime" and len(profile.e2e_us) == 4
    assert {event.run for event in profile.events} == {0, 1, 2, 3}  # warm-up runs are not in the events
    nodes = _optimized_node_count(tiny_onnx, tmp_path)
    assert len(profile.events) == 4 * nodes
    sequences = [[event.node_index for event in profile.events if event.run == run] for run in range(4)]
    assert all(sequence == sequences[0] for sequence in sequences)
    assert len(set(sequences[0])) == nodes
    assert all(event.elapsed_us > 0 for event in profile.events)
    for ops_us, e2e_us in zip(profile.sum_of_ops_us_per_run(), profile.e2e_us, strict=True):
        assert 0 < ops_us <= e2e_us


@pytest.mark.slow  # converts a model
def test_every_node_resolves_to_its_module_path(tiny_onnx) -> None:
    profile = profile_onnx(tiny_onnx, [INPUT], runs=1, warmup=0)

    resolved = {profile.node_names[event.node_index] for event in profile.events}
    assert all(name.startswith("/") for name in resolved)
    modules = {name.split("/")[1] for name in resolved}
    assert modules == {"stem", "blocks.0", "blocks.1", "head"}


def test_generated_nodes_take_the_module_of_what_they_serve() -> None:
    def graph(nodes: list) -> onnx.ModelProto:
        return helper.make_model(helper.make_graph(nodes, "g", [], []))

    original = graph(
        [
            helper.make_node("Conv", ["x", "w0"], ["a"], name="/stem/Conv"),
            helper.make_node("Conv", ["a", "w1"], ["out"], name="/head/Conv"),
        ]
    )
    optimized = graph(
        [
            helper.make_node("ReorderInput", ["x"], ["r0"], name="ReorderInput"),
            helper.make_node("Conv", ["r0", "w0"], ["r1"], name="/stem/Conv_output_0_nchwc"),
            helper.make_node("ReorderOutput", ["r1"], ["a"], name="ReorderOutput_token_5"),
            helper.make_node("ReorderInput", ["a"], ["r2"], name="ReorderInput_token_7"),
            helper.make_node("Conv", ["r2", "w1"], ["r3"], name="out_nchwc"),
            helper.make_node("ReorderOutput", ["r3"], ["out"], name="ReorderOutput_token_9"),
        ]
    )
    assert resolve_node_names(original, optimized) == {
        "ReorderInput": "/stem/Conv_output_0_nchwc",  # a layout change serves the node it feeds
        "/stem/Conv_output_0_nchwc": "/stem/Conv_output_0_nchwc",
        "ReorderOutput_token_5": "/stem/Conv",  # produces the original /stem/Conv output tensor
        "ReorderInput_token_7": "/head/Conv",  # two hops downstream
        "out_nchwc": "/head/Conv",
        "ReorderOutput_token_9": "/head/Conv",
    }


def test_trace_parsing_keeps_kernel_events_of_measured_runs_only() -> None:
    def node(name: str, ts: int, dur: int, index: int) -> dict:
        args = {"op_name": "Conv", "node_index": str(index)}
        return {"cat": "Node", "name": name, "ts": ts, "dur": dur, "args": args}

    def run(ts: int, dur: int) -> dict:
        return {"cat": "Session", "name": "model_run", "ts": ts, "dur": dur}

    trace = [
        run(0, 100),
        node("/a/Conv_kernel_time", 10, 40, 0),  # warm-up
        run(200, 100),
        node("/a/Conv_fence_before", 205, 1, 0),
        node("/a/Conv_kernel_time", 210, 30, 0),
        node("/b/Conv_kernel_time", 250, 20, 1),
        run(400, 90),
        node("/a/Conv_kernel_time", 405, 25, 0),
        node("/b/Conv_kernel_time", 440, 15, 1),
        node("/c/Conv_kernel_time", 900, 5, 2),  # outside every run
    ]
    events, model_run_us = parse_ort_trace(trace, skip_runs=1)

    assert model_run_us == [100.0, 90.0]
    assert [(e.name, e.run, e.elapsed_us, e.node_index) for e in events] == [
        ("/a/Conv", 0, 30.0, 0),
        ("/b/Conv", 0, 20.0, 1),
        ("/a/Conv", 1, 25.0, 0),
        ("/b/Conv", 1, 15.0, 1),
    ]


@pytest.mark.slow  # converts a model
def test_corrupt_or_mismatched_input_is_a_one_line_usage_error(tiny_onnx, tmp_path) -> None:
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07garbage" * 100)
    for path in (corrupt, tmp_path / "missing.onnx"):
        with pytest.raises(UsageError) as error:
            profile_onnx(path, [INPUT], runs=1, warmup=0)
        assert str(path) in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(UsageError, match=r"\(1, 3, 96, 96\)"):
        profile_onnx(tiny_onnx, [INPUT[:, :, :32]], runs=1, warmup=0)

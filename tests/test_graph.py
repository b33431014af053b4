"""Graph loaders: a real litert-torch conversion cross-checked against the LiteRT interpreter, ONNX graphs
built with onnx.helper, and corrupt files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from onnx import TensorProto, helper, numpy_helper

from seaformer_deploy.errors import UsageError
from seaformer_deploy.export.delegation import inspect_delegation
from seaformer_deploy.export.graph import load_graph, load_onnx_graph, load_tflite_graph, op_histogram


class _TinyNet(torch.nn.Module):
    """Conv + BN + ReLU6, a depthwise conv and a resized positional parameter: the SeaFormer op mix."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(8)
        self.dw = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pos = torch.nn.Parameter(torch.randn(1, 8, 4, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.nn.functional.relu6(self.bn(self.stem(x)))
        pos = torch.nn.functional.interpolate(self.pos, size=y.shape[-2:], mode="bilinear")
        return self.dw(y) + pos


# Every test that takes this fixture is marked slow: it waits for a litert-torch conversion.
@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    import litert_torch

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tflite") / "tiny.tflite"
    litert_torch.convert(_TinyNet().eval(), (torch.randn(1, 3, 16, 16),)).export(str(path))
    return path


@pytest.mark.slow
def test_tflite_graph_matches_interpreter(converted):
    graph = load_tflite_graph(converted)
    interpreter = Interpreter(
        model_path=str(converted),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    ops = interpreter._get_ops_details()
    assert [node.op_type for node in graph.nodes] == [op["op_name"] for op in ops]
    details = interpreter.get_tensor_details()
    for node, op in zip(graph.nodes, ops, strict=True):
        assert node.name == details[op["outputs"][0]]["name"]
        assert node.inputs == [details[i]["name"] if i >= 0 else "" for i in op["inputs"]]
    # The interpreter appends kernel scratch tensors after the file's own tensors.
    file_tensors = details[: len(graph.tensors)]
    assert [tensor["name"] for tensor in file_tensors] == list(graph.tensors)
    for tensor in file_tensors:
        assert graph.tensors[tensor["name"]].shape == tuple(tensor["shape"])
    assert graph.inputs == [d["name"] for d in interpreter.get_input_details()]
    assert graph.outputs == [d["name"] for d in interpreter.get_output_details()]


@pytest.mark.slow
def test_tflite_graph_content(converted):
    graph = load_tflite_graph(converted)
    histogram = op_histogram(graph)
    assert histogram["CONV_2D"] == 1 and histogram["DEPTHWISE_CONV_2D"] == 1
    assert histogram["RESIZE_BILINEAR"] == 1
    assert sum(histogram.values()) == len(graph.nodes)
    assert list(histogram.values()) == sorted(histogram.values(), reverse=True)

    conv = next(node for node in graph.nodes if node.op_type == "CONV_2D")
    # BN was folded and the ReLU6 fused by the converter; the module path names the node.
    assert conv.attrs["fused_activation_function"] == "RELU6"
    assert conv.attrs["stride_h"] == 2
    assert "Conv2d_stem" in conv.name
    weights, activation = conv.inputs[1], conv.inputs[0]
    assert graph.is_constant(weights) and not graph.is_constant(activation)
    assert graph.tensors[weights].shape == (8, 3, 3, 3) and graph.tensors[weights].dtype == "float32"
    assert [node.index for node in graph.nodes] == list(range(len(graph.nodes)))
    assert graph.consumers(conv.outputs[0]) and graph.producer(conv.outputs[0]) is conv


@pytest.mark.slow
def test_inspect_delegation_accounts_for_every_node(converted):
    info = inspect_delegation(converted)
    graph = load_tflite_graph(converted)
    assert info.total_nodes == len(graph.nodes)
    assert info.delegated_nodes + len(info.undelegated) == info.total_nodes
    assert info.partitions >= 1 and info.delegated_nodes > 0
    assert set(info.undelegated) <= {node.name for node in graph.nodes}


def _save_onnx(path: Path) -> Path:
    weight = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w"], ["c"], name="stem/conv", strides=[2, 2], pads=[1, 1, 1, 1]),
            helper.make_node(
                "Constant", [], ["k"], value=numpy_helper.from_array(np.ones((1, 4, 1, 1), np.float32))
            ),
            helper.make_node("Mul", ["c", "k"], ["m"]),
            helper.make_node("MyOp", ["m"], ["y"], name="custom", domain="example.ops"),
        ],
        "g",
        # Older exporters list weights among the graph inputs as well.
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8]),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3, 3, 3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4, 4, 4])],
        [weight],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("example.ops", 1)]
    )
    onnx.save(model, str(path))
    return path


def test_onnx_graph(tmp_path):
    graph = load_graph(_save_onnx(tmp_path / "m.onnx"))
    assert graph.format == "onnx"
    assert [node.op_type for node in graph.nodes] == ["Conv", "Constant", "Mul", "CUSTOM:example.ops.MyOp"]
    assert [node.name for node in graph.nodes] == ["stem/conv", "k", "m", "custom"]
    assert graph.nodes[0].attrs == {"strides": [2, 2], "pads": [1, 1, 1, 1]}
    assert graph.inputs == ["x"] and graph.outputs == ["y"]
    assert graph.is_constant("w") and graph.is_constant("k") and not graph.is_constant("c")
    assert graph.tensors["x"].shape == (-1, 3, 8, 8)
    assert graph.tensors["c"].shape == (-1, 4, 4, 4)  # from shape inference
    assert graph.tensors["k"].shape == (1, 4, 1, 1)
    assert op_histogram(graph) == {"CUSTOM:example.ops.MyOp": 1, "Constant": 1, "Conv": 1, "Mul": 1}
    assert [node.name for node in graph.consumers("c")] == ["m"]


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_truncated_tflite_is_usage_error(converted, tmp_path, fraction):
    data = converted.read_bytes()
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(UsageError) as error:
        load_tflite_graph(bad)
    assert str(bad) in str(error.value) and "\n" not in str(error.value)


def test_truncated_onnx_is_usage_error(tmp_path):
    data = _save_onnx(tmp_path / "m.onnx").read_bytes()
    for cut in (len(data) // 3, len(data) - 7):
        bad = tmp_path / f"cut{cut}.onnx"
        bad.write_bytes(data[:cut])
        with pytest.raises(UsageError, match="cut"):
            load_onnx_graph(bad)


@pytest.mark.parametrize("content", [b"", b"hello, not a model\n", bytes(range(256)) * 4])
@pytest.mark.parametrize("suffix", [".tflite", ".onnx"])
def test_non_model_file_is_usage_error(tmp_path, content, suffix):
    bad = tmp_path / f"junk{suffix}"
    bad.write_bytes(content)
    with pytest.raises(UsageError) as error:
        load_graph(bad)
    assert str(bad) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
def test_wrong_format_missing_file_and_unknown_suffix(converted, tmp_path):
    with pytest.raises(UsageError, match="ONNX"):
        load_onnx_graph(converted)
    with pytest.raises(UsageError, match="not found"):
        load_tflite_graph(tmp_path / "absent.tflite")
    with pytest.raises(UsageError, match="suffix"):
        load_graph(tmp_path / "model.pt")

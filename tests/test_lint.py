"""Graph lint rules: for each rule a real graph that violates it and one that passes.

TFLite graphs are written as flatbuffers with ai-edge-litert's schema object API, ONNX graphs with
onnx.helper; both are read back through the loaders, so the rules see exactly what a file holds.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import flatbuffers
import numpy as np
import onnx
import pytest
from ai_edge_litert import schema_py_generated as schema
from onnx import TensorProto, helper, numpy_helper
from rich.console import Console

from seaformer_deploy.errors import UsageError
from seaformer_deploy.export.delegation import DelegateInfo, inspect_delegation
from seaformer_deploy.export.graph import Graph, load_onnx_graph, load_tflite_graph, onnxruntime_optimized_graph
from seaformer_deploy.export.lint import LayoutOpBudget, lint_graph
from seaformer_deploy.export.lint_report import LintReport

RELU6 = schema.ActivationFunctionType.RELU6
NONE = schema.ActivationFunctionType.NONE


class TfliteBuilder:
    """Writes small, valid .tflite files: tensors, builtin/custom ops, graph I/O."""

    def __init__(self) -> None:
        # Buffer 0 is the empty sentinel every TFLite model starts with.
        self.buffers = [schema.BufferT()]
        self.tensors: list[schema.TensorT] = []
        self.operators: list[schema.OperatorT] = []
        self.op_codes: list[schema.OperatorCodeT] = []
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    def tensor(
        self,
        name: str,
        shape: list[int],
        data: np.ndarray | None = None,
        dtype: int = schema.TensorType.FLOAT32,
        signature: list[int] | None = None,
    ) -> int:
        buffer = 0
        if data is not None:
            self.buffers.append(schema.BufferT(data=np.frombuffer(data.tobytes(), dtype=np.uint8)))
            buffer = len(self.buffers) - 1
        tensor = schema.TensorT(shape=shape, type=dtype, buffer=buffer, name=name, shapeSignature=signature)
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def const(self, name: str, value: np.ndarray) -> int:
        dtype = schema.TensorType.INT32 if value.dtype == np.int32 else schema.TensorType.FLOAT32
        return self.tensor(name, list(value.shape), data=value, dtype=dtype)

    def op(
        self,
        op_name: str,
        inputs: list[int],
        outputs: list[int],
        options: object = None,
        custom_code: str | None = None,
    ) -> None:
        code = getattr(schema.BuiltinOperator, op_name)
        key = (code, custom_code)
        known = [(c.builtinCode, c.customCode) for c in self.op_codes]
        if key not in known:
            self.op_codes.append(
                schema.OperatorCodeT(
                    deprecatedBuiltinCode=min(code, 127), customCode=custom_code, version=1, builtinCode=code
                )
            )
            known.append(key)
        operator = schema.OperatorT(opcodeIndex=known.index(key), inputs=inputs, outputs=outputs)
        if options is not None:
            # The union type is named after the options class without its object-API "T" suffix.
            operator.builtinOptionsType = getattr(schema.BuiltinOptions, type(options).__name__[:-1])
            operator.builtinOptions = options
        self.operators.append(operator)

    def write(self, path: Path) -> Path:
        subgraph = schema.SubGraphT(
            tensors=self.tensors,
            inputs=self.inputs,
            outputs=self.outputs,
            operators=self.operators,
            name="main",
        )
        model = schema.ModelT(
            version=3,
            operatorCodes=self.op_codes,
            subgraphs=[subgraph],
            buffers=self.buffers,
            description="test",
        )
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        path.write_bytes(bytes(builder.Output()))
        return path


def _conv(b: TfliteBuilder, x: int, name: str, activation: int = NONE, channels: int = 8) -> int:
    weights = b.const(f"{name}/w", np.full((channels, 1, 1, 8), 0.1, np.float32))
    bias = b.const(f"{name}/b", np.zeros(channels, np.float32))
    out = b.tensor(name, [1, 4, 4, channels])
    b.op(
        "CONV_2D",
        [x, weights, bias],
        [out],
        schema.Conv2DOptionsT(
            padding=schema.Padding.SAME, strideW=1, strideH=1, fusedActivationFunction=activation
        ),
    )
    return out


def _add(b: TfliteBuilder, a: int, c: int, name: str, activation: int = NONE) -> int:
    out = b.tensor(name, [1, 4, 4, 8])
    b.op("ADD", [a, c], [out], schema.AddOptionsT(fusedActivationFunction=activation))
    return out


def _tflite_graph(tmp_path: Path, build, name: str = "m") -> Graph:
    """A graph whose single input `x` is [1,4,4,8] float; `build(b, x)` returns the output tensor."""
    b = TfliteBuilder()
    x = b.tensor("x", [1, 4, 4, 8])
    b.inputs, b.outputs = [x], [build(b, x)]
    return load_tflite_graph(b.write(tmp_path / f"{name}.tflite"))


def _onnx_graph(
    tmp_path: Path,
    nodes: list,
    initializers: list | None = None,
    input_shape=(1, 8, 4, 4),
    output_shape=(1, 8, 4, 4),
    name: str = "m",
    opsets: list | None = None,
) -> Graph:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(output_shape))],
        initializers or [],
    )
    model = helper.make_model(graph, opset_imports=opsets or [helper.make_opsetid("", 17)])
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    return load_onnx_graph(path)


def _one_transpose(b, x):
    """A graph of one NHWC->NCHW TRANSPOSE named "nchw"."""
    out = b.tensor("nchw", [1, 8, 4, 4])
    b.op("TRANSPOSE", [x, b.const("perm", np.array([0, 3, 1, 2], np.int32))], [out], schema.TransposeOptionsT())
    return out


def _finding(report: LintReport, rule: str):
    matches = [f for f in report.findings if f.rule == rule]
    assert len(matches) == 1, f"{rule} not in {[f.rule for f in report.findings]}"
    return matches[0]


def _conv_weight(name: str = "w") -> TensorProto:
    return numpy_helper.from_array(np.full((8, 8, 1, 1), 0.1, np.float32), name)


# --- rule 1: BatchNorm folded ---------------------------------------------------------------------


def test_affine_after_conv_fails_when_per_channel_mul_follows_conv(tmp_path):
    def build(b, x):
        conv = _conv(b, x, "conv")
        out = b.tensor("bn_mul", [1, 4, 4, 8])
        b.op(
            "MUL",
            [conv, b.const("gamma", np.ones(8, np.float32))],
            [out],
            schema.MulOptionsT(fusedActivationFunction=NONE),
        )
        return out

    finding = _finding(lint_graph(_tflite_graph(tmp_path, build)), "no-affine-after-conv")
    assert finding.status == "FAIL"
    assert finding.nodes == ["bn_mul"]


def test_affine_after_conv_passes_for_shared_output_activation_or_tensor_operand(tmp_path):
    def build(b, x):
        shared = _conv(b, x, "shared")
        scaled = b.tensor("scaled", [1, 4, 4, 8])
        b.op(
            "MUL",
            [shared, b.const("gamma", np.ones(8, np.float32))],
            [scaled],
            schema.MulOptionsT(fusedActivationFunction=NONE),
        )
        summed = b.tensor("summed", [1, 4, 4, 8])
        b.op("ADD", [shared, scaled], [summed], schema.AddOptionsT(fusedActivationFunction=NONE))
        activated = _conv(b, summed, "activated", activation=RELU6)
        out = b.tensor("shifted", [1, 4, 4, 8])
        b.op(
            "ADD",
            [activated, b.const("beta", np.ones(8, np.float32))],
            [out],
            schema.AddOptionsT(fusedActivationFunction=NONE),
        )
        return out

    finding = _finding(lint_graph(_tflite_graph(tmp_path, build)), "no-affine-after-conv")
    assert finding.status == "PASS", finding
    assert finding.nodes == []


def test_no_batchnorm_onnx(tmp_path):
    stats = [numpy_helper.from_array(np.ones(8, np.float32), n) for n in ("s", "b", "m", "v")]
    bn = _onnx_graph(
        tmp_path,
        [
            helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
            helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name="bn"),
        ],
        [_conv_weight(), *stats],
        name="bn",
    )
    finding = _finding(lint_graph(bn), "no-batchnorm")
    assert (finding.status, finding.nodes) == ("FAIL", ["bn"])

    folded = _onnx_graph(
        tmp_path, [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], [_conv_weight()], name="folded"
    )
    assert _finding(lint_graph(folded), "no-batchnorm").status == "PASS"


# --- rule 2: activations fused --------------------------------------------------------------------


def test_activation_fused_fails_for_relu6_after_unfused_conv(tmp_path):
    def build(b, x):
        conv = _conv(b, x, "conv")
        out = b.tensor("relu6", [1, 4, 4, 8])
        b.op("RELU6", [conv], [out])
        return out

    graph = _tflite_graph(tmp_path, build)
    assert graph.nodes[0].attrs["fused_activation_function"] == "NONE"
    finding = _finding(lint_graph(graph), "activation-fused")
    assert (finding.status, finding.nodes) == ("FAIL", ["relu6"])


def test_activation_fused_passes_when_fused_shared_or_after_add(tmp_path):
    def build(b, x):
        fused = _conv(b, x, "fused", activation=RELU6)
        shared = _conv(b, fused, "shared")
        relu = b.tensor("relu_of_shared", [1, 4, 4, 8])
        b.op("RELU", [shared], [relu])
        summed = b.tensor("sum", [1, 4, 4, 8])
        b.op("ADD", [shared, relu], [summed], schema.AddOptionsT(fusedActivationFunction=NONE))
        out = b.tensor("relu6_after_add", [1, 4, 4, 8])
        b.op("RELU6", [summed], [out])
        return out

    graph = _tflite_graph(tmp_path, build)
    assert graph.nodes[0].attrs["fused_activation_function"] == "RELU6"
    assert _finding(lint_graph(graph), "activation-fused").status == "PASS"


def test_activation_fused_onnx(tmp_path):
    gemm_w = numpy_helper.from_array(np.ones((128, 8), np.float32), "gw")
    clip_bounds = [numpy_helper.from_array(np.array(v, np.float32), n) for n, v in (("lo", 0.0), ("hi", 6.0))]
    unfused = _onnx_graph(
        tmp_path,
        [
            helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
            helper.make_node("Relu", ["c"], ["r"], name="relu"),
            helper.make_node("Flatten", ["r"], ["f"], name="flat", axis=1),
            helper.make_node("Gemm", ["f", "gw"], ["g"], name="gemm"),
            helper.make_node("Clip", ["g", "lo", "hi"], ["y"], name="clip"),
        ],
        [_conv_weight(), gemm_w, *clip_bounds],
        output_shape=(1, 8),
        name="unfused",
    )
    # A plain ONNX file cannot carry fused activations: the rule needs the graph onnxruntime executes.
    assert [s.rule for s in lint_graph(unfused).skipped if s.rule == "activation-fused"] == ["activation-fused"]
    finding = _finding(lint_graph(unfused, runtime_graph=unfused), "activation-fused")
    assert (finding.status, finding.nodes) == ("FAIL", ["relu", "clip"])
    optimized = onnxruntime_optimized_graph(tmp_path / "unfused.onnx")
    assert "CUSTOM:com.microsoft.FusedConv" in [node.op_type for node in optimized.nodes]
    finding = _finding(lint_graph(unfused, runtime_graph=optimized), "activation-fused")
    assert finding.status == "FAIL" and finding.nodes == ["clip"]  # onnxruntime fuses Conv+Relu, not Gemm+Clip

    # The conv output is also read by the Add, so it must be materialized: nothing to fuse.
    shared = _onnx_graph(
        tmp_path,
        [
            helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
            helper.make_node("Relu", ["c"], ["r"], name="relu"),
            helper.make_node("Add", ["c", "r"], ["y"], name="add"),
        ],
        [_conv_weight()],
        name="shared",
    )
    assert _finding(lint_graph(shared, runtime_graph=shared), "activation-fused").status == "PASS"


# --- rule 3: no resize on constants ---------------------------------------------------------------


def _resize(b: TfliteBuilder, data: int, name: str) -> int:
    out = b.tensor(name, [1, 4, 4, 8])
    b.op(
        "RESIZE_BILINEAR",
        [data, b.const(f"{name}/size", np.array([4, 4], np.int32))],
        [out],
        schema.ResizeBilinearOptionsT(alignCorners=False, halfPixelCenters=True),
    )
    return out


def test_resize_of_constant_and_of_reshaped_constant_fail(tmp_path):
    def build(b, x):
        direct = _resize(b, b.const("pos_embed", np.ones((1, 2, 2, 8), np.float32)), "resized_pos")
        flat = b.tensor("pos_flat_4d", [1, 2, 2, 8])
        b.op(
            "RESHAPE",
            [
                b.const("pos_1d", np.ones((1, 32), np.float32)),
                b.const("new_shape", np.array([1, 2, 2, 8], np.int32)),
            ],
            [flat],
            schema.ReshapeOptionsT(newShape=[1, 2, 2, 8]),
        )
        via_reshape = _resize(b, flat, "resized_reshaped_pos")
        total = b.tensor("pos_sum", [1, 4, 4, 8])
        b.op("ADD", [direct, via_reshape], [total], schema.AddOptionsT(fusedActivationFunction=NONE))
        out = b.tensor("out", [1, 4, 4, 8])
        b.op("ADD", [x, total], [out], schema.AddOptionsT(fusedActivationFunction=NONE))
        return out

    finding = _finding(lint_graph(_tflite_graph(tmp_path, build)), "no-resize-on-constants")
    assert (finding.status, finding.nodes) == ("FAIL", ["resized_pos", "resized_reshaped_pos"])


def test_resize_of_activation_passes(tmp_path):
    finding = _finding(
        lint_graph(_tflite_graph(tmp_path, lambda b, x: _resize(b, x, "up"))), "no-resize-on-constants"
    )
    assert finding.status == "PASS"


def test_resize_on_constants_onnx(tmp_path):
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    pos = numpy_helper.from_array(np.ones((1, 8, 2, 2), np.float32), "pos")
    baked = _onnx_graph(
        tmp_path,
        [
            helper.make_node("Resize", ["pos", "", "scales"], ["p"], name="resize_init"),
            helper.make_node(
                "Constant",
                [],
                ["k"],
                value=numpy_helper.from_array(np.ones((1, 8, 2, 2), np.float32), "k_value"),
            ),
            helper.make_node("Resize", ["k", "", "scales"], ["q"], name="resize_const_node"),
            helper.make_node("Add", ["p", "q"], ["pq"], name="add_pos"),
            helper.make_node("Add", ["x", "pq"], ["y"], name="add"),
        ],
        [scales, pos],
        name="baked",
    )
    finding = _finding(lint_graph(baked), "no-resize-on-constants")
    assert (finding.status, finding.nodes) == ("FAIL", ["resize_init", "resize_const_node"])

    dynamic = _onnx_graph(
        tmp_path,
        [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="up")],
        [scales],
        output_shape=(1, 8, 8, 8),
        name="dynamic",
    )
    assert _finding(lint_graph(dynamic), "no-resize-on-constants").status == "PASS"


# --- extra rule: no compute on constants only -----------------------------------------------------


def test_constant_compute_warns_for_unfolded_interpolation(tmp_path):
    # The shape of an un-baked positional-embedding interpolation as litert-torch leaves it.
    def build(b, x):
        weights = b.tensor("lerp_weights", [4])
        b.op("RELU_0_TO_1", [b.const("raw_weights", np.linspace(-1, 2, 4, dtype=np.float32))], [weights])
        pos = b.tensor("pos", [1, 4, 4, 8])
        b.op(
            "MUL",
            [b.const("pos_embed", np.ones((1, 4, 4, 8), np.float32)), weights],
            [pos],
            schema.MulOptionsT(fusedActivationFunction=NONE),
        )
        return _add(b, x, pos, "x_plus_pos")

    finding = _finding(lint_graph(_tflite_graph(tmp_path, build)), "no-constant-compute")
    assert (finding.status, finding.nodes) == ("WARN", ["lerp_weights", "pos"])
    assert "RELU_0_TO_1 x1" in finding.message


def test_constant_compute_passes_for_weight_dequantize_and_folded_onnx(tmp_path):
    graph = _quantized_graph(tmp_path, with_island=False)
    assert any(node.op_type == "DEQUANTIZE" and graph.is_constant(node.inputs[0]) for node in graph.nodes)
    assert _finding(lint_graph(graph), "no-constant-compute").status == "PASS"

    bias = numpy_helper.from_array(np.ones((1, 8, 1, 1), np.float64), "bias64")
    unfolded = _onnx_graph(
        tmp_path,
        [
            helper.make_node("Cast", ["bias64"], ["bias"], name="cast_bias", to=TensorProto.FLOAT),
            helper.make_node("Add", ["x", "bias"], ["y"], name="add"),
        ],
        [bias],
        name="unfolded",
    )
    finding = _finding(lint_graph(unfolded), "no-constant-compute")
    assert (finding.status, finding.nodes) == ("WARN", ["cast_bias"])
    folded = _onnx_graph(
        tmp_path,
        [helper.make_node("Add", ["x", "b"], ["y"], name="add")],
        [numpy_helper.from_array(np.ones((1, 8, 1, 1), np.float32), "b")],
        name="folded",
    )
    assert _finding(lint_graph(folded), "no-constant-compute").status == "PASS"


# --- rule 4: no Flex or custom ops ----------------------------------------------------------------


def test_flex_and_custom_ops_fail(tmp_path):
    def build(b, x):
        flex = b.tensor("flex_out", [1, 4, 4, 8])
        b.op("CUSTOM", [x, x], [flex], custom_code="FlexAddV2")
        out = b.tensor("custom_out", [1, 4, 4, 8])
        b.op("CUSTOM", [flex], [out], custom_code="MyNorm")
        return out

    graph = _tflite_graph(tmp_path, build)
    assert [n.op_type for n in graph.nodes] == ["FLEX:AddV2", "CUSTOM:MyNorm"]
    finding = _finding(lint_graph(graph), "no-flex-or-custom")
    assert (finding.status, finding.nodes) == ("FAIL", ["flex_out", "custom_out"])


def test_builtin_only_passes_and_onnx_custom_domain_fails(tmp_path):
    def build(b, x):
        out = b.tensor("out", [1, 4, 4, 8])
        b.op("ADD", [x, x], [out], schema.AddOptionsT(fusedActivationFunction=NONE))
        return out

    assert _finding(lint_graph(_tflite_graph(tmp_path, build)), "no-flex-or-custom").status == "PASS"
    custom = _onnx_graph(
        tmp_path,
        [helper.make_node("FusedConv", ["x", "w"], ["y"], name="fc", domain="com.microsoft")],
        [_conv_weight()],
        opsets=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
    )
    finding = _finding(lint_graph(custom), "no-flex-or-custom")
    assert (finding.status, finding.nodes) == ("FAIL", ["fc"])


# --- rule 5: static shapes ------------------------------------------------------------------------


def test_static_shapes_fail_on_shape_op_and_dynamic_signature(tmp_path):
    b = TfliteBuilder()
    x = b.tensor("x", [1, 4, 4, 8], signature=[-1, 4, 4, 8])
    shape = b.tensor("x_shape", [4], dtype=schema.TensorType.INT32)
    b.op("SHAPE", [x], [shape], schema.ShapeOptionsT(outType=schema.TensorType.INT32))
    b.inputs, b.outputs = [x], [shape]
    graph = load_tflite_graph(b.write(tmp_path / "dyn.tflite"))
    assert graph.tensors["x"].shape == (-1, 4, 4, 8)
    finding = _finding(lint_graph(graph), "static-shapes")
    assert finding.status == "FAIL"
    assert finding.nodes == ["x_shape", "x"]


def test_static_shapes_pass_for_fixed_graph(tmp_path):
    graph = _tflite_graph(tmp_path, lambda b, x: _conv(b, x, "conv"))
    assert _finding(lint_graph(graph), "static-shapes").status == "PASS"
    onnx_graph = _onnx_graph(tmp_path, [helper.make_node("Relu", ["x"], ["y"])])
    assert _finding(lint_graph(onnx_graph), "static-shapes").status == "PASS"


def test_static_shapes_onnx_shape_gather_and_dynamic_batch(tmp_path):
    index = numpy_helper.from_array(np.array(0, np.int64), "i0")
    graph = _onnx_graph(
        tmp_path,
        [
            helper.make_node("Shape", ["x"], ["s"], name="shape"),
            helper.make_node("Gather", ["s", "i0"], ["n"], name="batch_dim"),
            helper.make_node("Relu", ["x"], ["y"], name="relu"),
        ],
        [index],
        input_shape=("N", 8, 4, 4),
        output_shape=("N", 8, 4, 4),
    )
    finding = _finding(lint_graph(graph), "static-shapes")
    assert finding.status == "FAIL"
    assert finding.nodes == ["shape", "batch_dim", "x", "y"]


# --- rule 6: layout-op budget ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def twelve_transposes(tmp_path_factory) -> Graph:
    names = ["x", *[f"t{i}" for i in range(11)], "r"]
    nodes = [
        helper.make_node("Transpose", [src], [dst], name=f"transpose{i}", perm=[0, 1, 3, 2])
        for i, (src, dst) in enumerate(pairwise(names))
    ]
    shape = numpy_helper.from_array(np.array([1, 8, 4, 4], np.int64), "shape")
    nodes.append(helper.make_node("Reshape", ["r", "shape"], ["y"], name="reshape"))
    return _onnx_graph(tmp_path_factory.mktemp("layout"), nodes, [shape])


@pytest.mark.parametrize(("budget", "status"), [(12, "PASS"), (11, "WARN"), (10, "FAIL"), (0, "FAIL")])
def test_layout_budget_statuses(twelve_transposes, budget, status):
    finding = _finding(
        lint_graph(twelve_transposes, budget=LayoutOpBudget(transpose=budget, reshape=1)), "layout-op-budget"
    )
    assert finding.status == status
    assert f"TRANSPOSE 12/{budget}" in finding.message and "RESHAPE 1/1" in finding.message
    assert len(finding.nodes) == (0 if status == "PASS" else 12)


def test_layout_budget_without_budget_passes_with_counts(twelve_transposes, tmp_path):
    finding = _finding(lint_graph(twelve_transposes), "layout-op-budget")
    assert finding.status == "PASS"
    assert "TRANSPOSE 12" in finding.message and "RESHAPE 1" in finding.message
    assert "no budget" in finding.message

    tflite_graph = _tflite_graph(tmp_path, _one_transpose)
    tflite = _finding(lint_graph(tflite_graph, budget=LayoutOpBudget(transpose=0)), "layout-op-budget")
    assert (tflite.status, tflite.nodes) == ("FAIL", ["nchw"])


@pytest.mark.parametrize("fields", [{"transpose": -1}, {"reshape": 2.5}, {"transpose": True}])
def test_layout_budget_rejects_bad_budgets(fields):
    with pytest.raises(UsageError, match="must be a non-negative integer"):
        LayoutOpBudget(**fields)


# --- rule 7: delegate coverage --------------------------------------------------------------------


def test_delegate_coverage_fails_for_op_outside_xnnpack(tmp_path):
    def build(b, x):
        bias = b.const("bias", np.full(8, 0.5, np.float32))
        hidden = _add(b, x, bias, "add1")
        clipped = b.tensor("hsig", [1, 4, 4, 8])
        b.op("RELU_0_TO_1", [hidden], [clipped])
        return _add(b, clipped, bias, "add2")

    b = TfliteBuilder()
    x = b.tensor("x", [1, 4, 4, 8])
    b.inputs, b.outputs = [x], [build(b, x)]
    path = b.write(tmp_path / "island.tflite")
    info = inspect_delegation(path)
    assert info == DelegateInfo(partitions=2, delegated_nodes=2, total_nodes=3, undelegated=["hsig"])
    finding = _finding(lint_graph(load_tflite_graph(path), delegate_info=info), "delegate-coverage")
    assert (finding.status, finding.nodes) == ("FAIL", ["hsig"])
    assert "RELU_0_TO_1" in finding.message


def test_delegate_coverage_passes_when_fully_delegated(tmp_path):
    b = TfliteBuilder()
    x = b.tensor("x", [1, 4, 4, 8])
    hidden = _add(b, x, x, "add1", activation=RELU6)
    b.inputs, b.outputs = [x], [_add(b, hidden, x, "add2")]
    path = b.write(tmp_path / "full.tflite")
    info = inspect_delegation(path, num_threads=2)
    assert info == DelegateInfo(partitions=1, delegated_nodes=2, total_nodes=2, undelegated=[])
    finding = _finding(lint_graph(load_tflite_graph(path), delegate_info=info), "delegate-coverage")
    assert finding.status == "PASS"


def test_delegate_coverage_warns_on_split_partitions_and_skips_without_info(tmp_path):
    graph = _tflite_graph(tmp_path, lambda b, x: _add(b, x, x, "add"))
    split = DelegateInfo(partitions=3, delegated_nodes=1, total_nodes=1, undelegated=[])
    assert _finding(lint_graph(graph, delegate_info=split), "delegate-coverage").status == "WARN"
    report = lint_graph(graph)
    assert [s.rule for s in report.skipped] == ["delegate-coverage", "no-float-islands"]
    with pytest.raises(UsageError, match="num_threads"):
        inspect_delegation(tmp_path / "m.tflite", num_threads=0)


# --- rule 8: no float islands ---------------------------------------------------------------------


def _int8_tensor(b: TfliteBuilder, name: str) -> int:
    return b.tensor(name, [1, 4, 4, 8], dtype=schema.TensorType.INT8)


def _quantized_graph(tmp_path: Path, with_island: bool) -> Graph:
    b = TfliteBuilder()
    x = b.tensor("x", [1, 4, 4, 8])
    # fp16-style weight expansion feeding the input QUANTIZE: a DEQUANTIZE of a constant is not an island.
    weight = b.tensor("w_dq", [1, 4, 4, 8])
    b.op(
        "DEQUANTIZE",
        [
            b.tensor(
                "w_fp16",
                [1, 4, 4, 8],
                data=np.ones((1, 4, 4, 8), np.float16),
                dtype=schema.TensorType.FLOAT16,
            )
        ],
        [weight],
        schema.DequantizeOptionsT(),
    )
    shifted = _add(b, x, weight, "x_shifted")
    current = _int8_tensor(b, "q_in")
    b.op("QUANTIZE", [shifted], [current], schema.QuantizeOptionsT())
    outputs = []
    if with_island:
        dq = b.tensor("island_dq", [1, 4, 4, 8])
        b.op("DEQUANTIZE", [current], [dq], schema.DequantizeOptionsT())
        soft = b.tensor("softmax", [1, 4, 4, 8])
        b.op("SOFTMAX", [dq], [soft], schema.SoftmaxOptionsT(beta=1.0))
        # A float branch that leaves the graph without re-quantizing is a tail, not part of the island.
        outputs.append(_add(b, soft, soft, "float_tail"))
        current = _int8_tensor(b, "island_q")
        b.op("QUANTIZE", [soft], [current], schema.QuantizeOptionsT())
    out_int8 = _int8_tensor(b, "add_int8")
    b.op("ADD", [current, current], [out_int8], schema.AddOptionsT(fusedActivationFunction=NONE))
    y = b.tensor("y", [1, 4, 4, 8])
    b.op("DEQUANTIZE", [out_int8], [y], schema.DequantizeOptionsT())
    b.inputs, b.outputs = [x], [y, *outputs]
    return load_tflite_graph(b.write(tmp_path / f"int8_{with_island}.tflite"))


def test_float_island_warns(tmp_path):
    finding = _finding(lint_graph(_quantized_graph(tmp_path, True), quantized=True), "no-float-islands")
    assert finding.status == "WARN"
    assert finding.nodes == ["island_dq", "softmax", "island_q"]
    assert "SOFTMAX x1" in finding.message and "2 QUANTIZE / 3 DEQUANTIZE" in finding.message


def test_boundary_quantization_passes(tmp_path):
    report = lint_graph(_quantized_graph(tmp_path, False), quantized=True)
    finding = _finding(report, "no-float-islands")
    assert finding.status == "PASS"
    assert "1 QUANTIZE / 2 DEQUANTIZE" in finding.message


# --- report ---------------------------------------------------------------------------------------


def test_report_ok_strictness_dict_and_table(tmp_path):
    graph = _tflite_graph(tmp_path, _one_transpose)
    clean = lint_graph(graph, budget=LayoutOpBudget(transpose=1))
    assert clean.ok() and clean.ok(strict=True)
    warned = lint_graph(graph, delegate_info=DelegateInfo(2, 1, 1, []))
    assert warned.ok() and not warned.ok(strict=True)
    failed = lint_graph(graph, budget=LayoutOpBudget(transpose=0))
    assert not failed.ok()

    as_dict = failed.to_dict()
    assert as_dict["ok"] is False
    assert {f["rule"] for f in as_dict["findings"]} >= {"no-affine-after-conv", "layout-op-budget"}
    assert {f["status"] for f in as_dict["findings"]} == {"PASS", "FAIL"}

    console = Console(width=200, record=True)
    console.print(failed.render_table())
    text = console.export_text()
    assert "layout-op-budget" in text and "FAIL" in text and "nchw" in text and "SKIP" in text

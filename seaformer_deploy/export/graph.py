"""An engine-neutral view of a converted model (TFLite or ONNX), enough for graph lint rules.

TFLite files are read with the flatbuffer schema module that ships inside ai-edge-litert, ONNX files
with the onnx package. Only the main graph is viewed (TFLite subgraph 0, the ONNX top-level graph).
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from seaformer_deploy.errors import UsageError, first_line
from seaformer_deploy.tflite_file import read_tflite

GraphFormat = Literal["tflite", "onnx"]

# ONNX operator domains that every runtime implements; anything else is a custom op.
_STANDARD_ONNX_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})


@dataclass(frozen=True)
class TensorInfo:
    """One tensor: `shape` uses -1 for a dynamic dimension and is None when the rank is unknown."""

    name: str
    shape: tuple[int, ...] | None
    dtype: str
    is_constant: bool


@dataclass(frozen=True, eq=False)
class Node:
    """One operator. `inputs`/`outputs` are tensor keys of `Graph.tensors` ("" = omitted optional input).

    Nodes compare by identity: a node is one position in one graph.
    """

    index: int
    op_type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    """A converted model's main graph: nodes in file order, graph I/O and tensors by key."""

    format: GraphFormat
    nodes: list[Node]
    inputs: list[str]
    outputs: list[str]
    tensors: dict[str, TensorInfo]

    @cached_property
    def _producers(self) -> dict[str, Node]:
        return {out: node for node in self.nodes for out in node.outputs if out}

    @cached_property
    def _consumers(self) -> dict[str, list[Node]]:
        consumers: dict[str, list[Node]] = {}
        for node in self.nodes:
            for name in dict.fromkeys(t for t in node.inputs if t):
                consumers.setdefault(name, []).append(node)
        return consumers

    def producer(self, tensor: str) -> Node | None:
        """The node that writes `tensor`, or None for graph inputs and constants."""
        return self._producers.get(tensor)

    def consumers(self, tensor: str) -> list[Node]:
        """Nodes that read `tensor` (each node once, in graph order)."""
        return self._consumers.get(tensor, [])

    def use_count(self, tensor: str) -> int:
        """Readers of `tensor`, counting a graph output as one more reader (it must stay materialized)."""
        return len(self.consumers(tensor)) + (tensor in self.outputs)

    def is_constant(self, tensor: str) -> bool:
        info = self.tensors.get(tensor)
        return info is not None and info.is_constant


def count_ops(nodes: Iterable[Node]) -> dict[str, int]:
    """Operator counts of `nodes`, most frequent first (ties by name)."""
    counts = Counter(node.op_type for node in nodes)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def op_histogram(graph: Graph) -> dict[str, int]:
    """Operator counts of the whole graph, most frequent first (ties by name)."""
    return count_ops(graph.nodes)


def load_graph(path: str | Path) -> Graph:
    """Load a `.tflite` or `.onnx` file, chosen by its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".tflite":
        return load_tflite_graph(path)
    if suffix == ".onnx":
        return load_onnx_graph(path)
    raise UsageError(f"{path}: unknown model suffix {suffix!r} (expected .tflite or .onnx)")


def _read_model_bytes(path: str | Path) -> bytes:
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{file}: model file not found")
    return file.read_bytes()


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _enum_names(enum_class: type) -> dict[int, str]:
    return {value: key for key, value in vars(enum_class).items() if not key.startswith("_")}


def _tflite_op_type(op_code: Any, builtin_names: dict[int, str], custom_code: int) -> str:
    # Codes above 127 only live in builtinCode; old files only fill deprecatedBuiltinCode.
    code = max(op_code.builtinCode, op_code.deprecatedBuiltinCode)
    if code == custom_code:
        custom = (op_code.customCode or b"").decode("utf-8", errors="replace")
        if custom.startswith("Flex"):
            return f"FLEX:{custom[len('Flex') :]}"
        return f"CUSTOM:{custom}"
    return builtin_names.get(code, f"BUILTIN_{code}")


def _tflite_attrs(options: Any, activation_names: dict[int, str]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if options is None:
        return attrs
    for key, value in vars(options).items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if isinstance(value, (bool, int, float, str, list)):
            attrs[_snake_case(key)] = value
    if "fused_activation_function" in attrs:
        code = attrs["fused_activation_function"]
        attrs["fused_activation_function"] = activation_names.get(code, str(code))
    return attrs


def _unique_keys(names: list[str], fallback: str) -> list[str]:
    """Tensor keys: the tensor name, made unique with '#index' where names repeat or are empty."""
    seen: set[str] = set()
    keys = []
    for index, name in enumerate(names):
        key = name or f"{fallback}#{index}"
        if key in seen:
            key = f"{key}#{index}"
        seen.add(key)
        keys.append(key)
    return keys


def load_tflite_graph(path: str | Path) -> Graph:
    """Read a .tflite flatbuffer into a Graph; a corrupt or non-TFLite file raises UsageError."""
    from ai_edge_litert import schema_py_generated as schema

    model = read_tflite(path).model
    if not model.operatorCodes:
        raise UsageError(f"{path}: TFLite model has no subgraph or no operators")
    buffers = model.buffers or []

    subgraph = model.subgraphs[0]
    raw_tensors = subgraph.tensors or []
    keys = _unique_keys([(t.name or b"").decode("utf-8", errors="replace") for t in raw_tensors], "tensor")
    type_names = _enum_names(schema.TensorType)
    tensors: dict[str, TensorInfo] = {}
    for key, tensor in zip(keys, raw_tensors, strict=True):
        buffer = buffers[tensor.buffer] if 0 < tensor.buffer < len(buffers) else None
        has_data = buffer is not None and (
            (buffer.data is not None and len(buffer.data) > 0) or (buffer.offset > 1 and buffer.size > 0)
        )
        dims = tensor.shapeSignature if tensor.shapeSignature is not None else tensor.shape
        # A TFLite tensor without a shape vector is a scalar; unknown dims are -1 in the signature.
        shape = tuple(int(d) for d in dims) if dims is not None else ()
        dtype = type_names.get(tensor.type, str(tensor.type)).lower()
        tensors[key] = TensorInfo(name=key, shape=shape, dtype=dtype, is_constant=bool(has_data))

    def key_of(index: int) -> str:
        if index < 0:
            return ""
        if index >= len(keys):
            raise UsageError(f"{path}: corrupt TFLite model (refers to tensor {index} of {len(keys)})")
        return keys[index]

    builtin_names = _enum_names(schema.BuiltinOperator)
    activation_names = _enum_names(schema.ActivationFunctionType)
    nodes = []
    for index, op in enumerate(subgraph.operators or []):
        if not 0 <= op.opcodeIndex < len(model.operatorCodes):
            raise UsageError(f"{path}: corrupt TFLite model (operator {index} has opcode {op.opcodeIndex})")
        op_type = _tflite_op_type(
            model.operatorCodes[op.opcodeIndex], builtin_names, schema.BuiltinOperator.CUSTOM
        )
        inputs = [key_of(int(i)) for i in (op.inputs if op.inputs is not None else [])]
        outputs = [key_of(int(i)) for i in (op.outputs if op.outputs is not None else [])]
        name = next((out for out in outputs if out), f"{op_type}#{index}")
        attrs = _tflite_attrs(op.builtinOptions, activation_names)
        nodes.append(Node(index, op_type, name, inputs, outputs, attrs))

    graph_inputs = [key_of(int(i)) for i in (subgraph.inputs if subgraph.inputs is not None else [])]
    graph_outputs = [key_of(int(i)) for i in (subgraph.outputs if subgraph.outputs is not None else [])]
    return Graph("tflite", nodes, graph_inputs, graph_outputs, tensors)


def _onnx_attr_value(attribute: Any) -> Any:
    import onnx
    from onnx import numpy_helper

    if attribute.type == onnx.AttributeProto.TENSOR:
        return numpy_helper.to_array(attribute.t)
    if attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
        return f"<{onnx.AttributeProto.AttributeType.Name(attribute.type).lower()}>"
    value = onnx.helper.get_attribute_value(attribute)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        return [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v for v in value]
    return value


def _onnx_value_info(value_info: Any, is_constant: bool) -> TensorInfo:
    import onnx

    tensor_type = value_info.type.tensor_type
    shape = None
    if tensor_type.HasField("shape"):
        shape = tuple(
            d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else -1 for d in tensor_type.shape.dim
        )
    dtype = onnx.TensorProto.DataType.Name(tensor_type.elem_type).lower()
    return TensorInfo(name=value_info.name, shape=shape, dtype=dtype, is_constant=is_constant)


def load_onnx_graph(path: str | Path) -> Graph:
    """Read an .onnx file into a Graph (external weights are not loaded); bad files raise UsageError."""
    import onnx
    from google.protobuf.message import DecodeError

    data = _read_model_bytes(path)
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise UsageError(f"{path}: corrupt or truncated ONNX model ({type(exc).__name__})") from exc
    # Protobuf parses many byte strings "successfully"; a real model always names its IR version and graph.
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise UsageError(f"{path}: not an ONNX model (no IR version or empty graph)")
    # Shapes of intermediate tensors are a bonus; the graph is usable without them.
    with contextlib.suppress(onnx.shape_inference.InferenceError, onnx.checker.ValidationError, RuntimeError):
        model = onnx.shape_inference.infer_shapes(model)

    onnx_graph = model.graph
    tensors: dict[str, TensorInfo] = {}
    for value_info in [*onnx_graph.value_info, *onnx_graph.input, *onnx_graph.output]:
        tensors[value_info.name] = _onnx_value_info(value_info, is_constant=False)
    for initializer in onnx_graph.initializer:
        dtype = onnx.TensorProto.DataType.Name(initializer.data_type).lower()
        tensors[initializer.name] = TensorInfo(initializer.name, tuple(initializer.dims), dtype, True)

    nodes = []
    for index, proto in enumerate(onnx_graph.node):
        op_type = proto.op_type
        if proto.domain not in _STANDARD_ONNX_DOMAINS:
            op_type = f"CUSTOM:{proto.domain}.{proto.op_type}"
        outputs = list(proto.output)
        name = proto.name or next((out for out in outputs if out), f"{op_type}#{index}")
        attrs = {attribute.name: _onnx_attr_value(attribute) for attribute in proto.attribute}
        nodes.append(Node(index, op_type, name, list(proto.input), outputs, attrs))
        for out in outputs:
            if not out:
                continue
            known = tensors.get(out) or TensorInfo(out, None, "undefined", False)
            if op_type == "Constant":
                value = attrs.get("value")
                shape = tuple(value.shape) if isinstance(value, np.ndarray) else known.shape
                known = TensorInfo(out, shape, known.dtype, True)
            tensors[out] = known

    initializer_names = {initializer.name for initializer in onnx_graph.initializer}
    # Older exporters also list weights as graph inputs; they are not real inputs.
    graph_inputs = [v.name for v in onnx_graph.input if v.name not in initializer_names]
    graph_outputs = [v.name for v in onnx_graph.output]
    return Graph("onnx", nodes, graph_inputs, graph_outputs, tensors)


def onnxruntime_optimized_graph(path: str | Path) -> Graph:
    """The graph onnxruntime executes for ``path`` on the CPU: saved after its extended graph optimizations
    (Conv+activation fusion, constant folding), which is what the runtime-side lint rules must judge."""
    import tempfile

    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as folder:
        optimized = Path(folder) / "optimized.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(optimized)
        options.log_severity_level = 3
        try:
            ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises untyped errors for bad files
            raise UsageError(f"{path} is not a valid ONNX model: {first_line(exc)}") from None
        return load_onnx_graph(optimized)

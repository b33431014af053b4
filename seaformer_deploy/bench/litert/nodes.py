"""The nodes of a ``.tflite`` model's main subgraph: index, op code and the name carrying the module path."""

from __future__ import annotations

import os
from dataclasses import dataclass

from seaformer_deploy.tflite_file import read_tflite


@dataclass(frozen=True)
class TfliteNode:
    """One operator of the main subgraph: node index, op code name and a tensor name carrying its module path.

    litert-torch names tensors after the nn.Module path (``pkg.Class_attr/...``). The name is the node's
    output tensor's, except for a graph output, which is renamed after the signature
    (``serving_default_output_0``): then the first weight of the node carrying a module path (weights keep
    their owner's path), if any.
    """

    index: int
    op_code: str
    name: str



def _text(raw: bytes | str | None) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else (raw or "")


def _ints(values: object) -> list[int]:
    # The generated object API gives index vectors as numpy arrays or lists, or None when empty.
    return [int(v) for v in values] if values is not None else []  # type: ignore[attr-defined]


def read_tflite_nodes(model_path: str | os.PathLike[str]) -> list[TfliteNode]:
    """The nodes of subgraph 0 of a ``.tflite`` file, in execution (index) order.

    A missing, truncated or corrupt file is one ``TfliteFileError`` (exit 2) from the shared TFLite reader.
    """
    from ai_edge_litert import schema_py_generated as schema

    model = read_tflite(model_path).model
    code_names = {value: key for key, value in vars(schema.BuiltinOperator).items() if not key.startswith("_")}
    subgraph = model.subgraphs[0]
    tensors = subgraph.tensors or []
    operators = subgraph.operators or []
    graph_outputs = set(_ints(subgraph.outputs))
    computed = set(_ints(subgraph.inputs))
    computed.update(index for operator in operators for index in _ints(operator.outputs))
    nodes = []
    for index, operator in enumerate(operators):
        code = model.operatorCodes[operator.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        op_code = code_names.get(builtin, str(builtin))
        if op_code == "CUSTOM" and code.customCode:
            op_code = _text(code.customCode)
        outputs = _ints(operator.outputs)
        output = outputs[0] if outputs else -1
        name = _text(tensors[output].name) if output >= 0 else ""
        if output in graph_outputs:
            weights = [_text(tensors[t].name) for t in _ints(operator.inputs) if t >= 0 and t not in computed]
            name = next((weight for weight in weights if "/" in weight), name)
        nodes.append(TfliteNode(index, op_code, name))
    return nodes


def tflite_node_names(model_path: str | os.PathLike[str]) -> dict[int, str]:
    """Node index -> first output tensor name (litert-torch writes the nn.Module path there)."""
    return {node.index: node.name for node in read_tflite_nodes(model_path)}

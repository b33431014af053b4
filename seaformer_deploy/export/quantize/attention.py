"""The attention cores of litert-torch's SeaFormer graph: matmul -> softmax -> matmul, found by pattern.

int8 keeps these ops float (see ``tflite_recipes``); they are found on the graph, not by name, so a converter
that renames tensors does not silently quantize them.
"""

from __future__ import annotations

from collections.abc import Callable

from seaformer_deploy.export.graph import Graph, Node

# Ops that sit between the two attention matmuls and the softmax in litert-torch's lowering of SeaFormer attention.
_ATTENTION_PASS_THROUGH = frozenset({"RESHAPE", "TRANSPOSE", "MUL"})
# ai-edge-quantizer 0.10.0 cannot quantize RELU6; one directly after an attention core joins the float island.
_ATTENTION_TRAILING = frozenset({"RELU6"})

def _data_input(graph: Graph, node: Node) -> str | None:
    """The first input of `node` that is computed, not a constant."""
    for name in node.inputs:
        if name and not graph.tensors[name].is_constant:
            return name
    return None


def _only_consumer(graph: Graph, node: Node) -> Node | None:
    consumers = graph.consumers(node.outputs[0]) if node.outputs and node.outputs[0] else []
    return consumers[0] if len(consumers) == 1 else None


def _walk_to_matmul(start: Node, step: Callable[[Node], Node | None]) -> list[Node] | None:
    """Nodes from `start` (exclusive) through pass-through ops to a BATCH_MATMUL (inclusive), or None."""
    path: list[Node] = []
    node = step(start)
    while node is not None and node.op_type in _ATTENTION_PASS_THROUGH:
        path.append(node)
        node = step(node)
    if node is None or node.op_type != "BATCH_MATMUL":
        return None
    return [*path, node]


def attention_cores(graph: Graph) -> tuple[list[Node], int]:
    """Nodes of every matmul -> softmax -> matmul attention core (plus a ReLU6 right after), and softmaxes missed."""

    def upstream(node: Node) -> Node | None:
        name = _data_input(graph, node)
        return graph.producer(name) if name else None

    def downstream(node: Node) -> Node | None:
        return _only_consumer(graph, node)

    core: dict[int, Node] = {}
    missed = 0
    for softmax in (node for node in graph.nodes if node.op_type == "SOFTMAX"):
        before = _walk_to_matmul(softmax, upstream)
        after = _walk_to_matmul(softmax, downstream)
        if before is None or after is None:
            missed += 1
            continue
        nodes = [*before, softmax, *after]
        trailing = downstream(after[-1])
        if trailing is not None and trailing.op_type in _ATTENTION_TRAILING:
            nodes.append(trailing)
        core.update((node.index, node) for node in nodes)
    return [core[index] for index in sorted(core)], missed

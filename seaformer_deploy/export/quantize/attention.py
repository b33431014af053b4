"""The attention cores of litert-torch's SeaFormer graph, found by pattern: matmul -> softmax -> matmul, with the
squeeze that feeds it and the head merge that follows it.

int8 keeps these ops float (see ``tflite_recipes``). XNNPACK has no int8 SOFTMAX or activation x activation
BATCH_MATMUL, so those must stay float; the squeeze (MEAN over one spatial axis, the positional-embedding ADD,
the q/k/v SLICEs and head-mask MULs) and the head merge (SUM, the RELU6 of the projection) are small tensors
that would otherwise each be dequantized or requantized at the island's border. Keeping them float too leaves
one DEQUANTIZE per squeezed block input and one QUANTIZE per attention output, instead of one per matmul
operand. The ops are found on the graph, not by name, so a converter that renames tensors does not silently
quantize them.
"""

from __future__ import annotations

from collections.abc import Callable

from seaformer_deploy.export.graph import Graph, Node

# Ops that sit between the two attention matmuls and the softmax in litert-torch's lowering of SeaFormer attention.
_ATTENTION_PASS_THROUGH = frozenset({"RESHAPE", "TRANSPOSE", "MUL"})
# Upstream of the matmuls, back to (and including) the squeeze; ADD and MUL only with a constant operand
# (embedding, head mask), so a residual ADD of two computed tensors never joins.
_SQUEEZE_OPS = frozenset({"RESHAPE", "TRANSPOSE", "SLICE", "ADD", "MUL", "MEAN"})
_CONSTANT_OPERAND_OPS = frozenset({"ADD", "MUL"})
# Downstream of the second matmul: the head merge and the projection's leading ReLU6 (which ai-edge-quantizer
# 0.10.0 cannot quantize anyway).
_MERGE_OPS = frozenset({"RESHAPE", "TRANSPOSE", "SUM", "RELU6"})


def _data_inputs(graph: Graph, node: Node) -> list[str]:
    """The inputs of `node` that are computed, not constants."""
    return [name for name in node.inputs if name and not graph.tensors[name].is_constant]


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


def _joins_squeeze(graph: Graph, node: Node) -> bool:
    if node.op_type not in _SQUEEZE_OPS:
        return False
    return node.op_type not in _CONSTANT_OPERAND_OPS or len(_data_inputs(graph, node)) == 1


def _squeeze(graph: Graph, matmuls: list[Node]) -> list[Node]:
    """The ops feeding the matmuls back to the MEAN squeezes (which are included; nothing before them is)."""
    found: dict[int, Node] = {}
    frontier = list(matmuls)
    while frontier:
        node = frontier.pop()
        if node.op_type == "MEAN":
            continue
        for name in _data_inputs(graph, node):
            producer = graph.producer(name)
            if producer is not None and producer.index not in found and _joins_squeeze(graph, producer):
                found[producer.index] = producer
                frontier.append(producer)
    return list(found.values())


def _merge(graph: Graph, matmul: Node) -> list[Node]:
    """The single-consumer chain of head-merge ops after the second matmul."""
    chain: list[Node] = []
    node = _only_consumer(graph, matmul)
    while node is not None and node.op_type in _MERGE_OPS:
        chain.append(node)
        node = _only_consumer(graph, node)
    return chain


def attention_cores(graph: Graph) -> tuple[list[Node], int]:
    """Nodes of every attention core (squeeze, matmul -> softmax -> matmul, head merge), and softmaxes missed."""

    def upstream(node: Node) -> Node | None:
        names = _data_inputs(graph, node)
        return graph.producer(names[0]) if names else None

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
        nodes = [*before, softmax, *after, *_squeeze(graph, [before[-1], after[-1]]), *_merge(graph, after[-1])]
        core.update((node.index, node) for node in nodes)
    return [core[index] for index in sorted(core)], missed

"""The image stem an int8 model keeps float on request: the stem convolutions and the ops back to the image.

The stem convolution reads the 3-channel image: 27 multiply-adds per output value (3x3x3), so on CPUs whose int8
kernels are requantization-bound at that depth it is faster in float. Kept float, it reads the float image
directly and its 16-channel output is quantized once for the int8 network. Other CPUs run it faster in int8,
hence on request only.
"""

from __future__ import annotations

from seaformer_deploy.bench.attribution import module_of
from seaformer_deploy.export.graph import Graph, Node


def image_stem(graph: Graph) -> list[Node]:
    """The stem's CONV_2D ops and their computed inputs back to the graph input (the row strips' SLICEs and
    the PADs), in graph order; empty when no op names the stem."""
    kept: dict[int, Node] = {}
    pending = [node for node in graph.nodes if node.op_type == "CONV_2D" and module_of(node.name) == "stem"]
    while pending:
        node = pending.pop()
        if node.index in kept:
            continue
        kept[node.index] = node
        pending += [producer for name in node.inputs if name and (producer := graph.producer(name)) is not None]
    return [kept[index] for index in sorted(kept)]

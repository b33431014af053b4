"""XNNPACK coverage of a TFLite model, as LiteRT's interpreter delegates it: partitions and nodes left out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seaformer_deploy.errors import UsageError, first_line
from seaformer_deploy.export.graph import load_tflite_graph

DELEGATE_NAME = "XNNPACK"


@dataclass(frozen=True)
class DelegateInfo:
    """XNNPACK coverage of a TFLite model: partitions, node counts, the nodes left to the CPU kernels."""

    partitions: int
    delegated_nodes: int
    total_nodes: int
    undelegated: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"delegate": DELEGATE_NAME, "partitions": self.partitions, "delegated_nodes": self.delegated_nodes,
                "total_nodes": self.total_nodes, "undelegated": list(self.undelegated)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DelegateInfo:
        return cls(int(data["partitions"]), int(data["delegated_nodes"]), int(data["total_nodes"]),
                   list(data["undelegated"]))


def inspect_delegation(model_path: str | Path, num_threads: int = 1) -> DelegateInfo:
    """Apply the default XNNPACK delegate with the LiteRT interpreter and report what it covers.

    The interpreter keeps the original nodes and appends one DELEGATE node per partition, but does not
    expose which nodes a partition replaced. A partition is recovered from dataflow: walking back from
    its outputs through producers, stopping at its inputs, visits exactly the nodes it replaced.
    Only the primary subgraph is inspected.
    """
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise UsageError(f"num_threads={num_threads!r} must be a positive integer")
    graph = load_tflite_graph(model_path)
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(model_path), num_threads=num_threads)
        interpreter.allocate_tensors()
        # Private but stable across tflite-runtime and ai-edge-litert releases; no public equivalent exists.
        details = interpreter._get_ops_details()
    except (RuntimeError, ValueError) as exc:
        raise UsageError(f"{model_path}: LiteRT cannot prepare the model: {first_line(exc)}") from exc

    originals = [d for d in details if d["op_name"] != "DELEGATE"]
    if len(originals) != len(graph.nodes):
        raise UsageError(
            f"{model_path}: the interpreter sees {len(originals)} nodes but the file has {len(graph.nodes)}"
        )
    partitions = [d for d in details if d["op_name"] == "DELEGATE"]
    producer_of = {int(t): d["index"] for d in originals for t in d["outputs"] if t >= 0}
    delegated: set[int] = set()
    for partition in partitions:
        boundary = {int(t) for t in partition["inputs"]}
        stack = [int(t) for t in partition["outputs"]]
        while stack:
            tensor = stack.pop()
            node = producer_of.get(tensor)
            if tensor in boundary or node is None or node in delegated:
                continue
            delegated.add(node)
            stack.extend(int(t) for t in details[node]["inputs"] if t >= 0)
    undelegated = [graph.nodes[d["index"]].name for d in originals if d["index"] not in delegated]
    return DelegateInfo(
        partitions=len(partitions),
        delegated_nodes=len(delegated),
        total_nodes=len(originals),
        undelegated=undelegated,
    )

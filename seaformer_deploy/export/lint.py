"""Graph lint: small rules that catch what makes a converted SeaFormer slow or fragile on a phone.

Each rule is a function of the lint context returning a Finding (PASS / WARN / FAIL with the offending
node names) or a Skip when it does not apply (e.g. delegate coverage of an ONNX model). `lint_graph`
runs them all in order into a `LintReport` (``lint_report``); XNNPACK coverage, which one rule judges, is
measured by ``delegation.inspect_delegation``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from seaformer_deploy.errors import UsageError
from seaformer_deploy.export.delegation import DelegateInfo
from seaformer_deploy.export.graph import Graph, Node, count_ops
from seaformer_deploy.export.lint_report import Finding, LintReport, Skip, Status

# Engine-neutral layout-op kinds (the fields of `LayoutOpBudget`, upper-cased) and their op types per format.
_LAYOUT_OPS = {
    "TRANSPOSE": {"tflite": "TRANSPOSE", "onnx": "Transpose"},
    "RESHAPE": {"tflite": "RESHAPE", "onnx": "Reshape"},
}
_CONV_OPS = {"tflite": {"CONV_2D", "DEPTHWISE_CONV_2D"}, "onnx": {"Conv"}}
_FUSABLE_PRODUCERS = {"tflite": {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}, "onnx": {"Conv", "Gemm"}}
_ACTIVATIONS = {"tflite": {"RELU", "RELU6", "RELU_N1_TO_1"}, "onnx": {"Relu", "Clip"}}
_RESIZE_OPS = {"tflite": {"RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"}, "onnx": {"Resize", "Upsample"}}
_SHAPE_OPS = {"tflite": {"SHAPE"}, "onnx": {"Shape", "Size"}}
# Expanding fp16 / int8 weights at load time is intended, not constant work left in the graph.
_WEIGHT_DEQUANTIZE_OPS = {"DEQUANTIZE", "DequantizeLinear"}
_OVER_BUDGET_WARN_FRACTION = 0.10


@dataclass(frozen=True)
class LayoutOpBudget:
    """The most TRANSPOSE and RESHAPE ops a graph may hold; None: not judged (the count is still reported)."""

    transpose: int | None = None
    reshape: int | None = None

    def __post_init__(self) -> None:
        for kind in _LAYOUT_OPS:
            value = self.limit(kind)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise UsageError(f"layout-op budget {kind}={value!r} must be a non-negative integer")

    def limit(self, kind: str) -> int | None:
        """The budget of one layout-op kind (``TRANSPOSE`` or ``RESHAPE``)."""
        return getattr(self, kind.lower())


@dataclass(frozen=True)
class _Context:
    graph: Graph
    budget: LayoutOpBudget
    quantized: bool
    delegate_info: DelegateInfo | None
    runtime_graph: Graph | None = None


def _names(nodes: Iterable[Node]) -> list[str]:
    return [node.name for node in sorted(set(nodes), key=lambda node: node.index)]


def _op_summary(nodes: Iterable[Node]) -> str:
    return ", ".join(f"{op} x{count}" for op, count in count_ops(nodes).items())


def _fails_or_passes(rule: str, offenders: list[Node], fail_message: str, pass_message: str) -> Finding:
    if offenders:
        return Finding(rule, "FAIL", f"{fail_message}: {_op_summary(offenders)}", _names(offenders))
    return Finding(rule, "PASS", pass_message)


def _has_fused_activation(node: Node) -> bool:
    return node.attrs.get("fused_activation_function", "NONE") != "NONE"


def _is_per_channel(shape: tuple[int, ...] | None, channels: int) -> bool:
    return bool(shape) and shape[-1] == channels and math.prod(shape[:-1]) == 1


def _rule_batchnorm_folded(ctx: _Context) -> Finding:
    graph = ctx.graph
    if graph.format == "onnx":
        offenders = [node for node in graph.nodes if node.op_type == "BatchNormalization"]
        return _fails_or_passes(
            "no-batchnorm", offenders, "BatchNormalization left in the graph", "no BatchNormalization"
        )
    offenders = []
    for node in graph.nodes:
        if node.op_type not in ("MUL", "ADD") or len(node.inputs) != 2:
            continue
        for data, operand in (node.inputs, node.inputs[::-1]):
            conv = graph.producer(data)
            if conv is None or conv.op_type not in _CONV_OPS["tflite"] or _has_fused_activation(conv):
                continue
            shape = graph.tensors[data].shape
            if (
                graph.use_count(data) == 1
                and graph.is_constant(operand)
                and shape
                and _is_per_channel(graph.tensors[operand].shape, shape[-1])
            ):
                offenders.append(node)
                break
    return _fails_or_passes(
        "no-affine-after-conv",
        offenders,
        "per-channel constant MUL/ADD right after a conv (BatchNorm not folded)",
        "no per-channel affine op after CONV_2D/DEPTHWISE_CONV_2D",
    )


def _rule_activation_fused(ctx: _Context) -> Finding | Skip:
    # Standard ONNX ops carry no fused activation: onnxruntime fuses Conv+Relu/Clip when it loads the model, so
    # for ONNX the rule judges the graph as onnxruntime optimizes it (FusedConv), not the file's plain ops.
    graph = ctx.graph
    if graph.format == "onnx":
        if ctx.runtime_graph is None:
            return Skip("activation-fused", "ONNX fuses activations at load time; no onnxruntime-optimized graph given")
        graph = ctx.runtime_graph
    producers = _FUSABLE_PRODUCERS[graph.format]
    offenders = []
    for node in graph.nodes:
        if node.op_type not in _ACTIVATIONS[graph.format] or not node.inputs:
            continue
        producer = graph.producer(node.inputs[0])
        if (
            producer is not None
            and producer.op_type in producers
            and not _has_fused_activation(producer)
            and graph.use_count(node.inputs[0]) == 1
        ):
            offenders.append(node)
    where = " after onnxruntime graph optimization" if graph is not ctx.graph else ""
    return _fails_or_passes(
        "activation-fused",
        offenders,
        f"activation not fused into its conv/FC producer{where}",
        f"every activation after a conv/FC is fused{where}",
    )


def _constant_derived(graph: Graph) -> set[str]:
    """Tensors that are constants or computed only from constants (nodes are in topological order)."""
    derived = {name for name, info in graph.tensors.items() if info.is_constant}
    for node in graph.nodes:
        inputs = [name for name in node.inputs if name]
        if inputs and all(name in derived for name in inputs):
            derived.update(out for out in node.outputs if out)
    return derived


def _rule_no_resize_on_constants(ctx: _Context) -> Finding:
    graph = ctx.graph
    constants = _constant_derived(graph)
    offenders = [
        node
        for node in graph.nodes
        if node.op_type in _RESIZE_OPS[graph.format] and node.inputs and node.inputs[0] in constants
    ]
    return _fails_or_passes(
        "no-resize-on-constants",
        offenders,
        "resize of a constant tensor (bake positional embeddings for the export size)",
        "no resize of constant tensors",
    )


def _rule_no_constant_compute(ctx: _Context) -> Finding:
    graph = ctx.graph
    constants = _constant_derived(graph)
    offenders = [
        node
        for node in graph.nodes
        if node.op_type not in _WEIGHT_DEQUANTIZE_OPS
        and any(node.inputs)
        and all(name in constants for name in node.inputs if name)
    ]
    if not offenders:
        return Finding("no-constant-compute", "PASS", "no op computes only from constants")
    message = (
        f"{len(offenders)} ops compute only from constants and rerun at every inference "
        f"(e.g. an un-baked positional-embedding interpolation): {_op_summary(offenders)}"
    )
    return Finding("no-constant-compute", "WARN", message, _names(offenders))


def _rule_no_flex_or_custom(ctx: _Context) -> Finding:
    offenders = [node for node in ctx.graph.nodes if node.op_type.startswith(("FLEX:", "CUSTOM:"))]
    return _fails_or_passes(
        "no-flex-or-custom", offenders, "Flex or custom ops need extra runtime libraries", "only builtin ops"
    )


def _rule_static_shapes(ctx: _Context) -> Finding:
    graph = ctx.graph
    shape_nodes = [node for node in graph.nodes if node.op_type in _SHAPE_OPS[graph.format]]
    offenders = _names(shape_nodes)
    if graph.format == "onnx":
        shape_outputs = {out for node in shape_nodes for out in node.outputs}
        offenders += _names(
            node
            for node in graph.nodes
            if node.op_type == "Gather" and node.inputs and node.inputs[0] in shape_outputs
        )
        candidates = [*graph.inputs, *graph.outputs]
    else:
        candidates = list(graph.tensors)
    dynamic = [
        name
        for name in dict.fromkeys(candidates)
        if name in graph.tensors and (graph.tensors[name].shape is None or -1 in graph.tensors[name].shape)
    ]
    if not offenders and not dynamic:
        return Finding("static-shapes", "PASS", "all shapes static")
    where = "graph inputs/outputs" if graph.format == "onnx" else "tensors"
    message = f"{len(offenders)} shape-computing ops, {len(dynamic)} {where} with dynamic or unknown dims"
    return Finding("static-shapes", "FAIL", message, offenders + dynamic)


def _rule_layout_op_budget(ctx: _Context) -> Finding:
    graph = ctx.graph
    status: Status = "PASS"
    parts: list[str] = []
    offenders: list[Node] = []
    for kind, op_types in _LAYOUT_OPS.items():
        nodes = [node for node in graph.nodes if node.op_type == op_types[graph.format]]
        budget = ctx.budget.limit(kind)
        if budget is None:
            parts.append(f"{kind} {len(nodes)} (no budget)")
            continue
        parts.append(f"{kind} {len(nodes)}/{budget}")
        if len(nodes) <= budget:
            continue
        offenders += nodes
        within_warn = len(nodes) <= budget * (1 + _OVER_BUDGET_WARN_FRACTION)
        if not within_warn:
            status = "FAIL"
        elif status == "PASS":
            status = "WARN"
    return Finding("layout-op-budget", status, ", ".join(parts), _names(offenders))


def _rule_delegate_coverage(ctx: _Context) -> Finding | Skip:
    rule = "delegate-coverage"
    info = ctx.delegate_info
    if ctx.graph.format != "tflite":
        return Skip(rule, "only TFLite models are delegated")
    if info is None:
        return Skip(rule, "no delegate info (see inspect_delegation)")
    partitions = f"{info.partitions} XNNPACK partition{'s' if info.partitions != 1 else ''}"
    if info.undelegated:
        by_name = {node.name: node for node in ctx.graph.nodes}
        left = [by_name[name] for name in info.undelegated if name in by_name]
        ops = f" ({_op_summary(left)})" if left else ""
        message = f"{len(info.undelegated)} of {info.total_nodes} nodes outside XNNPACK{ops}; {partitions}"
        return Finding(rule, "FAIL", message, list(info.undelegated))
    if info.partitions > 1:
        return Finding(rule, "WARN", f"all {info.total_nodes} nodes delegated but split into {partitions}")
    return Finding(rule, "PASS", f"all {info.total_nodes} nodes delegated, {partitions}")


def _rule_no_float_islands(ctx: _Context) -> Finding | Skip:
    rule = "no-float-islands"
    graph = ctx.graph
    if not ctx.quantized:
        return Skip(rule, "model is not quantized")
    if graph.format != "tflite":
        return Skip(rule, "QDQ ONNX expresses every int8 op with DequantizeLinear/QuantizeLinear pairs")
    island_dequant: list[Node] = []
    island_ops: set[Node] = set()
    island_quant: set[Node] = set()
    for dequant in graph.nodes:
        # A DEQUANTIZE of a constant is an fp16/int8 weight being expanded, not an activation leaving int8.
        if dequant.op_type != "DEQUANTIZE" or not dequant.inputs or graph.is_constant(dequant.inputs[0]):
            continue
        visited: set[Node] = set()
        reached: set[Node] = set()
        frontier = list(dequant.outputs)
        while frontier:
            for consumer in graph.consumers(frontier.pop()):
                if consumer.op_type == "QUANTIZE":
                    reached.add(consumer)
                elif consumer not in visited:
                    visited.add(consumer)
                    frontier.extend(consumer.outputs)
        if reached:
            island_dequant.append(dequant)
            island_ops |= _ancestors_within(graph, reached, visited)
            island_quant |= reached
    totals = count_ops(graph.nodes)
    total = f"graph has {totals.get('QUANTIZE', 0)} QUANTIZE / {totals.get('DEQUANTIZE', 0)} DEQUANTIZE"
    if not island_dequant:
        return Finding(rule, "PASS", f"no float islands ({total}, all at the graph boundary)")
    float_ops = f" around {_op_summary(island_ops)}" if island_ops else ""
    message = (
        f"{len(island_dequant)} DEQUANTIZE -> {len(island_quant)} QUANTIZE float islands{float_ops}; {total}"
    )
    return Finding(rule, "WARN", message, _names([*island_dequant, *island_ops, *island_quant]))


def _ancestors_within(graph: Graph, targets: set[Node], allowed: set[Node]) -> set[Node]:
    """Nodes of `allowed` that feed `targets`: the float ops really inside an island, not its float tails."""
    found: set[Node] = set()
    stack = [name for node in targets for name in node.inputs if name]
    while stack:
        producer = graph.producer(stack.pop())
        if producer in allowed and producer not in found:
            found.add(producer)
            stack.extend(name for name in producer.inputs if name)
    return found


RULES: list[Callable[[_Context], Finding | Skip]] = [
    _rule_batchnorm_folded,
    _rule_activation_fused,
    _rule_no_resize_on_constants,
    _rule_no_constant_compute,
    _rule_no_flex_or_custom,
    _rule_static_shapes,
    _rule_layout_op_budget,
    _rule_delegate_coverage,
    _rule_no_float_islands,
]


def lint_graph(
    graph: Graph,
    *,
    budget: LayoutOpBudget | None = None,
    quantized: bool = False,
    delegate_info: DelegateInfo | None = None,
    runtime_graph: Graph | None = None,
) -> LintReport:
    """Run every rule on `graph`.

    Args:
        graph: the converted model (see `seaformer_deploy.export.graph`).
        budget: the most TRANSPOSE / RESHAPE ops this variant may hold (None: counts reported, not judged).
        quantized: the model is int8, so float islands are checked.
        delegate_info: XNNPACK coverage from `inspect_delegation` (TFLite only).
        runtime_graph: the graph as the runtime executes it (ONNX: `onnxruntime_optimized_graph`).
    """
    ctx = _Context(graph, budget or LayoutOpBudget(), quantized, delegate_info, runtime_graph)
    report = LintReport(findings=[])
    for rule in RULES:
        outcome = rule(ctx)
        if isinstance(outcome, Skip):
            report.skipped.append(outcome)
        else:
            report.findings.append(outcome)
    return report

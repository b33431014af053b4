"""ai-edge-quantizer recipes for the three TFLite modes, with the summaries and notes reports carry."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from seaformer_deploy.export.graph import Graph
from seaformer_deploy.export.quantize.attention import attention_cores
from seaformer_deploy.export.quantize.stem import image_stem

# Weight-carrying TFLite ops that ai-edge-quantizer can cast to float16.
FP16_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "CONV_2D_TRANSPOSE")
# Dynamic-range ops: XNNPACK has dynamic-range kernels for these but not for DEPTHWISE_CONV_2D.
DYNAMIC_OPS = ("CONV_2D", "FULLY_CONNECTED")


def _op_scopes(model_bytes: bytes) -> list[str]:
    """The scope string ai-edge-quantizer matches recipe regexes against, per operator of subgraph 0."""
    from ai_edge_quantizer.utils import tfl_flatbuffer_utils

    model = tfl_flatbuffer_utils.read_model(model_bytes)
    subgraph = model.subgraphs[0]
    return [tfl_flatbuffer_utils.get_op_scope(op, subgraph.tensors) for op in subgraph.operators]


def _no_quantize(regex: str, operation: str) -> dict[str, Any]:
    return {"regex": regex, "operation": operation, "algorithm_key": "no_quantize"}


def int8_recipe(
    graph: Graph, model_bytes: bytes, float_io: bool, float_stem: bool
) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """The int8 recipe, its summary for reports, and notes on the choices made."""
    from ai_edge_quantizer import recipe as aeq_recipe

    recipe = list(aeq_recipe.static_wi8_ai8())
    core, missed = attention_cores(graph)
    # Only on request: a float stem was faster on one x86 host and slower on another (docs/quantization.md).
    stem = image_stem(graph) if float_stem else []
    kept_float = [*stem, *core]
    scopes = _op_scopes(model_bytes)
    recipe += [_no_quantize(f"^{re.escape(scopes[node.index])}$", node.op_type) for node in kept_float]
    if float_io:
        recipe += [_no_quantize(".*", "INPUT"), _no_quantize(".*", "OUTPUT")]
    float_ops = dict(sorted(Counter(node.op_type for node in kept_float).items()))
    summary = {
        "base": "static_wi8_ai8",
        "weights": "int8 symmetric per-channel",
        "activations": "int8 asymmetric per-tensor",
        "calibration": "global min/max over all images",
        "float_ops": float_ops,
        "float_stem": len(stem),
        "io": "float32" if float_io else "int8",
    }
    notes = [
        "int8 recipe: a8w8 with the attention cores kept float (BATCH_MATMUL, SOFTMAX, and the squeeze and head "
        "merge around them): XNNPACK has no int8 SOFTMAX or activation x activation BATCH_MATMUL, so int8 cores "
        "fall back to reference kernels and split SeaFormer-T into 5 delegate partitions; float cores leave one, "
        "and taking the squeeze and merge into the float island leaves one DEQUANTIZE per block and one QUANTIZE "
        "per attention output instead of one per matmul operand",
        "calibration ranges are the global min/max over all images, not ai-edge-quantizer's 0.95 moving average "
        "(rel L2 0.034 vs 0.056 on SeaFormer-T at 512 px)",
    ]
    if stem:
        notes.append(f"the image stem stays float ({len(stem)} ops, --float-stem): a 3x3 convolution of the "
                     "3-channel image does 27 multiply-adds per output, so on some CPUs requantizing every output "
                     "costs more in int8 than the float arithmetic; on others the int8 stem is faster")
    elif float_stem:
        notes.append("no op names the image stem, so it is quantized with the rest")
    if missed:
        notes.append(f"{missed} SOFTMAX op(s) outside the matmul -> softmax -> matmul pattern were quantized as is")
    return recipe, summary, notes


def fp16_recipe() -> list[dict[str, Any]]:
    op_config = {
        "weight_tensor_config": {"num_bits": 16, "dtype": "FLOAT", "symmetric": True, "granularity": "TENSORWISE"},
        "compute_precision": "FLOAT",
        "explicit_dequantize": True,
    }
    return [
        {"regex": ".*", "operation": op, "algorithm_key": "float_casting", "op_config": op_config} for op in FP16_OPS
    ]


def dynamic_recipe() -> list[dict[str, Any]]:
    from ai_edge_quantizer import qtyping, recipe_manager

    manager = recipe_manager.RecipeManager()
    for op in DYNAMIC_OPS:
        manager.add_dynamic_config(".*", qtyping.TFLOperationName(op), num_bits=8)
    return manager.get_quantization_recipe()


def tflite_recipe(
    mode: str, graph: Graph, model_bytes: bytes, float_io: bool, float_stem: bool
) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """The ai-edge-quantizer recipe of ``mode``, its summary for reports, and notes on the choices made."""
    if mode == "int8":
        return int8_recipe(graph, model_bytes, float_io, float_stem)
    if mode == "fp16":
        summary = {"algorithm": "float_casting", "weights": "float16", "ops": list(FP16_OPS), "io": "float32"}
        return fp16_recipe(), summary, [
            "weights of convolution / fully-connected ops are float16; biases and activations stay float32"]
    summary = {"base": "dynamic_wi8_afp32", "weights": "int8 symmetric per-channel", "ops": list(DYNAMIC_OPS),
               "io": "float32"}
    return dynamic_recipe(), summary, [
        "DEPTHWISE_CONV_2D weights stay float32: XNNPACK has no dynamic-range depthwise kernel, and quantizing "
        "them split SeaFormer-T into 19 delegate partitions"]

"""XNNPACK operator -> TFLite node alignment inside one delegate partition.

XNNPACK fuses and rewrites nodes (a 1x1 CONV_2D becomes ``Fully Connected``, PAD folds into the next
convolution, RESHAPEs vanish, a fused RELU6 becomes a ``Clamp``), so its operators carry no TFLite node index.
The profiler runs with ``disable_delegate_clustering`` so every delegate partition covers the contiguous run of
delegated nodes between two nodes left on the builtin kernels (those still report their node index). XNNPACK
creates its operators in node order, so within each partition the operators are aligned to the partition's
nodes by a monotone dynamic program that rewards op-type compatibility (``Convolution``/``Fully Connected`` <->
``CONV_2D``/``DEPTHWISE_CONV_2D``, ``Mean`` <-> ``MEAN``, ...) and lets helper operators (``Clamp``,
``Transpose``, ``Copy``) share the node before them. The result is exact for unambiguous sequences and at worst
off by a neighbouring node of the same module.
"""

from __future__ import annotations

from collections.abc import Sequence

from seaformer_deploy.bench.litert.nodes import TfliteNode

# Keyword in a lower-cased XNNPACK operator name -> TFLite op codes it can implement. First match wins, so
# specific phrases precede generic ones.
_XNN_COMPATIBLE: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (keyword, frozenset(codes.split()))
    for keyword, codes in (
        ("batch matrix multiply", "BATCH_MATMUL FULLY_CONNECTED"),
        ("fully connected", "CONV_2D FULLY_CONNECTED BATCH_MATMUL"),
        ("deconvolution", "TRANSPOSE_CONV"),
        ("convolution", "CONV_2D DEPTHWISE_CONV_2D"),
        ("global average pooling", "MEAN AVERAGE_POOL_2D SUM"),
        ("average pooling", "AVERAGE_POOL_2D"),
        ("max pooling", "MAX_POOL_2D"),
        ("argmax pooling", "ARG_MAX"),
        ("mean", "MEAN SUM"),
        ("reduce", "MEAN SUM REDUCE_MAX REDUCE_MIN REDUCE_PROD"),
        ("transpose", "TRANSPOSE"),
        ("reshape", "RESHAPE SQUEEZE EXPAND_DIMS"),
        ("copy", "RESHAPE SQUEEZE EXPAND_DIMS CONCATENATION PACK"),
        ("concatenate", "CONCATENATION PACK"),
        ("slice", "SLICE STRIDED_SLICE SPLIT SPLIT_V UNPACK"),
        ("split", "SPLIT SPLIT_V UNPACK"),
        ("constant pad", "PAD PADV2"),
        ("softmax", "SOFTMAX"),
        ("sigmoid", "LOGISTIC"),
        ("clamp", "RELU RELU6 RELU_N1_TO_1 RELU_0_TO_1"),
        ("hardswish", "HARD_SWISH"),
        ("leaky relu", "LEAKY_RELU"),
        ("tanh", "TANH"),
        ("gelu", "GELU"),
        ("elu", "ELU"),
        ("multiply", "MUL"),
        ("add", "ADD ADD_N"),
        ("subtract", "SUB"),
        ("squared difference", "SQUARED_DIFFERENCE"),
        ("divide", "DIV"),
        ("maximum", "MAXIMUM"),
        ("minimum", "MINIMUM"),
        ("resize", "RESIZE_BILINEAR RESIZE_NEAREST_NEIGHBOR"),
        ("depth to space", "DEPTH_TO_SPACE"),
        ("space to depth", "SPACE_TO_DEPTH"),
        ("reciprocal square root", "RSQRT"),
        ("square root", "SQRT"),
        ("square", "SQUARE"),
        ("convert", "DEQUANTIZE QUANTIZE CAST"),
        ("negate", "NEG"),
        ("abs", "ABS"),
        ("floor", "FLOOR"),
        ("ceiling", "CEIL"),
        ("exp", "EXP"),
        ("log", "LOG"),
    )
)
# XNNPACK operators that XNNPACK adds around a node (fused activation, layout changes, concat pieces).
_XNN_HELPERS = ("clamp", "transpose", "copy", "reshape", "convert")
_MATCH, _MISMATCH, _HELPER_STAY, _BAD_STAY = 3.0, -2.0, 1.0, -3.0


def xnn_compatible(xnn_name: str, op_code: str) -> bool:
    lowered = xnn_name.lower()
    for keyword, codes in _XNN_COMPATIBLE:
        if keyword in lowered:
            return op_code in codes
    # Unknown XNNPACK operator: compare its leading words with the op code.
    head = "".join(ch for ch in lowered.split("(")[0] if ch.isalnum())
    return bool(head) and head.startswith(op_code.lower().replace("_", "")[:5])


def is_helper(xnn_name: str) -> bool:
    lowered = xnn_name.lower()
    return any(word in lowered for word in _XNN_HELPERS)


def align_xnnpack_operators(xnn_names: Sequence[str], candidates: Sequence[TfliteNode]) -> list[int | None]:
    """Map each XNNPACK operator of one partition to one of the partition's nodes (monotone in order).

    Maximises the number of operators that land on a node of a compatible op type; an operator may share
    the previous operator's node (scored well only for helpers such as ``Clamp`` or ``Transpose``), and
    nodes may get no operator at all (elided reshapes, pads folded into convolutions).
    """
    if not xnn_names or not candidates:
        return [None] * len(xnn_names)
    num_nodes = len(candidates)
    compatible = [[xnn_compatible(name, node.op_code) for node in candidates] for name in xnn_names]
    helper = [is_helper(name) for name in xnn_names]
    score = [_MATCH if ok else _MISMATCH for ok in compatible[0]]
    back: list[list[int]] = []
    for i in range(1, len(xnn_names)):
        prefix_best, prefix_arg = float("-inf"), -1
        new_score, choice = [0.0] * num_nodes, [0] * num_nodes
        for j in range(num_nodes):
            stay = score[j] + (_HELPER_STAY if helper[i] or compatible[i][j] else _BAD_STAY)
            start = prefix_best + (_MATCH if compatible[i][j] else _MISMATCH)
            if start > stay:
                new_score[j], choice[j] = start, prefix_arg
            else:
                new_score[j], choice[j] = stay, j
            if score[j] > prefix_best:
                prefix_best, prefix_arg = score[j], j
        score = new_score
        back.append(choice)
    j = max(range(num_nodes), key=score.__getitem__)
    path = [j]
    for choice in reversed(back):
        j = choice[j]
        path.append(j)
    path.reverse()
    return [candidates[j].index for j in path]


"""The deploy form converts to the graph it was written for: no layout shuffling, one XNNPACK partition."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

import seaformer_deploy as sd
from seaformer_deploy.export.budgets import layout_op_budget
from seaformer_deploy.export.convert import convert_to_onnx, convert_to_tflite
from seaformer_deploy.export.delegation import inspect_delegation
from seaformer_deploy.export.graph import load_onnx_graph, load_tflite_graph


@pytest.fixture(scope="module")
def tiny() -> sd.DeployModel:
    return sd.build_model("T", num_classes=11)


@pytest.mark.slow
@pytest.mark.parametrize("output_mode", ["logits", "labels"])
def test_tflite_graph_has_no_transpose_in_the_network(tiny, output_mode: str, tmp_path) -> None:
    deployed = sd.prepare_for_deploy(copy.deepcopy(tiny), 128, layout="nhwc", output_mode=output_mode,
                                     labels_method="fast")
    path = tmp_path / "model.tflite"
    convert_to_tflite(deployed, deployed.example_input(), path)
    ops = Counter(node.op_type for node in load_tflite_graph(path).nodes)
    budget = layout_op_budget("tflite", "T", "nhwc", output_mode)
    assert ops["TRANSPOSE"] == budget.transpose and ops["RESHAPE"] == budget.reshape, ops
    if output_mode == "logits":
        assert ops["TRANSPOSE"] == 0
        delegation = inspect_delegation(path)
        assert delegation.partitions == 1 and not delegation.undelegated


@pytest.mark.slow
def test_reference_attention_needs_transposes(tiny, tmp_path) -> None:
    # The measurement the rewrite exists for: the official formulation permutes around every matmul.
    deployed = sd.prepare_for_deploy(copy.deepcopy(tiny), 128, layout="nhwc", attention="reference")
    path = tmp_path / "reference.tflite"
    convert_to_tflite(deployed, deployed.example_input(), path)
    assert Counter(node.op_type for node in load_tflite_graph(path).nodes)["TRANSPOSE"] >= 10


@pytest.mark.slow
@pytest.mark.parametrize("output_mode", ["logits", "labels"])
def test_onnx_graph_stays_within_its_budget(tiny, output_mode: str, tmp_path) -> None:
    deployed = sd.prepare_for_deploy(copy.deepcopy(tiny), 128, output_mode=output_mode, labels_method="fast")
    path = tmp_path / "model.onnx"
    convert_to_onnx(deployed, deployed.example_input(), path)
    ops = Counter(node.op_type for node in load_onnx_graph(path).nodes)
    budget = layout_op_budget("onnx", "T", "nchw", output_mode)
    assert ops["Transpose"] == budget.transpose and ops["Reshape"] == budget.reshape, ops

"""Deploy transforms are numerically equivalent to the unmodified model and leave nothing behind."""

from __future__ import annotations

import copy
import re
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import VARIANTS_T_FAST, randomize_weights
from torch.utils._python_dispatch import TorchDispatchMode

import seaformer_deploy as sd
from seaformer_deploy.bench.attribution import module_of
from seaformer_deploy.bench.litert.nodes import tflite_node_names
from seaformer_deploy.errors import UsageError
from seaformer_deploy.export.convert import convert_to_tflite
from seaformer_deploy.export.graph import load_tflite_graph
from seaformer_deploy.models.deploy import bake_positional_embeddings
from seaformer_deploy.models.deploy_attention import rewrite_attention_channels_last
from seaformer_deploy.models.deploy_tiling import RowTiledStem, strips_for, tile_stem_rows
from seaformer_deploy.models.seaformer import SeaAttention, StackedMV2Block
from seaformer_deploy.models.variants import variant_config
from seaformer_deploy.runtime import load_exported


class _OpRecorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[func.overloadpacket.__name__] += 1
        return func(*args, **(kwargs or {}))


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


@pytest.fixture(scope="module", params=VARIANTS_T_FAST)
def model_pair(request):
    model = randomize_weights(sd.build_model(request.param), seed=3)
    return model, sd.prepare_for_deploy(copy.deepcopy(model), 128)


def test_deployed_model_is_equivalent_in_float32(model_pair) -> None:
    model, deployed = model_pair
    x = torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert _rel(deployed(x), model(x)) <= 1e-5


@pytest.mark.slow
def test_deploy_is_exact_in_float64(model_pair) -> None:
    # In float64 the transforms are exact up to rounding; float32 noise of the network itself cannot hide a bug.
    model, _ = model_pair
    model64 = copy.deepcopy(model).double()
    deployed64 = sd.prepare_for_deploy(copy.deepcopy(model64), 128)
    x = torch.randn(1, 3, 128, 128, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert _rel(deployed64(x), model64(x)) <= 1e-10


def test_no_batchnorm_interpolation_or_dropout_left(model_pair) -> None:
    _, deployed = model_pair
    recorder = _OpRecorder()
    with torch.no_grad(), recorder:
        deployed(torch.randn(1, 3, 128, 128))
    assert recorder.ops["native_batch_norm"] == 0
    assert recorder.ops["upsample_linear1d"] == 0
    leftovers = (torch.nn.Dropout, torch.nn.Dropout2d, torch.nn.BatchNorm2d)
    assert not any(isinstance(m, leftovers) for m in deployed.modules())


def test_transforms_are_idempotent() -> None:
    model = randomize_weights(sd.build_model("T"), seed=5)
    once = sd.prepare_for_deploy(copy.deepcopy(model), 64)
    twice = sd.fold_batchnorm(sd.strip_dropout(sd.bake_positional_embeddings(copy.deepcopy(once.model), (64, 64))))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(once.model(x), twice(x))


def test_output_modes_and_layouts() -> None:
    model = randomize_weights(sd.build_model("T", num_classes=7), seed=2)
    x = torch.randn(1, 3, 128, 192)
    with torch.no_grad():
        ref = model(x)
        upsampled = F.interpolate(ref, size=(128, 192), mode="bilinear", align_corners=False)
        logits = sd.prepare_for_deploy(copy.deepcopy(model), "128x192")(x)
        up = sd.prepare_for_deploy(copy.deepcopy(model), "128x192", output_mode="upsampled")(x)
        labels = sd.prepare_for_deploy(copy.deepcopy(model), "128x192", output_mode="labels", labels_method="exact")(x)
        nhwc = sd.prepare_for_deploy(copy.deepcopy(model), "128x192", layout="nhwc")(x.permute(0, 2, 3, 1))
    assert logits.shape == (1, 7, 16, 24) and _rel(logits, ref) <= 1e-5
    assert up.shape == (1, 7, 128, 192) and _rel(up, upsampled) <= 1e-5
    assert labels.shape == (1, 128, 192) and labels.dtype == torch.int32
    assert (labels == upsampled.argmax(1)).float().mean() > 0.999
    assert nhwc.shape == (1, 16, 24, 7) and _rel(nhwc.permute(0, 3, 1, 2), ref) <= 1e-5


def test_baked_model_refuses_another_size() -> None:
    deployed = sd.prepare_for_deploy(sd.build_model("T"), 64)
    with pytest.raises(UsageError, match="baked for"):
        deployed(torch.randn(1, 3, 128, 128))


@pytest.mark.parametrize("size", ["100", "512x500", "0", "abc", "64x"])
def test_bad_sizes_are_usage_errors(size: str) -> None:
    with pytest.raises(UsageError, match="input size"):
        sd.parse_input_size(size)


def test_size_parsing() -> None:
    assert sd.parse_input_size("512") == (512, 512)
    assert sd.parse_input_size("512x1024") == (512, 1024)
    assert sd.parse_input_size("224", task="cls") == (224, 224)


def test_classification_deploys_with_logits_only() -> None:
    model = sd.build_model("T", "cls", num_classes=5)
    assert sd.prepare_for_deploy(copy.deepcopy(model))(torch.randn(1, 3, 224, 224)).shape == (1, 5)
    with pytest.raises(UsageError, match="output mode"):
        sd.prepare_for_deploy(model, output_mode="labels")


def test_channels_last_attention_equals_the_reference_form() -> None:
    model = randomize_weights(sd.build_model("S"), seed=4)
    x = torch.randn(2, 3, 128, 192, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        rewritten = sd.prepare_for_deploy(copy.deepcopy(model), "128x192")
        reference = sd.prepare_for_deploy(copy.deepcopy(model), "128x192", attention="reference")
        assert _rel(rewritten(x), reference(x)) <= 1e-5
    assert not any(isinstance(m, SeaAttention) for m in rewritten.modules())
    assert sum(isinstance(m, SeaAttention) for m in reference.modules()) == sum(variant_config("S").depths)


def test_channels_last_attention_shares_the_weights() -> None:
    model = randomize_weights(sd.build_model("T"), seed=6)
    deployed = sd.prepare_for_deploy(copy.deepcopy(model), 64)
    reference = sd.prepare_for_deploy(copy.deepcopy(model), 64, attention="reference")
    # Every parameter keeps its name and value, except that each block's q, k and v convolutions become one
    # convolution holding exactly their weights stacked; the baked embeddings (buffers) change orientation.
    rewritten = dict(deployed.named_parameters())
    original = dict(reference.named_parameters())
    stacked = re.compile(r"(.*attn)\.to_(q|k|v)\.c\.(weight|bias)$")
    assert {name for name in rewritten if ".to_qkv." not in name} == {n for n in original if not stacked.match(n)}
    for name, tensor in original.items():
        if not stacked.match(name):
            assert torch.equal(rewritten[name], tensor), name
    blocks = {stacked.match(name)[1] for name in original if stacked.match(name)}
    assert blocks and {f"{block}.to_qkv.{kind}" for block in blocks for kind in ("weight", "bias")} == {
        name for name in rewritten if ".to_qkv." in name}
    for block in blocks:
        for kind in ("weight", "bias"):
            parts = [original[f"{block}.to_{part}.c.{kind}"] for part in "qkv"]
            assert torch.equal(rewritten[f"{block}.to_qkv.{kind}"], torch.cat(parts)), block


def test_channels_last_rewrite_needs_folded_batchnorm() -> None:
    model = sd.build_model("T")
    bake_positional_embeddings(model, (64, 64))
    with pytest.raises(UsageError, match="fold the BatchNorms"):
        rewrite_attention_channels_last(model)


def test_channels_last_rewrite_needs_baked_embeddings() -> None:
    with pytest.raises(UsageError, match="bake the positional embeddings"):
        rewrite_attention_channels_last(sd.build_model("T"))


def test_unknown_attention_form_and_labels_method_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="attention form"):
        sd.prepare_for_deploy(sd.build_model("T"), 64, attention="nchw")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="labels method"):
        sd.prepare_for_deploy(sd.build_model("T"), 64, output_mode="labels", labels_method="bicubic")  # type: ignore[arg-type]


def _tiled_pair(variant: str, size: str, strip_bytes: int, dtype: torch.dtype = torch.float32):
    model = randomize_weights(sd.build_model(variant), seed=7).to(dtype)
    untiled = sd.prepare_for_deploy(copy.deepcopy(model), size, activation_bytes=1)  # int8-sized: no strips
    tiled = copy.deepcopy(untiled)
    hw = sd.parse_input_size(size)
    tile_stem_rows(tiled.model, hw, strip_bytes=strip_bytes)
    return untiled, tiled


@pytest.mark.parametrize(("variant", "size", "strip_bytes", "strips"), [
    ("T", "128", 2**16, 4),        # 4 even strips of the 32-row 1/4 map
    ("T", "192x128", 600_000, 3),  # 3 strips of 16 rows, a non-square input
    ("L", "128x192", 2**17, 4),    # L's first block expands, so the halo crosses three 3x3 convolutions
])
def test_row_tiled_stem_equals_the_untiled_stage(variant: str, size: str, strip_bytes: int, strips: int) -> None:
    untiled, tiled = _tiled_pair(variant, size, strip_bytes)
    stage = tiled.model.backbone.smb1
    assert isinstance(stage, RowTiledStem) and len(stage.plans) == strips
    # Every output row comes from exactly one strip, in order.
    bounds = [row for plan in stage.plans for row in plan.output]
    assert bounds[0] == 0 and bounds[-1] == sd.parse_input_size(size)[0] // 4 and bounds == sorted(bounds)
    assert all(stop > first for first, stop in (plan.output for plan in stage.plans))
    assert all(bounds[i] == bounds[i + 1] for i in range(1, len(bounds) - 1, 2))
    x = torch.randn(2, 3, *sd.parse_input_size(size), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert _rel(tiled(x), untiled(x)) <= 1e-6
        assert _rel(stage(x), untiled.model.backbone.smb1(x)) <= 1e-6


@pytest.mark.slow
def test_row_tiled_stem_is_exact_in_float64() -> None:
    untiled, tiled = _tiled_pair("B", "128x192", 2**17, torch.float64)
    x = torch.randn(1, 3, 128, 192, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        assert _rel(tiled(x), untiled(x)) <= 1e-12


def test_stem_strips_follow_the_activation_bytes() -> None:
    stage = sd.build_model("T").backbone.smb1
    # At 512 the expansion before T's first stride-2 depthwise conv is 256x256x64: 16 MB in float32.
    assert [strips_for(stage, (512, 512), size) for size in (4, 2, 1)] == [4, 3, 1]  # never 2: see MIN_STRIPS
    assert strips_for(stage, (1024, 2048), 4) == 32
    assert strips_for(stage, (256, 256), 4) == 1  # the demo size fits without strips
    int8 = sd.prepare_for_deploy(sd.build_model("T"), 512, activation_bytes=1)
    assert type(int8.model.backbone.smb1) is StackedMV2Block
    fp32 = sd.prepare_for_deploy(sd.build_model("T"), 512)
    assert len(fp32.model.backbone.smb1.plans) == 4
    whole = sd.prepare_for_deploy(sd.build_model("T"), 512, row_strips=False)
    assert type(whole.model.backbone.smb1) is StackedMV2Block


def test_an_export_without_row_strips_says_so_in_its_name_and_reaches_the_deploy_step(monkeypatch, tmp_path) -> None:
    from seaformer_deploy.export import pipeline

    options = pipeline.ExportOptions(variant="T", input_size="512", row_strips=False)
    assert options.artifact_name() == "seaformer-t-seg-512x512-fp32-nostrips.tflite"
    default = pipeline.ExportOptions(variant="T", input_size="512")
    assert default.artifact_name() == "seaformer-t-seg-512x512-fp32.tflite"
    assert pipeline.ExportPlan.of(options, tmp_path).stem == "seaformer-t-seg-512x512-fp32-nostrips"
    seen: list[sd.DeployModel] = []

    def deploy_then_stop(*args, **kwargs):
        seen.append(sd.prepare_for_deploy(*args, **kwargs))
        raise KeyboardInterrupt  # stop before the conversion: only the deploy step is under test

    monkeypatch.setattr(pipeline, "prepare_for_deploy", deploy_then_stop)
    with pytest.raises(KeyboardInterrupt):
        pipeline.export(options, tmp_path)
    assert type(seen[0].model.backbone.smb1) is StackedMV2Block
    assert not list(tmp_path.glob("*.tflite"))


def test_row_tiling_keeps_the_weights_and_names_and_is_idempotent() -> None:
    untiled, tiled = _tiled_pair("T", "128", 2**16)
    assert {name: tensor.shape for name, tensor in tiled.state_dict().items()} == {
        name: tensor.shape for name, tensor in untiled.state_dict().items()}
    for name, tensor in untiled.state_dict().items():
        assert torch.equal(tiled.state_dict()[name], tensor), name
    again = copy.deepcopy(tiled)
    tile_stem_rows(again.model, (128, 128), strip_bytes=2**10)
    assert len(again.model.backbone.smb1.plans) == 4
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        assert torch.equal(again(x), tiled(x))


@pytest.mark.slow
def test_row_tiled_stem_converts_to_the_same_tflite_function(tmp_path) -> None:
    untiled, _ = _tiled_pair("T", "128", 2**16)
    nhwc = sd.prepare_for_deploy(copy.deepcopy(untiled.model), 128, layout="nhwc", activation_bytes=1)
    # 1 MB in strips of 600 kB would be 2 strips, whose image slices litert-torch keeps in NCHW: 3 instead.
    tile_stem_rows(nhwc.model, (128, 128), strip_bytes=600_000)
    assert len(nhwc.model.backbone.smb1.plans) == 3
    path = tmp_path / "tiled.tflite"
    convert_to_tflite(nhwc, nhwc.example_input(), path)
    graph = load_tflite_graph(path)
    ops = Counter(node.op_type for node in graph.nodes)
    assert ops["CONCATENATION"] >= 1 and ops["TRANSPOSE"] == 0
    # Inside the blocks a border strip's zero rows and a convolution's zero columns are one PAD feeding the
    # convolution (which XNNPACK folds into it), never a PAD feeding another PAD; only the image may do that.
    feeds = {tensor: node.op_type for node in graph.nodes for tensor in node.inputs}
    chained = [node for node in graph.nodes if node.op_type == "PAD" and feeds[node.outputs[0]] == "PAD"]
    assert chained and all(graph.tensors[node.inputs[0]].shape[-1] == 3 for node in chained)
    # Profiles still tell the stem from the rest of smb1: one stem convolution per strip, the depthwise convs
    # of layer1 and layer2 once per strip and layer3's (after the strips) once.
    names = tflite_node_names(path)
    modules = Counter((module_of(names[node.index], node.op_type), node.op_type) for node in graph.nodes)
    assert modules[("stem", "CONV_2D")] == 3 and modules[("smb1", "DEPTHWISE_CONV_2D")] == 3 * 2 + 1
    x = nhwc.example_input(seed=5)
    with torch.no_grad():
        expected = untiled(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    got = load_exported(path).run(x.numpy())
    assert float(np.linalg.norm(got - expected) / np.linalg.norm(expected)) <= 1e-5

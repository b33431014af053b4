"""Op -> SeaFormer module attribution: real exported names, a real SeaFormer-T profile, exact bookkeeping."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from seaformer_deploy import RandomWeightsWarning, build_model, prepare_for_deploy
from seaformer_deploy.bench.attribution import GAP, POSTPROCESS, UNATTRIBUTED, ModuleTable, attribute, module_of
from seaformer_deploy.bench.litert.profiler import profile_tflite
from seaformer_deploy.bench.measures import OpEvent, OpProfile
from seaformer_deploy.bench.ort_profiler import profile_onnx

# torch.onnx names of SeaFormer-T wrapped by prepare_for_deploy(output_mode="labels"), checked below to
# exist in a fresh export, with the module each must map to.
ONNX_SEG_NAMES = {
    "/model/backbone/smb1/stem_block/stem_block.0/c/Conv": "stem",
    "/model/backbone/smb1/layer3/Add": "smb1",
    "/model/backbone/smb4/layer1/conv/conv.4/c/Conv": "smb4",
    "/model/backbone/trans1/transformer_blocks.0/attn/to_qkv/Conv": "trans1.block0.attn",
    "/model/backbone/trans1/transformer_blocks.1/attn/sigmoid/relu/Clip": "trans1.block1.attn",
    "/model/backbone/trans1/transformer_blocks.0/Add_1": "trans1.block0.attn",  # residual: block level
    "/model/backbone/trans2/transformer_blocks.1/mlp/fc2/c/Conv": "trans2.block1.mlp",
    "/model/decode_head/fuse2/Mul": "head.fuse2",
    "/model/decode_head/linear_fuse/activate/Relu": "head.linear_fuse",
    "/model/decode_head/conv_seg/Conv": "head.conv_seg",
    "/postprocess/Resize": POSTPROCESS,
    "/postprocess/ArgMax": POSTPROCESS,
    "/postprocess/Gather": POSTPROCESS,
}
# Seen in the classifier export (SeaFormerClassifier subclasses the backbone: no "backbone" segment).
ONNX_CLS_NAMES = {
    "/model/smb5/layer1/conv/conv.0/c/Conv": "smb5",
    "/model/trans2/transformer_blocks.0/mlp/dwconv/Conv": "trans2.block0.mlp",
    "/model/avgpool/GlobalAveragePool": "cls.pool",
    "/model/linear/Gemm": "cls.linear",
    "/model/Flatten": UNATTRIBUTED,
}
# Tensor names litert-torch 0.10 wrote for SeaFormer-T (deploy-wrapped) and for a nested toy module.
_D = "seaformer_deploy.models."
_ROOT = f"{_D}deploy.DeployModel/{_D}heads.Segmentor_model/{_D}seaformer.SeaFormer_backbone/"
_TOY = "toy.Segmentor/toy.Backbone_backbone/toy.Basic_trans1/"
TFLITE_NAMES = {
    (
        f"{_ROOT}{_D}seaformer.StackedMV2Block_smb1/torch.nn.modules.container.Sequential_stem_block/"
        f"{_D}layers.Conv2dBN_0/torch.nn.modules.conv.Conv2d_c;1"
    ): "stem",
    f"{_ROOT}{_D}seaformer.StackedMV2Block_smb2/{_D}layers.InvertedResidual_layer2;": "smb2",
    f"{_ROOT}{_D}seaformer.BasicLayer_trans2/{_D}seaformer.Block_1;": "trans2.block1.attn",
    (
        f"{_ROOT}{_D}seaformer.BasicLayer_trans1/{_D}seaformer.Block_0/{_D}seaformer.Mlp_mlp/"
        f"{_D}layers.Conv2dBN_fc1/torch.nn.modules.conv.Conv2d_c;1"
    ): "trans1.block0.mlp",
    # A fused transpose of block 1 also lists block 0's location: the first location is the op's own.
    (
        f"{_TOY}toy.Block_1/toy.Attn_attn/toy.ConvBN_to_q/torch.nn.modules.batchnorm.BatchNorm2d_bn;;"
        f"{_TOY}toy.Block_0/toy.Attn_attn/toy.ConvBN_to_q/torch.nn.modules.batchnorm.BatchNorm2d_bn;"
    ): "trans1.block1.attn",
    f"{_D}deploy.DeployModel/{_D}heads.Segmentor_model/{_D}heads.LightHead_decode_head/"
    f"{_D}heads.FusionBlock_fuse1;": "head.fuse1",
    f"{_D}deploy.DeployModel/{_D}heads.Segmentor_model/{_D}heads.LightHead_decode_head/"
    f"torch.nn.modules.conv.Conv2d_conv_seg;1": "head.conv_seg",
    "seaformer_deploy.models.heads.SeaFormerClassifier/torch.nn.modules.linear.Linear_linear;": "cls.linear",
    "serving_default_output_0_output": UNATTRIBUTED,
}


@pytest.fixture(scope="module")
def seaformer_t_onnx(tmp_path_factory: pytest.TempPathFactory):
    """SeaFormer-T (random weights) at 128x128 with resize + argmax, exported by torch.onnx."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomWeightsWarning)
        model = prepare_for_deploy(build_model("T"), 128, output_mode="labels")
    path = tmp_path_factory.mktemp("seaformer") / "seaformer_t_128.onnx"
    torch.onnx.export(model, (model.example_input(),), str(path), dynamo=False)
    return path


@pytest.mark.slow  # converts a model
def test_module_of_maps_real_onnx_names(seaformer_t_onnx) -> None:
    exported = {node.name for node in onnx.load(str(seaformer_t_onnx)).graph.node}
    assert set(ONNX_SEG_NAMES) <= exported
    for name, expected in {**ONNX_SEG_NAMES, **ONNX_CLS_NAMES}.items():
        assert module_of(name) == expected, name


def test_module_of_maps_real_tflite_names() -> None:
    for name, expected in TFLITE_NAMES.items():
        assert module_of(name) == expected, name
    # Outside every model module, only the op type tells a post-processing resize from layout glue.
    wrapper = f"{_D}deploy.DeployModel;2"
    assert module_of(wrapper, "RESIZE_BILINEAR") == POSTPROCESS
    assert module_of("serving_default_output_0_output", "ARG_MAX") == POSTPROCESS
    assert module_of(wrapper, "TRANSPOSE") == UNATTRIBUTED


@pytest.mark.slow  # converts a model
def test_real_seaformer_t_profile_is_fully_attributed(seaformer_t_onnx) -> None:
    image = np.random.default_rng(0).standard_normal((1, 3, 128, 128)).astype(np.float32)
    table = attribute(profile_onnx(seaformer_t_onnx, [image], runs=3, warmup=1))

    modules = [row.module for row in table.rows]
    expected = [
        "stem",
        *(f"smb{i}" for i in range(1, 6)),
        "head.fuse1",
        "head.fuse2",
        "head.linear_fuse",
        "head.conv_seg",
        POSTPROCESS,
        UNATTRIBUTED,
        GAP,
    ]
    expected += [f"trans{i}.block{j}.{part}" for i in (1, 2) for j in (0, 1) for part in ("attn", "mlp")]
    assert sorted(modules) == sorted(expected)
    assert modules[0] == "stem" and modules[-2:] == [UNATTRIBUTED, GAP]
    assert table.row(UNATTRIBUTED).us_per_run == 0.0
    measured = [row for row in table.rows if row.module not in (UNATTRIBUTED, GAP)]
    assert all(row.us_per_run > 0 and row.op_count > 0 for row in measured)
    assert sum(row.us_per_run for row in table.rows) == pytest.approx(table.e2e_us)
    assert sum(row.pct for row in table.rows) == pytest.approx(100.0)
    assert table.row(GAP).us_per_run == pytest.approx(table.e2e_us - table.sum_of_ops_us)
    assert 0 <= table.row(GAP).us_per_run < table.e2e_us


class _ConvBN(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.c = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.c(x))


class _Block(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.attn = nn.Sequential(_ConvBN(dim, dim), nn.Sigmoid())
        self.mlp = nn.Sequential(_ConvBN(dim, dim), nn.ReLU6())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.mlp(x)


class _Stage(nn.Module):
    def __init__(self, cin: int, cout: int, stem: bool = False) -> None:
        super().__init__()
        if stem:
            self.stem_block = nn.Sequential(_ConvBN(3, cin, 2), nn.ReLU())
        self.has_stem = stem
        self.layer1 = _ConvBN(cin, cout, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer1(self.stem_block(x) if self.has_stem else x)


class _Layer(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.transformer_blocks = nn.ModuleList([_Block(dim), _Block(dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.transformer_blocks:
            x = block(x)
        return x


class _Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.smb1, self.smb2, self.trans1 = _Stage(8, 16, stem=True), _Stage(16, 16), _Layer(16)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        low = self.smb1(x)
        return low, self.trans1(self.smb2(low))


class _Fuse(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.local_embedding, self.global_act = _ConvBN(dim, dim), _ConvBN(dim, dim)

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        gate = nn.functional.interpolate(self.global_act(high), size=low.shape[-2:], mode="bilinear")
        return self.local_embedding(low) * gate


class _Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fuse1 = _Fuse(16)
        self.linear_fuse = nn.Sequential(_ConvBN(16, 16), nn.ReLU())
        self.conv_seg = nn.Conv2d(16, 5, 1)

    def forward(self, features: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return self.conv_seg(self.linear_fuse(self.fuse1(*features)))


class Segmentor(nn.Module):
    """Same attribute names as the real model, a fraction of its size (fast to convert)."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone, self.decode_head = _Backbone(), _Head()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_head(self.backbone(x))


@pytest.mark.slow  # converts a model
def test_tflite_xnnpack_profile_of_a_nested_model_is_attributed_in_execution_order(tmp_path) -> None:
    import litert_torch

    path = tmp_path / "toy.tflite"
    image = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    litert_torch.convert(Segmentor().eval(), (torch.from_numpy(image),)).export(str(path))
    profile = profile_tflite(path, [image], runs=3, warmup=1)
    table = attribute(profile)

    assert [row.module for row in table.rows] == [
        "stem",
        "smb1",
        "smb2",
        "trans1.block0.attn",
        "trans1.block0.mlp",
        "trans1.block1.attn",
        "trans1.block1.mlp",
        "head.fuse1",
        "head.linear_fuse",
        "head.conv_seg",
        UNATTRIBUTED,
        GAP,
    ]
    # Only the NCHW output transpose, outside every module, stays unattributed.
    last_node = max(profile.node_names)
    modules = [module_of(profile.node_names[event.node_index], event.op_type) for event in profile.events]
    unattributed = {
        (e.node_index, e.op_type)
        for e, key in zip(profile.events, modules, strict=True)
        if key == UNATTRIBUTED
    }
    assert unattributed == {(last_node, "TRANSPOSE")}
    assert sum(row.us_per_run for row in table.rows) == pytest.approx(table.e2e_us)


def test_bookkeeping_on_a_hand_made_profile() -> None:
    def event(name: str, op: str, us: float, run: int) -> OpEvent:
        return OpEvent(name, op, None, us, run)

    events = []
    for run, (stem, smb2, glue, resize, cast) in enumerate([(10, 20, 4, 30, 6), (12, 18, 6, 34, 4)]):
        events += [
            event("/model/backbone/smb1/stem_block/stem_block.0/c/Conv", "Conv", stem, run),
            event("/model/backbone/smb2/layer1/conv/conv.0/c/Conv", "Conv", smb2, run),
            event("/Transpose", "Transpose", glue, run),  # before any post-processing: layout glue
            event("/Resize", "Resize", resize, run),
            event("/Cast", "Cast", cast, run),  # after the resize: part of post-processing
        ]
    profile = OpProfile("onnxruntime", "cpu", events, e2e_us=[80.0, 90.0])

    assert profile.sum_of_ops_us_per_run() == [70.0, 74.0]
    stem_row = profile.per_op_table()[0]
    assert (stem_row.count, stem_row.avg_us) == (2, 11.0)
    assert stem_row.pct == pytest.approx(100 * 22 / 144)

    table = attribute(profile)
    assert [(row.module, row.us_per_run, row.op_count) for row in table.rows] == [
        ("stem", 11.0, 1),
        ("smb2", 19.0, 1),
        (POSTPROCESS, 37.0, 2),
        (UNATTRIBUTED, 5.0, 1),
        (GAP, 13.0, 0),
    ]
    assert (table.e2e_us, table.sum_of_ops_us) == (85.0, 72.0)
    assert table.row("stem").pct == pytest.approx(100 * 11 / 85)

    # Names by node index (e.g. from another source) take precedence over event names.
    indexed = OpProfile("litert", "builtin", [OpEvent("CONV_2D", "CONV_2D", 3, 5.0, 0)], [10.0])
    assert attribute(indexed).rows[0].module == UNATTRIBUTED
    assert attribute(indexed, {3: "/model/decode_head/conv_seg/Conv"}).rows[0].module == "head.conv_seg"


def _jittery_profile(slow_run: int | None, factor: float = 50.0) -> OpProfile:
    """Nine runs of three modules with a few percent of jitter; one run of ``smb2`` ``factor`` x slower."""
    rng = np.random.default_rng(7)
    names = {"stem": "/model/backbone/smb1/stem_block/stem_block.0/c/Conv",
             "smb2": "/model/backbone/smb2/layer1/conv/conv.0/c/Conv",
             "head.conv_seg": "/model/decode_head/conv_seg/Conv"}
    base = {"stem": 100.0, "smb2": 200.0, "head.conv_seg": 50.0}
    events, e2e = [], []
    for run in range(9):
        total = 0.0
        for module, us in base.items():
            for half in (0.4, 0.6):  # two ops per module: the per-run sum is what counts
                elapsed = us * half * float(rng.uniform(0.97, 1.03))
                if module == "smb2" and run == slow_run:
                    elapsed *= factor
                events.append(OpEvent(names[module], "Conv", None, elapsed, run))
                total += elapsed
        e2e.append(total + 10.0)
    return OpProfile("litert", "xnnpack", events, e2e_us=e2e)


def test_one_preempted_run_does_not_move_a_module_time() -> None:
    clean, disturbed = _jittery_profile(None), _jittery_profile(slow_run=4)
    spread = 0.0  # how far the undisturbed modules' per-run sums range
    for module in ("stem", "head.conv_seg"):
        per_run = [sum(e.elapsed_us for e in clean.events if e.run == run and module_of(e.name) == module)
                   for run in range(clean.runs)]
        spread = max(spread, max(per_run) - min(per_run))
    before, after = attribute(clean), attribute(disturbed)
    assert after.statistic == "median"
    assert abs(after.row("smb2").us_per_run - before.row("smb2").us_per_run) <= spread
    assert abs(after.e2e_us - before.e2e_us) <= spread
    for module in ("stem", "head.conv_seg"):
        assert after.row(module).us_per_run == before.row(module).us_per_run
    # The mean is kept beside the median, and it is the number one slow run pulls far off.
    assert after.row("smb2").mean_us_per_run - before.row("smb2").mean_us_per_run > 10 * spread
    # The rows still close to the end-to-end time, and the per-op table carries the robust median too.
    assert sum(row.us_per_run for row in after.rows) == pytest.approx(after.e2e_us)
    smb2_ops = [op for op in disturbed.per_op_table() if module_of(op.name) == "smb2"]
    clean_ops = [op for op in clean.per_op_table() if module_of(op.name) == "smb2"]
    assert abs(smb2_ops[0].median_us - clean_ops[0].median_us) <= spread
    assert smb2_ops[0].avg_us - clean_ops[0].avg_us > 10 * spread


def test_a_profile_of_averages_says_its_statistic_is_the_mean() -> None:
    averaged = OpProfile("benchmark_model", "builtin",
                         [OpEvent("/model/backbone/smb2/layer1/conv/conv.0/c/Conv", "Conv", None, 40.0, 0)],
                         e2e_us=[50.0], runs_are_averages=True)
    table = attribute(averaged)
    assert table.statistic == "mean"
    assert table.row("smb2").us_per_run == table.row("smb2").mean_us_per_run == 40.0
    # A table from a report written before the median existed was a table of means.
    old = table.to_dict()
    del old["statistic"]
    for row in old["modules"]:
        del row["mean_us_per_run"]
    assert ModuleTable.from_dict(old).statistic == "mean"
    assert ModuleTable.from_dict(old).row("smb2").mean_us_per_run is None
    assert ModuleTable.from_dict(table.to_dict()) == table

"""Deploy transforms are numerically equivalent to the unmodified model and leave nothing behind."""

from __future__ import annotations

import copy
import re
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from helpers import VARIANTS_T_FAST, randomize_weights
from torch.utils._python_dispatch import TorchDispatchMode

import seaformer_deploy as sd
from seaformer_deploy.errors import UsageError
from seaformer_deploy.models.deploy import bake_positional_embeddings
from seaformer_deploy.models.deploy_attention import rewrite_attention_channels_last
from seaformer_deploy.models.seaformer import SeaAttention
from seaformer_deploy.models.variants import variant_config


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

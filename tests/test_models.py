"""SeaFormer T/S/B/L against the paper's numbers and the official parameter names and shapes."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import VARIANTS_T_FAST

import seaformer_deploy as sd
from seaformer_deploy.errors import UsageError
from seaformer_deploy.models.complexity import count_macs, count_params

PAPER_SEG_PARAMS_M = {"T": 1.7, "S": 4.0, "B": 8.6, "L": 14.0}
PAPER_CLS_PARAMS_M = {"T": 1.8, "S": 4.1, "B": 8.7, "L": 14.0}
PAPER_SEG_GMACS_512 = {"T": 0.6, "S": 1.1, "B": 1.8, "L": 6.5}


@pytest.mark.parametrize("variant", VARIANTS_T_FAST)
def test_parameter_counts_match_paper(variant: str) -> None:
    seg = count_params(sd.build_model(variant, "seg")) / 1e6
    cls = count_params(sd.build_model(variant, "cls")) / 1e6
    assert seg == pytest.approx(PAPER_SEG_PARAMS_M[variant], rel=0.02)
    assert cls == pytest.approx(PAPER_CLS_PARAMS_M[variant], rel=0.02)


@pytest.mark.parametrize("variant", VARIANTS_T_FAST)
def test_macs_at_512_match_paper(variant: str) -> None:
    macs = count_macs(sd.build_model(variant), (512, 512))
    assert macs["total"] / 1e9 == pytest.approx(PAPER_SEG_GMACS_512[variant], rel=0.05)
    # Convolutions dominate; a counter that missed them could still land near the paper by accident.
    assert macs["convolution"] > 0.9 * macs["total"]


@pytest.mark.parametrize("variant", sd.VARIANTS)
@pytest.mark.parametrize("task", ["seg", "cls"])
def test_state_dict_equals_official_names_and_shapes(variant: str, task: str, fixtures_dir) -> None:
    official = json.loads((fixtures_dir / "official_keys" / f"seaformer_{variant.lower()}_{task}.json").read_text())
    ours = {k: list(v.shape) for k, v in sd.build_model(variant, task).state_dict().items()}
    assert list(ours) == list(official["keys"])
    assert ours == official["keys"]


@pytest.mark.parametrize("variant", VARIANTS_T_FAST)
def test_seg_output_is_one_eighth_and_cls_gives_logits(variant: str) -> None:
    seg = sd.build_model(variant)
    with torch.no_grad():
        logits = seg(torch.randn(1, 3, 128, 192))
        scores = sd.build_model(variant, "cls", num_classes=10)(torch.randn(2, 3, 64, 64))
    assert logits.shape == (1, 150, 16, 24)
    assert scores.shape == (2, 10)


def test_large_has_three_transformer_stages_and_four_head_inputs() -> None:
    large = sd.build_model("L")
    assert large.backbone.num_trans_stages == 3 and hasattr(large.backbone, "trans3")
    assert large.decode_head.num_fusions == 3
    features = large.backbone(torch.randn(1, 3, 128, 128))
    assert [f.shape[-1] for f in features] == [16, 8, 4, 2]
    assert sd.variant_config("L").head_in_channels == (128, 192, 256, 320)


def test_variant_names_are_case_insensitive() -> None:
    assert sd.build_model("b").variant == "B"
    assert sd.variant_config("tiny").name == "T"


@pytest.mark.parametrize("bad", ["X", "", "tinyy"])
def test_unknown_variant_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError, match="unknown variant"):
        sd.build_model(bad)


def test_unknown_task_and_bad_class_count_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown task"):
        sd.build_model("T", task="detection")
    with pytest.raises(UsageError, match="num_classes"):
        sd.build_model("T", num_classes=0)


def test_random_weights_warn_loudly_and_are_recorded() -> None:
    with pytest.warns(sd.RandomWeightsWarning, match="RANDOM weights"):
        model = sd.build_model("T")
    assert model.weights.source == "random"
    assert "RANDOM" in model.weights.warnings[0]

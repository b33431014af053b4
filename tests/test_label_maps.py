"""Label-map methods: each is the argmax on its own grid, repeated over the input pixels that grid cell covers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import seaformer_deploy as sd
from seaformer_deploy.errors import UsageError
from seaformer_deploy.models.label_maps import LabelMap, label_map
from seaformer_deploy.models.label_methods import ARGMAX_STRIDE, LABEL_METHODS

INPUT_HW = (128, 192)


def _logits(seed: int = 0) -> torch.Tensor:
    return torch.randn(2, 9, INPUT_HW[0] // 8, INPUT_HW[1] // 8, generator=torch.Generator().manual_seed(seed))


def test_exact_is_argmax_of_bilinear_upsampling() -> None:
    logits = _logits()
    expected = F.interpolate(logits, size=INPUT_HW, mode="bilinear", align_corners=False).argmax(1)
    labels = label_map(logits, INPUT_HW, "exact")
    assert labels.dtype == torch.int32 and labels.shape == (2, *INPUT_HW)
    assert torch.equal(labels.long(), expected)


def test_fast_is_nearest_upsampling_of_the_coarse_argmax() -> None:
    logits = _logits(1)
    coarse = logits.argmax(1, keepdim=True).float()
    expected = F.interpolate(coarse, size=INPUT_HW, mode="nearest")[:, 0].long()
    assert torch.equal(label_map(logits, INPUT_HW, "fast").long(), expected)


@pytest.mark.parametrize("method", ["half", "quarter"])
def test_intermediate_methods_take_the_argmax_on_their_grid(method: str) -> None:
    logits = _logits(2)
    stride = ARGMAX_STRIDE[method]
    grid = (INPUT_HW[0] // stride, INPUT_HW[1] // stride)
    coarse = F.interpolate(logits, size=grid, mode="bilinear", align_corners=False).argmax(1, keepdim=True)
    expected = F.interpolate(coarse.float(), size=INPUT_HW, mode="nearest")[:, 0].long()
    assert torch.equal(label_map(logits, INPUT_HW, method).long(), expected)


def test_methods_agree_more_the_finer_their_grid() -> None:
    # Smooth logits (as a trained network gives) make every method close to exact, finer grids closer.
    logits = F.avg_pool2d(_logits(3), 3, stride=1, padding=1, count_include_pad=False) * 10
    exact = label_map(logits, INPUT_HW, "exact")
    agreement = [(label_map(logits, INPUT_HW, m) == exact).float().mean().item() for m in ("fast", "quarter", "half")]
    assert agreement == sorted(agreement) and agreement[0] > 0.5 and agreement[-1] < 1.0


def test_deployed_labels_follow_the_method() -> None:
    model = sd.build_model("T", num_classes=5)
    x = torch.randn(1, 3, *INPUT_HW)
    with torch.no_grad():
        logits = sd.prepare_for_deploy(model, INPUT_HW)(x)
        for method in LABEL_METHODS:
            deployed = sd.prepare_for_deploy(model, INPUT_HW, output_mode="labels", labels_method=method)
            assert deployed.labels_method == method
            assert torch.equal(deployed(x), label_map(logits, INPUT_HW, method))


def test_bad_method_and_size_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="labels method"):
        LabelMap(INPUT_HW, "nearest")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="not a multiple"):
        LabelMap((68, 64), "fast")

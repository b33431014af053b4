"""The int32 bilinear decomposition computes torch's values and spares litert-torch one retrace, same file."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
import torch._decomp
import torch.nn.functional as F
from torch import nn

from seaformer_deploy.export.convert import convert_to_tflite
from seaformer_deploy.export.graph import load_tflite_graph
from seaformer_deploy.export.resize_decomposition import bilinear_resize, int32_bilinear_resize

BILINEAR = torch.ops.aten.upsample_bilinear2d.vec


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize(("in_hw", "out_hw"), [((16, 16), (32, 32)), ((8, 8), (32, 32)), ((13, 7), (29, 31)),
                                               ((32, 20), (13, 9)), ((1, 5), (4, 1))])
def test_bilinear_resize_equals_torch(in_hw, out_hw, align_corners: bool) -> None:
    x = torch.randn(2, 3, *in_hw, dtype=torch.float64)
    expected = F.interpolate(x, size=out_hw, mode="bilinear", align_corners=align_corners)
    got = bilinear_resize(x, out_hw, align_corners, None)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("scales", [(2.0, 2.0), (2.5, 1.5), (0.6, 3.3)])
def test_bilinear_resize_follows_torch_given_scale_factors(scales, align_corners: bool) -> None:
    x = torch.randn(1, 4, 10, 6, dtype=torch.float64)
    expected = BILINEAR(x, None, align_corners, list(scales))
    got = bilinear_resize(x, None, align_corners, list(scales))
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


def test_integer_images_keep_torchs_decomposition() -> None:
    x = torch.randint(0, 256, (1, 3, 9, 9), dtype=torch.uint8)
    torch_decomposition = torch._decomp.get_decompositions([BILINEAR])[BILINEAR]
    assert torch.equal(bilinear_resize(x, [20, 14], False, None), torch_decomposition(x, [20, 14], False, None))


class _TwoResizes(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=4, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        coarse = F.interpolate(y, size=(7, 9), mode="bilinear")
        return F.interpolate(y, scale_factor=2.0, mode="bilinear") + F.interpolate(
            coarse, size=(32, 32), mode="bilinear", align_corners=True)


def _count_retraces(monkeypatch) -> Counter:
    calls: Counter = Counter()
    original = torch.export.ExportedProgram.run_decompositions

    def counted(self, *args, **kwargs):
        calls["run_decompositions"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.export.ExportedProgram, "run_decompositions", counted)
    return calls


@pytest.mark.slow
def test_conversion_skips_a_retrace_and_writes_the_same_file(monkeypatch, tmp_path) -> None:
    import litert_torch
    from litert_torch.fx_infra import decomp

    torch.manual_seed(0)
    model = _TwoResizes().eval()
    example = torch.randn(1, 3, 64, 64)
    converters_own = decomp.pre_lower_decomp()[BILINEAR]
    calls = _count_retraces(monkeypatch)

    litert_torch.convert(model, (example,)).export(str(tmp_path / "plain.tflite"))
    plain_passes = calls["run_decompositions"]
    calls.clear()
    convert_to_tflite(model, example, tmp_path / "ours.tflite")

    assert calls["run_decompositions"] == plain_passes - 1
    assert (tmp_path / "ours.tflite").read_bytes() == (tmp_path / "plain.tflite").read_bytes()
    assert Counter(node.op_type for node in load_tflite_graph(tmp_path / "ours.tflite").nodes)["RESIZE_BILINEAR"] == 3
    # The converter's table is its own again after the conversion.
    assert decomp.pre_lower_decomp()[BILINEAR] is converters_own
    with int32_bilinear_resize():
        assert decomp.pre_lower_decomp()[BILINEAR] is bilinear_resize

"""Official checkpoint layouts load strictly; every mismatch is one clear error."""

from __future__ import annotations

import pytest
import torch
from helpers import randomize_weights
from safetensors.torch import save_file

import seaformer_deploy as sd
from seaformer_deploy.errors import UsageError
from seaformer_deploy.weights.checkpoints import extract_state_dict


@pytest.fixture(scope="module")
def seg_t_state() -> dict[str, torch.Tensor]:
    return randomize_weights(sd.build_model("T"), seed=11).state_dict()


@pytest.fixture(scope="module")
def cls_t_state() -> dict[str, torch.Tensor]:
    return randomize_weights(sd.build_model("T", "cls"), seed=12).state_dict()


def _same_weights(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(model.state_dict()[k], v) for k, v in state.items())


def test_mmseg_file_with_meta_loads_strictly(tmp_path, seg_t_state) -> None:
    path = tmp_path / "seaformer_t_ade20k.pth"
    torch.save({"meta": {"CLASSES": ("wall", "building"), "iter": 160000}, "state_dict": seg_t_state}, path)
    model = sd.build_model("T", checkpoint=path)
    assert _same_weights(model, seg_t_state)
    assert model.weights.source == "checkpoint" and model.weights.layout == "mmseg"
    assert len(model.weights.sha256) == 64 and model.weights.warnings == []


def test_timm_file_prefers_ema_weights(tmp_path, cls_t_state) -> None:
    other = {k: v + 1 if v.dtype.is_floating_point else v for k, v in cls_t_state.items()}
    path = tmp_path / "SeaFormer_T.pth.tar"
    torch.save({"epoch": 600, "state_dict": other, "state_dict_ema": cls_t_state}, path)
    model = sd.build_model("t", task="cls", checkpoint=path)
    assert _same_weights(model, cls_t_state) and model.weights.layout == "state_dict_ema"


@pytest.mark.parametrize("wrapper", ["model", "state_dict", None])
def test_other_wrappers_and_module_prefix(tmp_path, cls_t_state, wrapper) -> None:
    state = {f"module.{k}": v for k, v in cls_t_state.items()}
    path = tmp_path / "ckpt.pt"
    torch.save({wrapper: state} if wrapper else state, path)
    assert _same_weights(sd.build_model("T", "cls", checkpoint=path), cls_t_state)


def test_safetensors_and_class_count_inferred(tmp_path) -> None:
    state = randomize_weights(sd.build_model("S", num_classes=19), seed=4).state_dict()
    path = tmp_path / "cityscapes.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    model = sd.build_model("S", checkpoint=path)
    assert model.num_classes == 19 and _same_weights(model, state)


def test_missing_batchnorm_counters_are_tolerated(tmp_path, seg_t_state) -> None:
    path = tmp_path / "converted.pth"
    torch.save({k: v for k, v in seg_t_state.items() if not k.endswith("num_batches_tracked")}, path)
    assert sd.build_model("T", checkpoint=path).weights.missing == []


def test_wrong_variant_names_the_wrongly_shaped_keys(tmp_path, seg_t_state) -> None:
    path = tmp_path / "t.pth"
    torch.save({"state_dict": seg_t_state}, path)
    with pytest.raises(UsageError) as error:
        sd.build_model("B", checkpoint=path)
    message = str(error.value)
    assert "does not match SeaFormer-B seg" in message and "wrong shape" in message
    assert "backbone.smb1" in message and "\n" not in message


def test_missing_and_unexpected_keys_are_named_and_partial_is_opt_in(tmp_path, seg_t_state) -> None:
    state = dict(seg_t_state)
    state.pop("decode_head.conv_seg.bias")
    state["decode_head.extra.weight"] = torch.zeros(1)
    path = tmp_path / "edited.pth"
    torch.save(state, path)
    with pytest.raises(UsageError, match=r"missing 1 \[decode_head.conv_seg.bias\].*unexpected 1") as error:
        sd.build_model("T", checkpoint=path)
    assert "--allow-partial" in str(error.value)
    model = sd.build_model("T", checkpoint=path, allow_partial=True)
    assert model.weights.missing == ["decode_head.conv_seg.bias"]
    assert "partial load" in model.weights.warnings[0]
    assert torch.equal(model.state_dict()["backbone.smb1.stem_block.0.c.weight"],
                       seg_t_state["backbone.smb1.stem_block.0.c.weight"])


def test_classification_file_for_segmentation_is_rejected(tmp_path, cls_t_state) -> None:
    path = tmp_path / "cls.pth"
    torch.save({"state_dict_ema": cls_t_state}, path)
    with pytest.raises(UsageError, match="missing .*unexpected"):
        sd.build_model("T", "seg", checkpoint=path)


def test_num_classes_disagreeing_with_checkpoint_is_an_error(tmp_path, seg_t_state) -> None:
    path = tmp_path / "ade.pth"
    torch.save({"state_dict": seg_t_state}, path)
    with pytest.raises(UsageError, match="decode_head.conv_seg.weight"):
        sd.build_model("T", num_classes=19, checkpoint=path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "corrupt"), (b"PK\x03\x04 not really a zip", "corrupt"), (b"\x80\x04K\x01.", "corrupt")],
)
def test_corrupt_files_are_one_line_errors(tmp_path, content, expected) -> None:
    path = tmp_path / "broken.pth"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=expected) as error:
        sd.build_model("T", checkpoint=path)
    assert "\n" not in str(error.value)


def test_file_without_a_state_dict_is_rejected(tmp_path) -> None:
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(UsageError, match="holds a list, not a dict"):
        sd.build_model("T", checkpoint=path)
    torch.save({"epoch": 3}, path)
    with pytest.raises(UsageError, match="holds no tensors"):
        sd.build_model("T", checkpoint=path)


def test_corrupt_safetensors_and_missing_file(tmp_path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(UsageError, match="safetensors"):
        sd.build_model("T", checkpoint=bad)
    with pytest.raises(UsageError, match="does not exist"):
        sd.build_model("T", checkpoint=tmp_path / "nope.pth")


class _Opaque:
    """A pickled Python object, as some training frameworks store in checkpoints."""


def test_pickled_objects_need_trust(tmp_path, seg_t_state) -> None:
    path = tmp_path / "objects.pth"
    torch.save({"state_dict": seg_t_state, "meta": {"hook": _Opaque()}}, path)
    with pytest.raises(UsageError, match="--trust-checkpoint"):
        sd.build_model("T", checkpoint=path)
    assert _same_weights(sd.build_model("T", checkpoint=path, trust_checkpoint=True), seg_t_state)


def test_extract_state_dict_is_idempotent(seg_t_state) -> None:
    once, _ = extract_state_dict({"state_dict": {f"module.{k}": v for k, v in seg_t_state.items()}})
    twice, _ = extract_state_dict(once)
    assert once.keys() == twice.keys() == seg_t_state.keys()

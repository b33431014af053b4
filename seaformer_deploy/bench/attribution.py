"""Attribute per-op latency to SeaFormer modules.

Op names carry the PyTorch module path through export, in two spellings:

- torch.onnx node names: ``/backbone/trans1/transformer_blocks.0/attn/to_q/c/Conv`` (attribute names,
  ``ModuleList`` items as ``name.index``, the op type last);
- litert-torch TFLite tensor names: ``pkg.Segmentor/pkg.SeaFormer_backbone/pkg.BasicLayer_trans1/
  pkg.Block_0/pkg.SeaAttention_attn/...`` (each segment is ``module.Class_attribute``; ``ModuleList``
  containers are skipped, their items appear as ``Class_index``). Fused ops list several such locations
  joined by ``;`` (plus a trailing ``;N`` uniquifier). The first location is the op's own; later ones
  are folded activations, batch norms and merged constants, which can belong to another block (a block-1
  transpose also lists block 0), so locations are tried from the first (checked on litert-torch 0.10:
  this keeps every module of SeaFormer-T a contiguous run of nodes, taking the last one does not).

``module_of`` reads either spelling by matching each path segment's attribute suffix and returns one key
of a fixed vocabulary (``MODULE_KEYS``): ``stem`` (``smb1.stem_block``), ``smb1``..``smb5``,
``trans{i}.block{j}.attn`` / ``.mlp`` (ops of a block outside its ``mlp``, i.e. the residual additions,
count as ``attn``), ``head.fuse{k}``, ``head.linear_fuse``, ``head.conv_seg``, ``cls.pool``
(``avgpool``), ``cls.linear``, ``postprocess`` (resize / argmax after the model: a segment named like
post-processing, or a resize/argmax op outside every model module), else ``unattributed``.

``attribute`` also uses execution order: an otherwise unattributed op that runs after a post-processing
op in the same run (the layout transpose of upsampled logits, the cast of the labels) is charged to
``postprocess``; before that point, unattributed ops are layout glue (e.g. an NCHW output transpose).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from seaformer_deploy.bench.measures import OpProfile

UNATTRIBUTED = "unattributed"
GAP = "gap"
POSTPROCESS = "postprocess"
MODULE_KEYS = (
    "stem",
    "smb1",
    "smb2",
    "smb3",
    "smb4",
    "smb5",
    "trans{i}.block{j}.attn",
    "trans{i}.block{j}.mlp",
    "head.fuse{k}",
    "head.linear_fuse",
    "head.conv_seg",
    "cls.pool",
    "cls.linear",
    POSTPROCESS,
    UNATTRIBUTED,
)
"""The vocabulary ``module_of`` returns from (placeholders stand for stage, block and fusion numbers)."""

_POSTPROCESS_ATTRIBUTES = r"post_?process\w*|resize\w*|upsample\w*|argmax\w*"
_POSTPROCESS_OPS = ("resize", "argmax", "upsample")


def _attribute(segment: str, pattern: str) -> re.Match[str] | None:
    # ONNX segments are the attribute itself ("smb1", "transformer_blocks.0"); TFLite segments end with
    # "_<attribute>" after the class path, so an attribute is whatever follows the last "." or "_".
    return re.fullmatch(rf"(?:.*[._])?(?:{pattern})", segment)


def _module_of_path(segments: list[str]) -> str | None:
    for position, segment in enumerate(segments):
        rest = segments[position + 1 :]
        if match := _attribute(segment, r"smb(\d+)"):
            if match.group(1) == "1" and any(_attribute(item, "stem_block") for item in rest):
                return "stem"
            return f"smb{int(match.group(1))}"
        if match := _attribute(segment, r"trans(\d+)"):
            block = _attribute(rest[0], r"(\d+)") if rest else None
            if block is None:
                return None
            part = "mlp" if any(_attribute(item, "mlp") for item in rest[1:2]) else "attn"
            return f"trans{int(match.group(1))}.block{int(block.group(1))}.{part}"
        if match := _attribute(segment, r"fuse(\d+)"):
            return f"head.fuse{int(match.group(1))}"
        for attribute, key in (
            ("linear_fuse", "head.linear_fuse"),
            ("conv_seg", "head.conv_seg"),
            ("avgpool", "cls.pool"),
            ("linear", "cls.linear"),
            (_POSTPROCESS_ATTRIBUTES, POSTPROCESS),
        ):
            if _attribute(segment, attribute):
                return key
    return None


def _is_postprocess_op(op: str) -> bool:
    letters = "".join(ch for ch in op.lower() if ch.isalpha())
    return letters.startswith(_POSTPROCESS_OPS)


@lru_cache(maxsize=4096)
def module_of(name: str, op_type: str | None = None) -> str:
    """The SeaFormer module key of an op name (see the module docstring); ``op_type`` helps spot resizes."""
    if name.startswith("/"):
        *path, last = name.strip("/").split("/")
        locations = [path]
        op_hints = [last, op_type or ""]
    else:
        parts = [part for part in name.split(";") if part and not part.isdigit()]
        locations = [part.split("/") for part in parts]
        op_hints = [op_type or ""]
    for segments in locations:
        key = _module_of_path(segments)
        if key is not None:
            return key
    if any(_is_postprocess_op(hint) for hint in op_hints):
        return POSTPROCESS
    return UNATTRIBUTED


@dataclass(frozen=True)
class ModuleRow:
    """Mean time per run of one module's ops, its share of end-to-end latency, and ops per run."""

    module: str
    us_per_run: float
    pct: float
    op_count: int


@dataclass(frozen=True)
class ModuleTable:
    """Per-module latency; the ``unattributed`` and ``gap`` (e2e minus sum of ops) rows close it to 100%."""

    engine: str
    kernel_mode: str
    e2e_us: float
    sum_of_ops_us: float
    rows: tuple[ModuleRow, ...]

    def row(self, module: str) -> ModuleRow | None:
        return next((row for row in self.rows if row.module == module), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "kernel_mode": self.kernel_mode,
            "e2e_us": self.e2e_us,
            "sum_of_ops_us": self.sum_of_ops_us,
            "modules": [asdict(row) for row in self.rows],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModuleTable:
        return cls(engine=data["engine"], kernel_mode=data["kernel_mode"], e2e_us=data["e2e_us"],
                   sum_of_ops_us=data["sum_of_ops_us"], rows=tuple(ModuleRow(**row) for row in data["modules"]))


def attribute(profile: OpProfile, names_by_node: dict[int, str] | None = None) -> ModuleTable:
    """Group a profile's op times by SeaFormer module.

    An event's name is taken from ``names_by_node`` (by node index) if given, else from the profile's own
    ``node_names``, else the event name. Modules are listed in execution order, then ``unattributed``
    and ``gap``; percentages are of the mean end-to-end time.
    """
    lookup = names_by_node if names_by_node is not None else profile.node_names
    runs = max(profile.runs, 1)
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    postprocessing_runs: set[int] = set()
    for event in profile.events:
        name = lookup.get(event.node_index, event.name) if event.node_index is not None else event.name
        key = module_of(name, event.op_type)
        if key == POSTPROCESS:
            postprocessing_runs.add(event.run)
        elif key == UNATTRIBUTED and event.run in postprocessing_runs:
            key = POSTPROCESS
        totals[key] = totals.get(key, 0.0) + event.elapsed_us / runs
        counts[key] = counts.get(key, 0) + 1
    e2e = sum(profile.e2e_us) / runs if profile.e2e_us else 0.0
    ops = sum(totals.values())
    unattributed = totals.pop(UNATTRIBUTED, 0.0)
    unattributed_count = counts.pop(UNATTRIBUTED, 0)

    def pct(value: float) -> float:
        return 100.0 * value / e2e if e2e > 0 else 0.0

    rows = [ModuleRow(key, value, pct(value), round(counts[key] / runs)) for key, value in totals.items()]
    rows.append(ModuleRow(UNATTRIBUTED, unattributed, pct(unattributed), round(unattributed_count / runs)))
    rows.append(ModuleRow(GAP, e2e - ops, pct(e2e - ops), 0))
    return ModuleTable(profile.engine, profile.kernel_mode, e2e, ops, tuple(rows))

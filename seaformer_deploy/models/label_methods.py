"""The label-map methods by name (no torch here: the command line lists them without loading torch).

Where each method takes the argmax, in input pixels per label (logits are at 1/8): ``exact`` 1 (bilinear to
the input size, as mmseg evaluates), ``half`` 2, ``quarter`` 4, ``fast`` 8 (the logits' own grid). The
default is the fastest method within 0.3 mIoU of ``exact`` on the demo scenes with the demo weights
(``benchmarks/label_methods.py``; the numbers are in ``docs/performance.md``).
"""

from __future__ import annotations

from typing import Literal

from seaformer_deploy.errors import UsageError

LabelsMethod = Literal["exact", "half", "quarter", "fast"]
LABEL_METHODS: tuple[str, ...] = ("exact", "half", "quarter", "fast")
DEFAULT_LABELS_METHOD: LabelsMethod = "quarter"
ARGMAX_STRIDE = {"exact": 1, "half": 2, "quarter": 4, "fast": 8}


def check_labels_method(method: str) -> LabelsMethod:
    """Return ``method`` if it names a label-map method, else raise a UsageError listing them."""
    if method not in LABEL_METHODS:
        raise UsageError(f"unknown labels method {method!r}: choose one of {', '.join(LABEL_METHODS)}")
    return method  # type: ignore[return-value]

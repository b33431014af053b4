"""How numbers read in every output (console, markdown, HTML): one spelling per kind of number."""

from __future__ import annotations

from seaformer_deploy.report.compare import Comparison


def ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def signed_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def signed_pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def p_value(value: float | None) -> str:
    return "-" if value is None else f"{value:.2g}"


def miou_points(value: float | None) -> str:
    """An mIoU fraction as percentage points (``38.12``)."""
    return "-" if value is None else f"{100 * value:.2f}"


def change_text(comparison: Comparison) -> str:
    return "-" if comparison.latency is None else comparison.latency.change_text()


def p_text(comparison: Comparison) -> str:
    """The p-value of the direction the median moved in."""
    test = comparison.latency
    if test is None:
        return "-"
    return p_value(test.p_slower if test.change >= 0 else test.p_faster)


def miou_delta_text(comparison: Comparison) -> str:
    accuracy = comparison.accuracy
    return "-" if accuracy is None else f"{-accuracy.drop_points:+.2f} pts"


FILTERS = {"ms": ms, "signed_ms": signed_ms, "signed_pct": signed_pct, "pct": pct, "p_value": p_value,
           "miou_points": miou_points, "change_text": change_text, "p_text": p_text,
           "miou_delta_text": miou_delta_text}

"""Charts of the certified bounds: measured generalization gaps against their bounds, and ρ.

The bounds hold at every step, so a measured gap above its bound means a bug in the metrics.
ρ(x) = δ(x)/γ* compares an input's non-equivariant residual with the canonical margin, so
inputs with ρ < 1 are certified correct, and the guide line marks ρ = 1.
"""

from __future__ import annotations

from grok_tui.widgets.curves import Series, StepChart

GAP_COLOR = "cyan"
BOUND_COLOR = "red"
LOSS_GAP_COLOR = "green"
LOSS_BOUND_COLOR = "magenta"


class GapChart(StepChart):
    """Accuracy gap and its bound (left axis), loss gap and its bound in nats (right axis).

    Lower-case markers are the measured gaps, upper-case ones their bounds.
    """

    TITLES = (
        "gap<=bound: acc a<=A, loss l<=L",
        "acc a<=A  loss l<=L (right)",
        "acc a<=A  loss l<=L",
        "a<=A acc l<=L loss",
    )
    SERIES = (
        Series("acc_gap", "a", GAP_COLOR),
        Series("acc_gap_bound", "A", BOUND_COLOR),
        Series("loss_gap", "l", LOSS_GAP_COLOR, right_axis=True),
        Series("loss_gap_bound", "L", LOSS_BOUND_COLOR, right_axis=True),
    )


class RhoChart(StepChart):
    """Median and maximum ρ over test inputs, on a log10 axis, against the line ρ = 1.

    ρ is missing while the canonical margin γ* is not positive, and those steps are left out.
    """

    TITLES = (
        "ρ over test  o median  x max",
        "ρ  o median  x max",
        "ρ o median x max",
    )
    SERIES = (
        Series("rho_median", "o", GAP_COLOR, log=True),
        Series("rho_max", "x", BOUND_COLOR, log=True),
    )
    LOG_THRESHOLD = 1.0

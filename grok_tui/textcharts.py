"""Plain-text line charts of a run's metrics for Markdown reports, drawn with plotext.

Charts come out as uncoloured text with no ANSI codes, sized in characters. Each series gets
its own marker character, because braille or block markers look alike once colours are gone.
In ASCII mode the box-drawing frame is replaced by ``+ - |`` as well, so the chart can be
written to any output encoding.

Log axes are drawn by hand: the chart plots log10 of the values on linear axes and labels the
ticks with the original values, because the log-scale axes of plotext 5 crash on re-render.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import plotext as plt

DEFAULT_HEIGHT = 18  # rows per chart, frame and labels included
MIN_WIDTH = 40  # narrower charts have no room for the y tick labels and a curve

# ASCII spellings of the report's Greek letters and symbols, and of every character plotext
# 5.3 draws for frames, ticks and the hline/vline lines
_ASCII_SPELLINGS = str.maketrans({
    "ε": "eps", "ρ": "rho", "γ": "gamma", "δ": "delta", "λ": "lambda", "β": "beta",
    "†": "+", "≥": ">=", "≤": "<=", "×": "x", "–": "-", "—": "-", "…": "...", "·": "-",
    "┌": "+", "┐": "+", "└": "+", "┘": "+", "┤": "+", "├": "+", "┼": "+", "┬": "+",
    "┴": "+", "─": "-", "│": "|",
})  # fmt: skip


def to_ascii(text: str) -> str:
    """Spell Greek letters, symbols and box-drawing in ASCII; escape any other non-ASCII."""
    return text.translate(_ASCII_SPELLINGS).encode("ascii", "backslashreplace").decode("ascii")


@dataclass(frozen=True)
class Series:
    """One curve: (x, y) points already on the chart's axes, with a legend label and marker."""

    label: str
    x: list[float]
    y: list[float]
    marker: str


@dataclass
class ChartSpec:
    """A chart: its title, curves, axis limits and tick labels, and reference lines."""

    title: str  # short enough to fit above the chart, which drops longer titles
    caption: str  # one sentence for the text around the chart: what is drawn, in which units
    series: list[Series]
    y_limits: tuple[float, float] | None = None
    x_ticks: tuple[list[float], list[str]] | None = None
    y_ticks: tuple[list[float], list[str]] | None = None
    x_limits: tuple[float, float] | None = None
    hlines: list[float] = field(default_factory=list)  # horizontal lines at these y values
    vlines: list[float] = field(default_factory=list)  # vertical lines at these x values
    x_label: str = "step"


def render_chart(
    spec: ChartSpec, width: int, height: int = DEFAULT_HEIGHT, ascii_only: bool = False
) -> str:
    """Draw a chart as plain text, ``width`` by ``height`` characters.

    Args:
        spec: what to draw. Series without points are left out of the chart and its legend.
        width: characters per line, at least ``MIN_WIDTH``.
        height: lines of text.
        ascii_only: write only ASCII: labels spelled out (eps, rho), the frame drawn with
            ``+ - |`` instead of box-drawing characters.

    Returns:
        The chart, lines without trailing spaces, or a one-line note when no series has points.
    """
    # labels are spelled in ASCII before plotting, so that the frame stays aligned
    spell = to_ascii if ascii_only else str
    drawn = [series for series in spec.series if series.x]
    if not drawn:
        return spell(f"{spec.title}: no values to plot")

    plt.clear_figure()
    plt.plotsize(max(width, MIN_WIDTH), height)
    plt.theme("clear")
    plt.title(spell(spec.title))
    plt.xlabel(spec.x_label)
    for series in drawn:
        plt.plot(series.x, series.y, marker=series.marker, label=spell(series.label))
    for y in spec.hlines:
        plt.hline(y)
    for x in spec.vlines:
        plt.vline(x)
    if spec.x_limits is not None:
        plt.xlim(*spec.x_limits)
    if spec.y_limits is not None:
        plt.ylim(*spec.y_limits)
    if spec.x_ticks is not None:
        plt.xticks(*spec.x_ticks)
    if spec.y_ticks is not None:
        plt.yticks(*spec.y_ticks)

    text = plt.uncolorize(plt.build())
    plt.clear_figure()
    if ascii_only:
        text = to_ascii(text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


# log axes


def log_step(step: float) -> float:
    """Return the position of ``step`` on a log step axis: log10(step + 1), so step 0 sits at 0."""
    return math.log10(step + 1)


def format_count(value: float) -> str:
    """Format a step count for a tick label: 0, 20, 500, 1k, 20k, 1M."""
    for divisor, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= divisor:
            return f"{value / divisor:g}{suffix}"
    return f"{value:g}"


def log_step_ticks(max_step: float, max_ticks: int = 9) -> tuple[list[float], list[str]]:
    """Return tick positions and labels for a log step axis from 0 to ``max_step``.

    Ticks fall on 0 and on 1, 2 and 5 times the powers of ten. Beyond ``max_ticks`` ticks, the
    2 and 5 ticks are kept only in the last decade, where a log axis crowds the most steps.
    """
    candidates = [0.0]
    decade = 1.0
    while decade <= max(max_step, 1):
        candidates += [decade * factor for factor in (1, 2, 5) if decade * factor <= max_step]
        decade *= 10
    if len(candidates) > max_ticks:
        last_decade = 10 ** math.floor(math.log10(max(max_step, 1)))
        candidates = [
            value
            for value in candidates
            if value == 0 or value >= last_decade or math.log10(value).is_integer()
        ]
    return [log_step(value) for value in candidates], [format_count(value) for value in candidates]


def format_power(exponent: int) -> str:
    """Format 10**exponent for a tick label: 0.001, 0.1, 1, 100, 1e+04."""
    return f"{10.0**exponent:g}"


def log_value_ticks(low: float, high: float, max_ticks: int = 8) -> tuple[list[float], list[str]]:
    """Return ticks at the powers of ten between log10 values ``low`` and ``high``.

    Every power of ten gets a tick when at most ``max_ticks`` fit, else every second or more.
    """
    first, last = math.floor(low), math.ceil(high)
    stride = max(1, math.ceil((last - first + 1) / max_ticks))
    exponents = list(range(first, last + 1, stride))
    return [float(e) for e in exponents], [format_power(e) for e in exponents]


# the report's charts of one run


def _curve(
    records: Sequence[dict[str, Any]], key: str, label: str, marker: str, log_values: bool = False
) -> Series:
    """Collect one metric over a log step axis; missing, non-finite and, on a log value axis,
    non-positive values are left out."""
    x, y = [], []
    for record in records:
        value = record.get(key)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        if log_values:
            if value <= 0:
                continue
            value = math.log10(value)
        x.append(log_step(record["step"]))
        y.append(float(value))
    return Series(label, x, y, marker)


def _log_value_spec(
    title: str, caption: str, series: list[Series], hlines: list[float], x_axis: dict[str, Any]
) -> ChartSpec:
    """Build a chart of log10 values with ticks at the powers of ten that the data spans."""
    values = [v for s in series for v in s.y] + hlines
    y_ticks = log_value_ticks(min(values), max(values)) if values else None
    limits = (y_ticks[0][0], y_ticks[0][-1]) if y_ticks and len(y_ticks[0]) > 1 else None
    return ChartSpec(title, caption, series, limits, y_ticks=y_ticks, hlines=hlines, **x_axis)


def run_chart_specs(records: Sequence[dict[str, Any]], grok_step: int | None) -> list[ChartSpec]:
    """Build the report's charts of one run: accuracy, deviation, gaps against bounds, and ρ.

    All share one log step axis from step 0 to the last record. The accuracy chart marks the
    grok step with a vertical line.
    """
    records = sorted(
        (r for r in records if isinstance(r.get("step"), int)), key=lambda r: r["step"]
    )
    max_step = max(records[-1]["step"], 1) if records else 1
    x_axis = {"x_ticks": log_step_ticks(max_step), "x_limits": (0.0, log_step(max_step))}
    unit_ticks = ([0.0, 0.25, 0.5, 0.75, 1.0], ["0", "0.25", "0.5", "0.75", "1"])

    accuracy_caption = "Train and test accuracy."
    grok_lines = []
    if grok_step is not None:
        accuracy_caption += f" The vertical line marks the grok step {grok_step}."
        grok_lines.append(log_step(grok_step))
    accuracy = ChartSpec(
        "accuracy",
        accuracy_caption,
        [
            _curve(records, "train_acc", "train accuracy", "+"),
            _curve(records, "test_acc", "test accuracy", "*"),
        ],
        (0.0, 1.0),
        y_ticks=unit_ticks,
        vlines=grok_lines,
        **x_axis,
    )
    # ε_top >= ε_eq, so ε_eq is drawn last to stay visible where the two coincide
    deviation = ChartSpec(
        "deviation",
        "Deviation ε_eq from the equivariant tables and ε_top from the canonical logits of the "
        "top-m frequencies, as fractions of the logit energy.",
        [
            _curve(records, "eps_top", "ε_top", "+"),
            _curve(records, "eps_eq", "ε_eq", "*"),
        ],
        (0.0, 1.0),
        y_ticks=unit_ticks,
        **x_axis,
    )
    accuracy_gap = ChartSpec(
        "accuracy gap and bound",
        "Measured accuracy gap (train minus test accuracy) and its certified upper bound; a "
        "bound below the gap would be a bug.",
        [
            _curve(records, "acc_gap_bound", "bound", "+"),
            _curve(records, "acc_gap", "measured gap", "*"),
        ],
        (-1.0, 1.0),
        y_ticks=([-1.0, -0.5, 0.0, 0.5, 1.0], ["-1", "-0.5", "0", "0.5", "1"]),
        **x_axis,
    )
    loss_gap = _log_value_spec(
        "loss gap and bound (nats)",
        "Measured loss gap (test minus train loss, nats) and its certified upper bound, on a "
        "log axis that leaves out values <= 0.",
        [
            _curve(records, "loss_gap_bound", "bound", "+", log_values=True),
            _curve(records, "loss_gap", "measured gap", "*", log_values=True),
        ],
        [],
        x_axis,
    )
    rho = _log_value_spec(
        "ρ over test inputs",
        "Median and max of ρ = δ/γ* over the test inputs on a log axis: inputs below the line "
        "ρ = 1 are certified correct. ρ is undefined while the margin γ* <= 0.",
        [
            _curve(records, "rho_max", "max ρ", "+", log_values=True),
            _curve(records, "rho_median", "median ρ", "*", log_values=True),
        ],
        [0.0],
        x_axis,
    )
    return [accuracy, deviation, accuracy_gap, loss_gap, rho]

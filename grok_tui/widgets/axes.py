"""Axis positions and tick labels for charts that plotext draws on linear axes.

plotext 5.x crashes when a log-scale axis is drawn again after a resize, so every log axis here
is a linear axis over log10 of the data, with ticks placed and labelled by these helpers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# values at or below this are drawn at this height on a log10 axis (a loss can underflow to 0)
LOG_FLOOR = 1e-12
_NICE_STEPS = (1, 2, 5)


def step_position(step: int, log: bool) -> float:
    """Return the x position of ``step``: log10(step + 1) on a log axis, else the step."""
    return math.log10(step + 1) if log else float(step)


def log_value(value: float) -> float:
    """Return log10 of ``value``, treating values at or below ``LOG_FLOOR`` as the floor."""
    return math.log10(max(value, LOG_FLOOR))


def format_step(step: float) -> str:
    """Format a step count compactly: 950, 1k, 1.5k, 20k, 1M."""
    step = round(step)
    for scale, suffix in ((1_000_000, "M"), (1_000, "k")):
        if step >= scale:
            return f"{step / scale:.3g}{suffix}"
    return str(step)


def format_power_of_ten(exponent: int) -> str:
    """Format 10**exponent as a short label: 1e-3, 0.01, 0.1, 1, 10, 100, 1e3."""
    if 0 <= exponent <= 2:
        return str(10**exponent)
    if -2 <= exponent < 0:
        return f"{10.0**exponent:g}"
    return f"1e{exponent}"


def step_ticks(first_step: int, last_step: int, log: bool) -> tuple[list[float], list[str]]:
    """Return tick positions and labels for a step axis from ``first_step`` to ``last_step``.

    A log axis gets the powers of ten (1, 10, 100, 1k, ...) in range. A linear axis gets about
    four multiples of 1, 2 or 5 times a power of ten.
    """
    if log:
        steps = []
        power = 1
        while power <= max(last_step, 1):
            if power >= first_step:
                steps.append(power)
            power *= 10
    else:
        steps = _linear_ticks(first_step, last_step)
    return [step_position(step, log) for step in steps], [format_step(step) for step in steps]


def _linear_ticks(first: int, last: int, target_count: int = 4) -> list[int]:
    """Return round steps (multiples of 1, 2 or 5 times a power of ten) from first to last."""
    span = max(last - first, 1)
    magnitude = 10 ** max(int(math.floor(math.log10(span / target_count))), 0)
    spacing = next(
        (nice * magnitude for nice in _NICE_STEPS if span / (nice * magnitude) <= target_count),
        10 * magnitude,
    )
    start = math.ceil(first / spacing) * spacing
    return list(range(start, last + 1, spacing))


def log_value_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Return tick positions and labels for a log10 value axis spanning [low, high] (in log10).

    Ticks sit on powers of ten. A span under three decades also gets ticks at 2 and 5 times
    each power, so that short axes show more than one or two labels.
    """
    exponents = range(math.floor(low), math.ceil(high) + 1)
    positions = [float(e) for e in exponents if low - 1e-9 <= e <= high + 1e-9]
    labels = [format_power_of_ten(round(e)) for e in positions]
    if high - low < 3:
        extra = [
            (math.log10(factor) + e, f"{factor * 10.0**e:g}")
            for e in exponents
            for factor in (2, 5)
            if low <= math.log10(factor) + e <= high
        ]
        merged = sorted([*zip(positions, labels, strict=True), *extra])
        positions = [position for position, _ in merged]
        labels = [label for _, label in merged]
    return positions, labels


def padded_range(values: Sequence[float], minimum_span: float = 1.0) -> tuple[float, float]:
    """Return (low, high) covering ``values``, widened to at least ``minimum_span``."""
    low, high = min(values), max(values)
    if high - low < minimum_span:
        middle = (low + high) / 2
        low, high = middle - minimum_span / 2, middle + minimum_span / 2
    return low, high


def spread_ticks(
    positions: list[float], labels: list[str], low: float, high: float, rows: int
) -> tuple[list[float], list[str]]:
    """Keep only ticks at least two rows apart on an axis of ``rows`` rows from low to high.

    Ticks at whole positions (powers of ten on a log10 axis) are kept first. plotext draws
    every tick it is given, and where two share a row, which label shows varies between runs.
    """
    span = max(high - low, 1e-12)

    def row(position: float) -> int:
        return round((position - low) / span * (rows - 1))

    order = sorted(range(len(positions)), key=lambda i: (positions[i] != round(positions[i]), i))
    kept_indices: list[int] = []
    for index in order:
        if all(abs(row(positions[index]) - row(positions[other])) >= 2 for other in kept_indices):
            kept_indices.append(index)
    kept_indices.sort()
    return [positions[i] for i in kept_indices], [labels[i] for i in kept_indices]

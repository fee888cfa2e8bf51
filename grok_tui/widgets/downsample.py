"""The records a chart draws: all are kept, at most about the chart width are drawn."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

from engine.metrics import GROK_THRESHOLD
from grok_tui.widgets.axes import step_position


def nearest_indices(positions: Sequence[float], targets: Sequence[float]) -> list[int]:
    """Return, for each target, the index of the nearest position (ties go to the earlier one).

    Args:
        positions: ascending axis positions of the records, at least one.
        targets: axis positions to look up.
    """
    last = len(positions) - 1
    indices = []
    for target in targets:
        right = min(bisect_left(positions, target), last)
        left = max(right - 1, 0)
        nearer_left = abs(target - positions[left]) <= abs(positions[right] - target)
        indices.append(left if nearer_left else right)
    return indices


def evenly_spaced(first: float, last: float, count: int) -> list[float]:
    """Return ``count`` positions from ``first`` to ``last`` inclusive, evenly spaced."""
    if count <= 1:
        return [last]
    width = (last - first) / (count - 1)
    return [first + i * width for i in range(count)]


def pick_indices(positions: Sequence[float], max_points: int) -> list[int]:
    """Pick at most ``max_points`` record indices spread evenly along the axis.

    Every record is kept when there are few enough. Otherwise the records nearest to
    ``max_points`` evenly spaced axis positions are kept, so dense early evaluations on a log
    step axis do not crowd out later ones. The first and last records are always kept.

    Args:
        positions: ascending axis positions of the records (log10(step + 1) or the step).
        max_points: the maximum number of points to draw, usually the chart width in cells.

    Returns:
        Ascending indices into ``positions``, without repeats.
    """
    count = len(positions)
    if count <= max_points:
        return list(range(count))
    if max_points < 2:
        return [count - 1]
    targets = evenly_spaced(positions[0], positions[-1], max_points)
    chosen = sorted(set(nearest_indices(positions, targets)) | {0, count - 1})
    return chosen


class RecordHistory:
    """Every metrics record of a run, in step order, shared by the charts that draw it.

    All records stay in memory (a record is a few kilobytes and a run has one per evaluation).
    The log and linear step positions are extended as records arrive, so choosing what to
    draw costs O(width * log records) per redraw.

    NOTE: records must arrive in ascending step order, as the training loop and the metrics log
    produce them; the nearest-record search relies on it.
    """

    def __init__(self, records: Iterable[dict[str, Any]] = ()) -> None:
        self.records: list[dict[str, Any]] = []
        self.grok_step: int | None = None  # first step with test accuracy >= GROK_THRESHOLD
        self._positions: dict[bool, list[float]] = {True: [], False: []}
        self.replace(records)

    def __len__(self) -> int:
        """Return the number of records."""
        return len(self.records)

    def replace(self, records: Iterable[dict[str, Any]]) -> None:
        """Replace all records with ``records``."""
        self.records = []
        self.grok_step = None
        self._positions = {True: [], False: []}
        for record in records:
            self.append(record)

    def append(self, record: dict[str, Any]) -> None:
        """Add the record of the next evaluation."""
        self.records.append(record)
        if self.grok_step is None and record.get("test_acc", 0.0) >= GROK_THRESHOLD:
            self.grok_step = record["step"]
        for log, positions in self._positions.items():
            positions.append(step_position(record["step"], log))

    def positions(self, log: bool) -> list[float]:
        """Return the step-axis position of every record (log10(step + 1) when ``log``)."""
        return self._positions[log]

    def sample(self, max_points: int, log: bool) -> list[dict[str, Any]]:
        """Return at most ``max_points`` records spread evenly along the step axis."""
        return [self.records[i] for i in pick_indices(self.positions(log), max_points)]

    def columns(self, count: int, log: bool) -> list[dict[str, Any]]:
        """Return one record per column of a ``count``-column grid over the step axis.

        Column i shows the record nearest to its position, so a record may fill several
        columns where evaluations are sparse on the axis.
        """
        positions = self.positions(log)
        if not positions or count < 1:
            return []
        targets = evenly_spaced(positions[0], positions[-1], count)
        return [self.records[i] for i in nearest_indices(positions, targets)]

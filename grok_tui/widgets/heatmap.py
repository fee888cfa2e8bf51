"""The alignment heatmap: energy per Fourier frequency over training, as shaded text.

The heatmap is a Rich ``Text`` of shade characters rather than a plotext matrix plot, because
plotext colours the cells of a matrix plot and nothing else, so without colour (NO_COLOR,
TERM=linux) it would be blank. Here each cell's character encodes the energy, and colour only
repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from grok_tui.widgets.axes import step_position, step_ticks
from grok_tui.widgets.downsample import RecordHistory

SHADES = " .:-=+*#%@"
# one colour per shade, dark blue to yellow
SHADE_COLORS = (
    "#202040", "#2c3e7a", "#2a5d9a", "#23789c", "#1f9190",
    "#2eaa7b", "#5cc05c", "#95d33c", "#cfe02a", "#fde725",
)  # fmt: skip
_SHADE_STYLES = tuple(Style(color=color) for color in SHADE_COLORS)
TOP_COUNT = 5  # frequencies named under the heatmap


@dataclass(frozen=True)
class HeatmapSource:
    """A per-frequency quantity of the record that the heatmap can show."""

    key: str
    label: str


SOURCES = (
    HeatmapSource("embedding_energy", "embedding"),
    HeatmapSource("unembedding_energy", "unembedding"),
    HeatmapSource("profile_power", "logit profile"),
)


def shares_without_dc(values: list[float]) -> list[float]:
    """Return the values of frequencies k >= 1 as shares of their sum (all 0 if the sum is 0).

    The DC term (k = 0) is left out: it is the mean over the group, not a frequency, and a
    constant offset would otherwise swamp the other frequencies.
    """
    rest = values[1:]
    total = sum(rest)
    if not total > 0:
        return [0.0] * len(rest)
    return [value / total for value in rest]


def frequency_bins(count: int, rows: int) -> list[tuple[int, int]]:
    """Split frequencies 1..count into min(count, rows) contiguous (first, last) bins.

    Bin sizes differ by at most one, so all available rows are used.
    """
    bins_count = max(1, min(count, rows))
    starts = [1 + index * count // bins_count for index in range(bins_count + 1)]
    return [(starts[i], starts[i + 1] - 1) for i in range(bins_count)]


def top_frequencies(shares: list[float], count: int) -> list[tuple[int, float]]:
    """Return the ``count`` (frequency, share) pairs of largest share, largest first."""
    ranked = sorted(enumerate(shares, start=1), key=lambda item: (-item[1], item[0]))
    return ranked[:count]


class FrequencyHeatmap(Widget):
    """Per-frequency energy (k >= 1, renormalised) against the step, with the top frequencies.

    Rows are frequencies from k = 1 at the top; when there are more frequencies than rows, a
    row shows the largest share within its bin of frequencies. Columns are evaluations placed
    on the step axis. Shades run from ' ' (no energy) to '@' (the largest share shown).
    """

    DEFAULT_CSS = """
    FrequencyHeatmap {
        height: 1fr;
        min-height: 6;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    FOOTER_LINES = 3  # step axis, shade scale, top frequencies

    def __init__(self, history: RecordHistory, *, id: str | None = None) -> None:
        """Create a heatmap of ``history``.

        Args:
            history: the records to draw; the heatmap reads it on every redraw.
            id: the widget id.
        """
        super().__init__(id=id)
        self.history = history
        self.log_axis = True
        self.source_index = 0

    @property
    def source(self) -> HeatmapSource:
        """The quantity shown now."""
        return SOURCES[self.source_index]

    def cycle_source(self) -> None:
        """Show the next quantity: embedding, unembedding, logit profile, then embedding."""
        self.source_index = (self.source_index + 1) % len(SOURCES)
        self.refresh()

    def render(self) -> Text:
        """Render the title, the shaded grid, the step axis, the scale and the top frequencies."""
        width, height = self.size.width, self.size.height
        title = Text(f"{self.source.label} energy (h)", style="bold")
        records = self.history.records
        if not records:
            return Text.assemble(title, "\nwaiting for the first evaluation")

        frequency_count = len(records[-1][self.source.key]) - 1
        bins = frequency_bins(frequency_count, height - 1 - self.FOOTER_LINES)
        label_width = max(len(_bin_label(first, last)) for first, last in bins) + 1
        columns = self._column_shares(max(width - label_width, 1))
        peak = max((max(shares, default=0.0) for shares in columns), default=0.0)

        lines = [title]
        for first, last in bins:
            line = Text(_bin_label(first, last).rjust(label_width - 1) + " ", style="dim")
            for shares in columns:
                value = max(shares[first - 1 : last], default=0.0)
                line.append(*_shade(value, peak))
            lines.append(line)
        lines.append(Text(" " * label_width + self._axis_line(len(columns)), style="dim"))
        lines.append(Text(f"'{SHADES}' = 0 to {peak:.2f}", style="dim"))
        lines.append(self._top_line(width))
        return Text("\n").join(lines)

    def _column_shares(self, count: int) -> list[list[float]]:
        """Return the k >= 1 shares of the record shown in each of ``count`` columns."""
        records = self.history.columns(count, self.log_axis)
        return [shares_without_dc(record.get(self.source.key) or [0.0]) for record in records]

    def _axis_line(self, count: int) -> str:
        """Return a line of step labels under the grid, placed at their column."""
        records = self.history.records
        first, last = records[0]["step"], records[-1]["step"]
        low = step_position(first, self.log_axis)
        high = step_position(last, self.log_axis)
        cells = [" "] * count
        free_from = 0
        for position, label in zip(*step_ticks(first, last, self.log_axis), strict=True):
            column = 0 if high <= low else round((position - low) / (high - low) * (count - 1))
            column = min(column, count - len(label))
            if column < free_from or column < 0:
                continue
            cells[column : column + len(label)] = label
            free_from = column + len(label) + 1
        return "".join(cells)

    def _top_line(self, width: int) -> Text:
        """Return as many of the top frequencies at the latest record, with shares, as fit."""
        latest = self.history.records[-1].get(self.source.key) or [0.0]
        line = Text("top k: ", style="bold")
        for k, share in top_frequencies(shares_without_dc(latest), TOP_COUNT):
            entry = f"{k} {share:.0%}  "
            if share < 0.005 or len(line) + len(entry.rstrip()) > width:
                break  # the rest round to 0% or do not fit
            line.append(entry)
        line.rstrip()
        return line


def _bin_label(first: int, last: int) -> str:
    """Return the row label of frequencies first..last."""
    return str(first) if first == last else f"{first}-{last}"


def _shade(value: float, peak: float) -> tuple[str, Style]:
    """Return the shade character of ``value`` on a scale from 0 to ``peak``, and its colour."""
    level = 0 if peak <= 0 else min(len(SHADES) - 1, round(value / peak * (len(SHADES) - 1)))
    return SHADES[level], _SHADE_STYLES[level]

"""The clock: a checkpoint's operand embedding on the cos/sin plane of one key frequency."""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

LABELS_PER_CLOCK = 14  # residue labels drawn at most, so that n = 113 stays legible
CELL_ASPECT = 2.0  # a terminal cell is about twice as tall as it is wide


class ClockPlot(PlotextPlot):
    """Scatter plot of the embedding rows projected onto the plane of frequency k.

    A model that has grokked places element g at angle about 2πkg/n, so the points lie in
    order on a circle. Points are labelled by residue, a subset of them for large n.
    """

    DEFAULT_CSS = """
    ClockPlot {
        height: 1fr;
        min-height: 8;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """Create an empty clock.

        Args:
            id: the widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self.points: list[tuple[float, float]] = []
        self.residues: list[int] = []
        self.frequency: int | None = None
        self.message = "choose a checkpoint"

    def set_points(
        self, points: list[tuple[float, float]], residues: list[int], frequency: int
    ) -> None:
        """Show new points.

        Args:
            points: (x, y) of each group element, in group-coordinate order.
            residues: the residue of each point, used as its label.
            frequency: the key frequency k whose plane the points lie on.
        """
        self.points = list(points)
        self.residues = list(residues)
        self.frequency = frequency
        self.message = ""
        self.refresh()

    def show_message(self, message: str) -> None:
        """Clear the points and show ``message`` as the title instead."""
        self.points = []
        self.residues = []
        self.frequency = None
        self.message = message
        self.refresh()

    def render(self):
        """Draw the points, their labels and axes scaled so that a circle looks round."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if not self.points:
            plt.title(self.message)
            return super().render()

        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        radius = max(math.hypot(x, y) for x, y in self.points) or 1.0
        x_half, y_half = self._axis_halves(radius * 1.15)
        plt.xlim(-x_half, x_half)
        plt.ylim(-y_half, y_half)
        plt.scatter(xs, ys, marker="dot")
        step = max(1, math.ceil(len(self.points) / LABELS_PER_CLOCK))
        for index in range(0, len(self.points), step):
            plt.text(str(self.residues[index]), xs[index], ys[index])
        plt.title(f"embedding on the plane of frequency k={self.frequency}")
        plt.xticks([])
        plt.yticks([])
        return super().render()

    def _axis_halves(self, half: float) -> tuple[float, float]:
        """Return x and y half-ranges, at least ``half``, that draw equal units equally long."""
        width = max(self.size.width, 1)
        height = max(self.size.height, 1) * CELL_ASPECT
        if width >= height:
            return half * width / height, half
        return half, half * height / width

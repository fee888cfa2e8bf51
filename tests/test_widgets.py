"""The metrics widgets on their own: axes, downsampling, heatmap, panes and status bar."""

from __future__ import annotations

import asyncio
import math

import pytest
from textual.app import App, ComposeResult

from grok_tui.widgets.axes import (
    format_power_of_ten,
    format_step,
    log_value,
    log_value_ticks,
    step_ticks,
)
from grok_tui.widgets.curves import LossChart
from grok_tui.widgets.downsample import RecordHistory, nearest_indices, pick_indices
from grok_tui.widgets.heatmap import (
    FrequencyHeatmap,
    frequency_bins,
    shares_without_dc,
    top_frequencies,
)
from grok_tui.widgets.panes import MetricsPanes
from grok_tui.widgets.status import format_duration
from tests.test_app import recorded_records


def synthetic_record(step: int, peak_frequency: int = 3, frequencies: int = 5) -> dict:
    """Return a record whose energies sit at DC and at ``peak_frequency`` only."""
    energy = [0.0] * (frequencies + 1)
    energy[0] = 0.5
    energy[peak_frequency] = 0.5
    return {
        "step": step,
        "train_loss": 1.0 / (step + 1),
        "test_loss": 2.0,
        "train_acc": 1.0,
        "test_acc": 0.5,
        "embedding_energy": energy,
        "unembedding_energy": energy,
        "profile_power": energy,
        "eps_eq": 0.5,
    }


class PanesApp(App[None]):
    """An app that shows only the metrics panes."""

    def __init__(self, records: list[dict]) -> None:
        super().__init__()
        self.records = records

    def compose(self) -> ComposeResult:
        yield MetricsPanes(self.records)


def test_format_step_units() -> None:
    assert format_step(950) == "950"
    assert format_step(1000) == "1k"
    assert format_step(1500) == "1.5k"
    assert format_step(20_000) == "20k"
    assert format_step(1_000_000) == "1M"


def test_format_power_of_ten_labels() -> None:
    labels = [format_power_of_ten(exponent) for exponent in range(-4, 4)]
    assert labels == ["1e-4", "1e-3", "0.01", "0.1", "1", "10", "100", "1e3"]


def test_log_step_ticks_powers() -> None:
    positions, labels = step_ticks(0, 5000, log=True)
    assert labels == ["1", "10", "100", "1k"]
    assert positions[1] == pytest.approx(math.log10(11))


def test_linear_step_ticks_round() -> None:
    positions, labels = step_ticks(0, 5000, log=False)
    assert labels == ["0", "2k", "4k"]
    assert positions == [0.0, 2000.0, 4000.0]


def test_log_value_ticks_short_span() -> None:
    _, labels = log_value_ticks(math.log10(0.3), math.log10(40))
    assert labels == ["0.5", "1", "2", "5", "10", "20"]


def test_log_value_floors_zero() -> None:
    assert log_value(0.0) == -12


def test_pick_indices_keeps_all_few() -> None:
    assert pick_indices([0.0, 1.0, 2.0], 10) == [0, 1, 2]


def test_pick_indices_long_run_bounded() -> None:
    positions = [math.log10(step + 1) for step in range(0, 200_000, 2)]
    chosen = pick_indices(positions, 80)
    assert len(chosen) <= 80
    assert chosen[0] == 0
    assert chosen[-1] == len(positions) - 1
    assert chosen == sorted(set(chosen))


def test_pick_indices_spread_log_axis() -> None:
    steps = list(range(0, 10_001, 10))
    log_chosen = pick_indices([math.log10(step + 1) for step in steps], 40)
    linear_chosen = pick_indices([float(step) for step in steps], 40)
    early_log = sum(steps[i] < 1000 for i in log_chosen)
    early_linear = sum(steps[i] < 1000 for i in linear_chosen)
    assert early_log >= 15
    assert early_linear <= 5


def test_nearest_indices_ties_left() -> None:
    assert nearest_indices([0.0, 1.0, 2.0], [0.5, 1.6, 9.0]) == [0, 2, 2]


def test_history_sample_includes_last() -> None:
    history = RecordHistory(synthetic_record(step) for step in range(0, 50_000, 50))
    sample = history.sample(30, log=True)
    assert len(sample) <= 30
    assert sample[-1]["step"] == 49_950


def test_history_tracks_grok_step() -> None:
    records = [synthetic_record(step) for step in (0, 100, 200, 300)]
    records[2]["test_acc"] = 0.995
    history = RecordHistory(records)
    assert history.grok_step == 200


def test_history_columns_one_per_column() -> None:
    history = RecordHistory(synthetic_record(step) for step in (0, 10, 100))
    columns = history.columns(7, log=False)
    assert len(columns) == 7
    assert [record["step"] for record in columns][-1] == 100


def test_shares_exclude_dc() -> None:
    assert shares_without_dc([0.9, 0.05, 0.05]) == [0.5, 0.5]


def test_shares_of_zero_energy() -> None:
    assert shares_without_dc([1.0, 0.0, 0.0]) == [0.0, 0.0]


def test_frequency_bins_cover_all() -> None:
    bins = frequency_bins(56, 19)
    assert len(bins) == 19
    assert bins[0][0] == 1
    assert bins[-1][1] == 56
    assert all(bins[i][1] + 1 == bins[i + 1][0] for i in range(len(bins) - 1))


def test_frequency_bins_one_each() -> None:
    assert frequency_bins(4, 10) == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_top_frequencies_order() -> None:
    assert top_frequencies([0.1, 0.6, 0.3], 2) == [(2, 0.6), (3, 0.3)]


def test_format_duration_forms() -> None:
    assert format_duration(65) == "1:05"
    assert format_duration(3725) == "1:02:05"


def test_heatmap_shades_peak_row() -> None:
    async def scenario() -> list[str]:
        app = PanesApp([synthetic_record(step) for step in (0, 10, 100, 1000)])
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            return app.query_one(FrequencyHeatmap).render().plain.splitlines()

    lines = asyncio.run(scenario())
    rows = {line.split()[0]: line for line in lines[1:6]}
    assert set(rows["3"].split(maxsplit=1)[1]) == {"@"}
    assert rows["1"].strip() == "1"
    assert lines[-1] == "top k: 3 100%"


def test_loss_chart_markers_without_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario() -> tuple[bool, list[str]]:
        app = PanesApp(recorded_records())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            text = app.query_one(LossChart).render().plain.splitlines()
            return app.no_color, text

    no_color, lines = asyncio.run(scenario())
    canvas = "".join(lines[1:])
    assert no_color
    assert "o train" in lines[0]
    assert "x test" in lines[0]
    assert "o" in canvas
    assert "x" in canvas


def test_panes_coalesce_redraws() -> None:
    async def scenario() -> tuple[bool, bool, int]:
        app = PanesApp([])
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            panes = app.query_one(MetricsPanes)
            panes.add_record(synthetic_record(0))
            panes.add_record(synthetic_record(1))
            pending = panes._redraw_timer is not None
            await pilot.pause(2 * MetricsPanes.REDRAW_INTERVAL)
            return pending, panes._redraw_timer is None, len(panes.records)

    pending, settled, count = asyncio.run(scenario())
    assert pending
    assert settled
    assert count == 2


def test_panes_set_records_replaces() -> None:
    async def scenario() -> list[int]:
        app = PanesApp([synthetic_record(step) for step in (0, 1, 2)])
        async with app.run_test(size=(100, 30)) as pilot:
            panes = app.query_one(MetricsPanes)
            panes.set_records([synthetic_record(5)])
            await pilot.pause()
            return [record["step"] for record in panes.records]

    assert asyncio.run(scenario()) == [5]

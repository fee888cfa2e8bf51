"""The run browser driven with Pilot: sort, filter, open, mark and compare, refresh."""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
from collections.abc import Callable, Coroutine
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from engine.runs import CONFIG_FILE, Run
from grok_tui.commands.runs import COLUMNS
from grok_tui.inspect_app import InspectApp
from grok_tui.screens.browser import RunBrowserScreen
from grok_tui.screens.compare import CompareScreen, OverlayPlot
from grok_tui.screens.inspect import InspectScreen
from grok_tui.widgets.size_notice import SizeNotice

SEEDS = {"alpha": 2, "beta": 0, "gamma": 1}


def run_async(test: Callable[..., Coroutine]) -> Callable[..., None]:
    """Turn an async test into a sync one (no async pytest plugin is installed)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def _edit_config(path: Path, **changes) -> None:
    """Change top-level keys of a run's config.json, or config values with ``config``."""
    config_path = path / CONFIG_FILE
    record = json.loads(config_path.read_text(encoding="utf-8"))
    record["config"].update(changes.pop("config", {}))
    record.update(changes)
    config_path.write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture
def runs_folder(grokked_run, tmp_path: Path) -> Path:
    """Three copies of the grokked run with different seeds, and one unreadable run."""
    folder = tmp_path / "runs"
    for name, seed in SEEDS.items():
        shutil.copytree(grokked_run.run.path, folder / name)
        _edit_config(folder / name, config={"seed": seed})
    shutil.copytree(grokked_run.run.path, folder / "newer")
    _edit_config(folder / "newer", format_version=99)
    return folder


def _names(app: InspectApp) -> list[str]:
    """Return the run names in table order."""
    table = app.screen.query_one(DataTable)
    return [Path(row.key.value).name for row in table.ordered_rows]


@run_async
async def test_browser_lists_runs(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunBrowserScreen)
        assert _names(app) == ["alpha", "beta", "gamma", "newer"]
        table = screen.query_one(DataTable)
        assert table.get_cell(str(runs_folder / "newer"), "status").plain == "unreadable"
        assert table.get_cell(str(runs_folder / "alpha"), "steps").plain == "1000/1000"


@run_async
async def test_browser_shows_unreadable_reason(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "down", "down")
        await pilot.pause()
        status = str(app.screen.query_one("#browser-status", Static).render())
        assert app.screen.cursor_run_path == str(runs_folder / "newer")
        assert "format version 99" in status


@run_async
async def test_browser_sort_key_cycles(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        keys = [key for key, _ in COLUMNS]
        for _ in range(keys.index("seed")):
            await pilot.press("s")
        await pilot.pause()
        assert app.screen.sort_column == "seed"
        assert _names(app) == ["beta", "gamma", "alpha", "newer"]
        await pilot.press("r")
        await pilot.pause()
        assert _names(app) == ["newer", "alpha", "gamma", "beta"]


@run_async
async def test_browser_header_click_sorts(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(160, 24)) as pilot:
        table = app.screen.query_one(DataTable)
        columns = table.ordered_columns
        keys = [column.key.value for column in columns]
        before_seed = columns[: keys.index("seed")]
        x = sum(column.get_render_width(table) for column in before_seed)
        await pilot.click(DataTable, offset=(x + 1, 0))
        await pilot.pause()
        assert app.screen.sort_column == "seed"
        assert _names(app) == ["beta", "gamma", "alpha", "newer"]


@run_async
async def test_browser_filter_by_text(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash")
        assert app.screen.query_one(Input).has_focus
        await pilot.press(*"GAM")
        await pilot.pause()
        assert _names(app) == ["gamma"]
        await pilot.press("enter")
        assert app.screen.query_one(DataTable).has_focus


@run_async
async def test_browser_filter_by_status(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"unread")
        await pilot.pause()
        assert _names(app) == ["newer"]


@run_async
async def test_browser_enter_opens_run(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, InspectScreen)
        assert app.screen.path == runs_folder / "beta"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunBrowserScreen)


@run_async
async def test_browser_unreadable_run_stays(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RunBrowserScreen)


@run_async
async def test_browser_compare_marked_runs(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space", "down", "down", "space")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.get_cell(str(runs_folder / "alpha"), "mark").plain == "*"
        assert table.get_cell(str(runs_folder / "beta"), "mark").plain == " "
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert [curve.path.name for curve in screen.curves] == ["alpha", "gamma"]
        assert [curve.marker for curve in screen.curves] == ["a", "b"]
        assert len({curve.colour for curve in screen.curves}) == 2
        records = Run.open(runs_folder / "alpha").read_metrics()
        accuracy = screen.query_one("#compare-accuracy", OverlayPlot)
        xs, ys = accuracy.curves[0].series("test_acc")
        assert ys == [record["test_acc"] for record in records]
        assert len(xs) == len(records)


@run_async
async def test_browser_refresh_keeps_cursor(runs_folder: Path, grokked_run):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down")
        await pilot.pause()
        screen = app.screen
        assert screen.cursor_run_path == str(runs_folder / "beta")
        shutil.copytree(grokked_run.run.path, runs_folder / "aardvark")
        screen.reload()
        await pilot.pause()
        assert _names(app) == ["aardvark", "alpha", "beta", "gamma", "newer"]
        assert screen.cursor_run_path == str(runs_folder / "beta")


@run_async
async def test_browser_refresh_reads_status(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        Run.open(runs_folder / "gamma").write_status("stopped", 1000, "stopped on request")
        app.screen.reload()
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.get_cell(str(runs_folder / "gamma"), "status").plain == "stopped"


@run_async
async def test_browser_empty_folder_message(tmp_path: Path):
    app = InspectApp(tmp_path, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        status = str(app.screen.query_one("#browser-status", Static).render())
        assert f"no runs in {tmp_path}" in status


@run_async
async def test_small_terminal_shows_notice(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        notice = screen.query_one(SizeNotice)
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert notice.display
        assert "needs at least 60x12 (now 40x10)" in str(notice.render())
        assert not screen.query_one(DataTable).display

        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not notice.display
        assert screen.query_one(DataTable).display


def escape_label(screen) -> str:
    """Return the footer description of the escape key on ``screen``."""
    return screen.active_bindings["escape"].binding.description


@run_async
async def test_escape_labels_follow_stack(runs_folder: Path):
    app = InspectApp(runs_folder, is_run=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert escape_label(app.screen) == "Quit"
        await pilot.press("slash")
        await pilot.pause()
        assert escape_label(app.screen) == "Back"
        await pilot.press("escape", "enter")
        await pilot.pause()
        assert isinstance(app.screen, InspectScreen)
        assert escape_label(app.screen) == "Back"

"""The live explorer driven with Textual's Pilot: training, keys, sizes and failures."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from engine.runs import Run
from grok_tui.app import TrainingApp, end_summary
from grok_tui.commands.train import PreparedRun
from grok_tui.screens.training import HelpScreen, Replay, TrainingScreen
from grok_tui.widgets.curves import StepChart
from grok_tui.widgets.heatmap import FrequencyHeatmap
from grok_tui.widgets.panes import MetricsPanes
from grok_tui.widgets.status import TrainingStatus
from tests.conftest import run_async, small_config, train_run

RECORDED = Path(__file__).parent / "data" / "recorded_metrics.jsonl"
SIZE = (100, 30)
ENDLESS_STEPS = 200_000  # more than a test can train, so only a stop ends the run
WAIT_LIMIT = 60.0  # seconds before a wait gives up; a guard against hangs, not a timing check


def recorded_records() -> list[dict]:
    """Return the records of the recorded p=41 run."""
    return [json.loads(line) for line in RECORDED.read_text().splitlines()]


def replay_app(run_name: str = "replay") -> TrainingApp:
    """Return an app that shows the recorded records without training."""
    return TrainingApp(replay=Replay(small_config(), recorded_records(), run_name=run_name))


def live_app(folder: Path, **overrides) -> TrainingApp:
    """Return an app that trains the small config with ``overrides`` into ``folder/live``."""
    config = small_config(**overrides)
    run = Run.create(folder, "live", config, "cpu", force=False)
    return TrainingApp(PreparedRun(config, run, False, "cpu"))


async def wait_until(pilot: Pilot, condition: Callable[[], bool]) -> None:
    """Let the app run until ``condition()`` holds; fail after WAIT_LIMIT seconds."""
    waited = 0.0
    while not condition():
        assert waited < WAIT_LIMIT, "condition not met in time"
        await pilot.pause(0.05)
        waited += 0.05


def training_screen(app: TrainingApp) -> TrainingScreen:
    """Return the app's training screen."""
    return app.training_screen


def status_text(app: TrainingApp) -> str:
    """Return the plain text of the status bar."""
    return training_screen(app).query_one(TrainingStatus).render().plain


@run_async
async def test_panes_all_present() -> None:
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = training_screen(app)
        for pane_id in ("loss-accuracy", "bounds", "alignment"):
            assert screen.query_one(f"#{pane_id}").display
        chart_ids = {chart.id for chart in screen.query(StepChart)}
        assert chart_ids == {"loss", "accuracy", "gap", "rho"}
        assert screen.query_one(FrequencyHeatmap).display
        assert screen.query_one(TrainingStatus).display


@run_async
async def test_replay_status_line_values() -> None:
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = status_text(app)
        assert "a + b mod 41" in text
        assert "step 1000 of 1000" in text
        assert "grokked at step 600" in text
        assert "ε_eq 0.089" in text


@run_async
async def test_run_name_shown_literally() -> None:
    app = replay_app(run_name="odd[bold]name[/]")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "run odd[bold]name[/]" in status_text(app)


@run_async
async def test_pause_resume_sets_control(tmp_path: Path) -> None:
    app = live_app(tmp_path, steps=ENDLESS_STEPS)
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        await pilot.press("space")
        assert screen.control.paused
        assert screen.query_one(TrainingStatus).state == "paused"
        await pilot.press("p")
        assert not screen.control.paused
        assert screen.query_one(TrainingStatus).state == "training"
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)


@run_async
async def test_stop_writes_checkpoint(tmp_path: Path) -> None:
    app = live_app(tmp_path, steps=ENDLESS_STEPS)
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        await wait_until(pilot, lambda: len(screen.query_one(MetricsPanes).records) >= 3)
        await pilot.press("s")
        await wait_until(pilot, lambda: not screen.training)
        result = screen.result
        assert result.state == "stopped"
        assert result.step in result.run.checkpoint_steps()
        assert Run.open(tmp_path / "live").state() == "stopped"
        assert screen.query_one(TrainingStatus).state == "stopped"
        assert app.is_running


@run_async
async def test_quit_saves_then_exits(tmp_path: Path) -> None:
    app = live_app(tmp_path, steps=ENDLESS_STEPS)
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        await wait_until(pilot, lambda: len(screen.query_one(MetricsPanes).records) >= 2)
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    run = Run.open(tmp_path / "live")
    assert run.state() == "stopped"
    assert run.read_status().step in run.checkpoint_steps()
    assert app.return_code == 0


@run_async
async def test_small_terminal_shows_notice(tmp_path: Path) -> None:
    app = live_app(tmp_path, steps=ENDLESS_STEPS)
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        notice = screen.query_one("#size-notice", Static)
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert notice.display
        assert "needs at least 60x20 (now 40x12)" in str(notice.render())
        assert not screen.query_one(MetricsPanes).display

        count = len(screen.query_one(MetricsPanes).records)
        await wait_until(pilot, lambda: len(screen.query_one(MetricsPanes).records) > count)
        assert screen.training

        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        assert not notice.display
        assert screen.query_one(MetricsPanes).display
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)


@run_async
async def test_heatmap_key_cycles_sources() -> None:
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        panes = training_screen(app).query_one(MetricsPanes)
        seen = [panes.heatmap_source]
        for _ in range(3):
            await pilot.press("h")
            seen.append(panes.heatmap_source)
        assert seen == ["embedding", "unembedding", "logit profile", "embedding"]


@run_async
async def test_heatmap_title_follows_source() -> None:
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        heatmap = training_screen(app).query_one(FrequencyHeatmap)
        await pilot.press("h", "h")
        assert heatmap.render().plain.startswith("logit profile energy")


@run_async
async def test_log_key_toggles_axis() -> None:
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        await pilot.press("l")
        assert not screen.query_one(MetricsPanes).log_axis
        assert all(not chart.log_axis for chart in screen.query(StepChart))
        await pilot.press("l")
        assert screen.query_one(MetricsPanes).log_axis


@run_async
async def test_diverging_run_shown(tmp_path: Path) -> None:
    app = live_app(tmp_path, lr=1e30)
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        await wait_until(pilot, lambda: not screen.training)
        step = screen.result.step
        assert screen.result.state == "diverged"
        assert screen.query_one(TrainingStatus).state == "diverged"
        assert f"diverged (at step {step})" in status_text(app)
        banner = screen.query_one("#banner", Static)
        assert banner.display
        assert str(banner.render()).startswith(f"diverged at step {step}:")
        assert screen.exit_code == 1
    assert Run.open(tmp_path / "live").state() == "diverged"


@run_async
async def test_training_error_shown(tmp_path: Path) -> None:
    app = live_app(tmp_path, steps=ENDLESS_STEPS)
    (tmp_path / "live" / "split.json").mkdir()  # writing the split now fails
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        await wait_until(pilot, lambda: not screen.training)
        assert screen.query_one(TrainingStatus).state == "failed"
        assert "training failed at step 0" in str(screen.query_one("#banner", Static).render())
        assert screen.exit_code == 1


@run_async
async def test_browser_key_opens_or_notifies() -> None:
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause()
        try:
            from grok_tui.screens.browser import RunBrowserScreen
        except ImportError:
            messages = [notification.message for notification in app._notifications]
            assert "run browser not available" in messages
        else:
            assert isinstance(app.screen, RunBrowserScreen)


@run_async
async def test_help_key_lists_keys() -> None:
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, TrainingScreen)


@run_async
async def test_pause_after_end_notifies() -> None:
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        messages = [notification.message for notification in app._notifications]
        assert "nothing to pause: training is not running" in messages
        assert not training_screen(app).control.paused


@run_async
async def test_resume_keeps_saved_records(tmp_path: Path) -> None:
    first = train_run(tmp_path, "resumed", steps=300)
    config = small_config(steps=600)
    app = TrainingApp(PreparedRun(config, first.run, True, "cpu"))
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        panes = screen.query_one(MetricsPanes)
        assert panes.records[-1]["step"] == 300
        await wait_until(pilot, lambda: not screen.training)
        steps = [record["step"] for record in panes.records]
        assert steps == sorted(set(steps))
        assert steps[-1] == 600
        assert screen.result.state == "finished"


@run_async
async def test_log_warning_shown_as_notification() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [logging.StreamHandler(stream)]
    try:
        app = replay_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            logging.getLogger("engine.training").warning("skipping checkpoint [red]7[/red]")
            await pilot.pause()
            messages = [notification.message for notification in app._notifications]
        assert "skipping checkpoint [red]7[/red]" in messages
        assert stream.getvalue() == ""
        assert root.handlers[0].stream is stream
    finally:
        root.handlers = saved


@run_async
async def test_summary_printed_after_quit(tmp_path: Path) -> None:
    app = live_app(tmp_path, steps=60)
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        await wait_until(pilot, lambda: not screen.training)
        await pilot.press("q")
    lines = end_summary(app)
    assert lines[0] == f"run       {tmp_path / 'live'}"
    assert lines[1].startswith("status    finished at step 60 ")
    assert lines[-1].startswith("grokked   no")


@run_async
async def test_summary_names_training_error(tmp_path: Path) -> None:
    app = live_app(tmp_path, steps=ENDLESS_STEPS)
    (tmp_path / "live" / "split.json").mkdir()  # writing the split now fails
    async with app.run_test(size=SIZE) as pilot:
        screen = training_screen(app)
        await wait_until(pilot, lambda: not screen.training)
        await pilot.press("q")
    lines = end_summary(app)
    assert lines[0] == f"run       {tmp_path / 'live'}"
    assert lines[1].startswith("status    failed: training failed at step 0: ")


@run_async
async def test_notification_above_status_bar() -> None:
    app = replay_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("s")  # "nothing to stop" while replaying
        await pilot.pause()
        screen = training_screen(app)
        toast = screen.query_one("Toast")  # Textual exports no public Toast class
        status = screen.query_one(TrainingStatus)
        assert toast.region.bottom <= status.region.y

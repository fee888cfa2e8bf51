"""The inspect app driven with Pilot: panes, checkpoint scrubber, clock, following, bad input."""

from __future__ import annotations

import io
import json
import logging
import math
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from textual.widgets import Static, TabbedContent

from engine.checkpoint_geometry import (
    checkpoint_geometry,
    clock_coordinates,
    embedding_clock,
    residue_of_coordinate,
)
from engine.checkpoints import load_weights
from engine.metrics import evaluate
from engine.models import build_model
from engine.runs import CONFIG_FILE, METRICS_FILE, Run
from engine.tasks import Task
from grok_tui.inspect_app import InspectApp, print_problems
from grok_tui.screens.inspect import InspectScreen, MetricsFollower
from grok_tui.widgets.checkpoints import CheckpointList, FrequencyEnergyPlot
from grok_tui.widgets.clock import ClockPlot
from grok_tui.widgets.panes import MetricsPanes
from grok_tui.widgets.size_notice import SizeNotice
from tests.conftest import run_async

SIZE = (80, 24)
WAIT_LIMIT = 60.0  # seconds before a wait gives up; a guard against hangs, not a timing check


async def wait_for(pilot, condition: Callable[[], bool]) -> None:
    """Let the app run until ``condition()`` holds, failing after WAIT_LIMIT seconds."""
    for _ in range(int(WAIT_LIMIT / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached within the wait limit")


@pytest.fixture
def run_path(grokked_run, tmp_path: Path) -> Path:
    """A copy of the grokked run, free to modify."""
    path = tmp_path / "grokked"
    shutil.copytree(grokked_run.run.path, path)
    return path


def direct_record(run: Run, step: int) -> dict:
    """Evaluate the checkpoint at ``step`` without the app: build, load, evaluate."""
    config = run.train_config()
    model = build_model(config.model, config.task.n, config.width)
    model.load_state_dict(load_weights(run, step))
    model.eval()
    return evaluate(model, config.task, run.read_split(), step, top_m=config.top_m)


async def choose_checkpoint(pilot, index: int) -> InspectScreen:
    """Open the checkpoints tab, highlight the checkpoint at ``index`` and wait for it."""
    screen = pilot.app.screen
    await pilot.press("t")
    await pilot.pause()
    checkpoints = screen.query_one(CheckpointList)
    checkpoints.highlighted = index
    step = checkpoints.highlighted_step
    await wait_for(
        pilot,
        lambda: (screen.displayed is not None and screen.displayed.step == step)
        or step in checkpoints.errors,
    )
    return screen


# the engine computation behind the clock


def test_clock_of_grokked_embedding_is_circle(grokked_run):
    run = grokked_run.run
    geometry = checkpoint_geometry(run, run.checkpoint_steps()[-1])
    n = geometry.task.n
    frequency = geometry.record["top_frequencies"][0]
    points = clock_coordinates(geometry.model, geometry.task, frequency)
    angles = torch.atan2(points[:, 1], points[:, 0])
    expected = 2 * math.pi * frequency * torch.arange(n, dtype=torch.float64) / n
    error = torch.remainder(angles - expected + math.pi, 2 * math.pi) - math.pi
    radii = points.norm(dim=1)
    assert points.shape == (n, 2)
    assert error.abs().max().item() < 0.3
    assert (radii.std() / radii.mean()).item() < 0.1


def test_clock_of_exact_circle():
    n, frequency = 17, 3
    angle = 2 * math.pi * frequency * torch.arange(n, dtype=torch.float64) / n
    embedding = torch.stack([torch.cos(angle), torch.sin(angle), torch.zeros(n)], dim=1)
    points = embedding_clock(embedding * 2.0 + 5.0, frequency)
    assert torch.allclose(points[:, 0], 2.0 * torch.cos(angle), atol=1e-9)
    assert torch.allclose(points[:, 1], 2.0 * torch.sin(angle), atol=1e-9)


def test_clock_rejects_dc_frequency():
    with pytest.raises(ValueError, match="frequency 0 has no cos/sin plane for n=17"):
        embedding_clock(torch.zeros(17, 4), 0)


def test_residues_of_mul_task():
    task = Task("mul", 7)
    assert residue_of_coordinate(task) == [1, 3, 2, 6, 4, 5]


def test_checkpoint_geometry_matches_log(grokked_run):
    run = grokked_run.run
    step = run.checkpoint_steps()[-1]
    logged = {record["step"]: record for record in run.read_metrics()}[step]
    record = checkpoint_geometry(run, step).record
    assert record["eps_eq"] == pytest.approx(logged["eps_eq"], rel=1e-9)
    assert record["test_acc"] == logged["test_acc"]


def test_cuda_run_loads_on_cpu(run_path: Path):
    config_path = run_path / CONFIG_FILE
    record = json.loads(config_path.read_text(encoding="utf-8"))
    record["device"] = "cuda"
    record["config"]["device"] = "cuda"
    config_path.write_text(json.dumps(record), encoding="utf-8")
    run = Run.open(run_path)
    step = run.checkpoint_steps()[-1]
    geometry = checkpoint_geometry(run, step)
    assert next(geometry.model.parameters()).device.type == "cpu"
    assert geometry.record["test_acc"] == direct_record(run, step)["test_acc"]


# the metrics log follower


def test_follower_waits_for_complete_line(tmp_path: Path):
    path = tmp_path / METRICS_FILE
    follower = MetricsFollower(path)
    assert follower.read().records == []
    path.write_text('{"step": 0}\n{"step": 1', encoding="utf-8")
    assert [r["step"] for r in follower.read().records] == [0]
    with open(path, "a", encoding="utf-8") as log:
        log.write('}\n{"step": 2}\n')
    assert [r["step"] for r in follower.read().records] == [1, 2]
    assert follower.read().records == []


def test_follower_final_read_flags_cut_line(tmp_path: Path):
    path = tmp_path / METRICS_FILE
    path.write_text('{"step": 0}\n{"step": 1, "x', encoding="utf-8")
    update = MetricsFollower(path).read(final=True)
    assert [r["step"] for r in update.records] == [0]
    assert update.skipped_lines == [2]


def test_follower_restarts_on_replaced_log(tmp_path: Path):
    path = tmp_path / METRICS_FILE
    path.write_text('{"step": 0}\n{"step": 1}\n', encoding="utf-8")
    follower = MetricsFollower(path)
    follower.read()
    replacement = tmp_path / "replacement"
    replacement.write_text('{"step": 0}\n', encoding="utf-8")
    replacement.replace(path)
    update = follower.read()
    assert update.restarted
    assert [r["step"] for r in update.records] == [0]


# the app


@run_async
async def test_inspect_shows_run_records(run_path: Path):
    records = Run.open(run_path).read_metrics()
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InspectScreen)
        assert len(screen.records) == len(records)
        assert screen.query_one(MetricsPanes).records == records
        assert screen.problems == []


@run_async
async def test_scrubber_matches_direct_evaluation(run_path: Path):
    run = Run.open(run_path)
    steps = run.checkpoint_steps()
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await choose_checkpoint(pilot, 3)
        expected = direct_record(run, steps[3])
        displayed = screen.displayed.record
        assert screen.displayed.step == steps[3]
        assert displayed["eps_eq"] == pytest.approx(expected["eps_eq"], rel=1e-9)
        assert displayed["margin"] == pytest.approx(expected["margin"], rel=1e-9)
        assert displayed["certified_test"] == expected["certified_test"]
        assert displayed["embedding_energy"] == pytest.approx(expected["embedding_energy"])
        assert screen.query_one(FrequencyEnergyPlot).record is displayed
        stats = str(screen.query_one("#checkpoint-stats", Static).render())
        assert f"ε_eq      {expected['eps_eq']:.4f}" in stats
        assert f"γ*        {expected['margin']:.4g}" in stats
        assert f"certified {expected['certified_test']:.4f}" in stats


@run_async
async def test_checkpoints_tab_opens_newest(run_path: Path):
    steps = Run.open(run_path).checkpoint_steps()
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        screen = app.screen
        assert screen.query_one(CheckpointList).has_focus
        await wait_for(pilot, lambda: screen.displayed is not None)
        assert screen.displayed.step == steps[-1]


@run_async
async def test_scrubber_moves_to_next_checkpoint(run_path: Path):
    run = Run.open(run_path)
    steps = run.checkpoint_steps()
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await choose_checkpoint(pilot, 0)
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.displayed.step == steps[1])
        expected = direct_record(run, steps[1])
        assert screen.displayed.record["eps_eq"] == pytest.approx(expected["eps_eq"], rel=1e-9)


@run_async
async def test_clock_cycles_key_frequency(run_path: Path):
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await choose_checkpoint(pilot, -1)
        top = screen.displayed.record["top_frequencies"]
        clock = screen.query_one(ClockPlot)
        assert clock.frequency == top[0]
        await pilot.press("f")
        assert clock.frequency == top[1]
        expected = clock_coordinates(screen.displayed.model, screen.displayed.task, top[1])
        assert clock.points == [tuple(point) for point in expected.tolist()]
        await pilot.press("F", "F")
        assert clock.frequency == top[-1]


@run_async
async def test_corrupt_checkpoint_marked(run_path: Path):
    run = Run.open(run_path)
    steps = run.checkpoint_steps()
    weights, _ = run.checkpoint_paths(steps[1])
    weights.write_bytes(weights.read_bytes()[:300])
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await choose_checkpoint(pilot, 1)
        checkpoints = screen.query_one(CheckpointList)
        assert str(weights) in checkpoints.errors[steps[1]]
        assert screen.displayed is None
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.displayed is not None)
        assert screen.displayed.step == steps[2]


@run_async
async def test_missing_checkpoint_marked(run_path: Path):
    run = Run.open(run_path)
    steps = run.checkpoint_steps()
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        weights, _ = run.checkpoint_paths(steps[0])
        weights.unlink()
        screen = await choose_checkpoint(pilot, 0)
        message = screen.query_one(CheckpointList).errors[steps[0]]
        assert f"checkpoint {weights} is missing or corrupt" in message


@run_async
async def test_garbled_metrics_line_warns(run_path: Path):
    metrics = run_path / METRICS_FILE
    lines = metrics.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = "not json\n"
    metrics.write_text("".join(lines), encoding="utf-8")
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.problems == [f"{metrics}: skipped unreadable line 5"]
        assert len(screen.records) == len(lines) - 1


@run_async
async def test_newer_format_shows_error(run_path: Path):
    config_path = run_path / CONFIG_FILE
    record = json.loads(config_path.read_text(encoding="utf-8"))
    record["format_version"] = 99
    config_path.write_text(json.dumps(record), encoding="utf-8")
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "has format version 99" in app.screen.problems[0]
        assert app.screen.records == []


@run_async
async def test_follows_running_run(run_path: Path):
    metrics = run_path / METRICS_FILE
    lines = metrics.read_text(encoding="utf-8").splitlines(keepends=True)
    metrics.write_text("".join(lines[:3]), encoding="utf-8")
    run = Run.open(run_path)
    run.write_status("running", 5)  # this live process is the writer

    def append_rest() -> None:
        with open(metrics, "a", encoding="utf-8") as log:
            log.write(lines[3][:10])  # a partial line first, completed below
            log.flush()
            log.write(lines[3][10:])
            for line in lines[4:]:
                log.write(line)
                log.flush()

    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.state == "running"
        assert len(screen.records) == 3
        writer = threading.Thread(target=append_rest)
        writer.start()
        writer.join()
        await wait_for(pilot, lambda: len(screen.records) == len(lines))
        assert len(screen.query_one(MetricsPanes).records) == len(lines)
        assert screen.problems == []
        run.write_status("finished", 1000)
        await wait_for(pilot, lambda: screen.state == "finished")


@run_async
async def test_log_warning_becomes_notification(run_path: Path):
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [logging.StreamHandler(stream)]
    try:
        app = InspectApp(run_path, is_run=True)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            logging.getLogger("engine.test").warning("[bold]weights[/bold] unreadable")
            await pilot.pause()
            messages = [notification.message for notification in app._notifications]
        assert "[bold]weights[/bold] unreadable" in messages
        assert stream.getvalue() == ""
        assert root.handlers[0].stream is stream
    finally:
        root.handlers = saved


@run_async
async def test_corrupt_checkpoint_not_logged(run_path: Path):
    run = Run.open(run_path)
    weights, _ = run.checkpoint_paths(run.checkpoint_steps()[-1])
    weights.write_bytes(weights.read_bytes()[:100])
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [logging.StreamHandler(stream)]
    try:
        app = InspectApp(run_path, is_run=True)
        async with app.run_test(size=SIZE) as pilot:
            screen = await choose_checkpoint(pilot, len(run.checkpoint_steps()) - 1)
            messages = [notification.message for notification in app._notifications]
        assert len(screen.problems) == 1
        assert messages.count(screen.problems[0]) == 1
        assert stream.getvalue() == ""
    finally:
        root.handlers = saved


@run_async
async def test_problems_printed_after_exit(run_path: Path):
    metrics = run_path / METRICS_FILE
    lines = metrics.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "not json\n"
    metrics.write_text("".join(lines), encoding="utf-8")
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
    stderr = io.StringIO()
    code = print_problems(app, stderr)
    assert code == 2
    assert stderr.getvalue() == f"warning: {metrics}: skipped unreadable line 3\n"


@run_async
async def test_readable_run_exit_0(run_path: Path):
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
    stderr = io.StringIO()
    assert print_problems(app, stderr) == 0
    assert stderr.getvalue() == ""


@run_async
async def test_small_terminal_shows_notice(run_path: Path):
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        notice = screen.query_one(SizeNotice)
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert notice.display
        assert "needs at least 60x20 (now 40x12)" in str(notice.render())
        assert not screen.query_one(TabbedContent).display

        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        assert not notice.display
        assert screen.query_one(TabbedContent).display


def escape_label(screen) -> str:
    """Return the footer description of the escape key on ``screen``."""
    return screen.active_bindings["escape"].binding.description


@run_async
async def test_escape_reads_quit_alone(run_path: Path):
    app = InspectApp(run_path, is_run=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert escape_label(app.screen) == "Quit"
        await pilot.press("escape")
        await pilot.pause()
        assert not app.is_running

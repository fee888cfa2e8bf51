"""The training loop: grokking, resume, stop, divergence, bounds and checkpoint metrics."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from engine.checkpoints import load_weights
from engine.metrics import evaluate
from engine.models import build_model
from engine.runs import Run
from engine.training import TrainControl, train
from tests.conftest import small_config, train_run

BOUND_TOLERANCE = 1e-9


def test_small_task_groks(grokked_run) -> None:
    final = grokked_run.records[-1]
    assert grokked_run.state == "finished"
    assert grokked_run.step == 1000
    assert final["train_acc"] == 1.0
    assert final["test_acc"] >= 0.99
    assert grokked_run.grok_step is not None
    assert grokked_run.grok_step <= 900


def test_alignment_rises_with_accuracy(grokked_run) -> None:
    records = grokked_run.records
    first, last = records[0], records[-1]
    assert first["eps_eq"] > 0.9
    assert last["eps_eq"] < 0.2
    assert first["certified_test"] < 0.05
    assert last["certified_test"] >= 0.99
    at_grok = next(r for r in records if r["step"] == grokked_run.grok_step)
    assert at_grok["rho_median"] < 1.0


def test_accuracies_are_exact_counts(grokked_run) -> None:
    test_pairs = 41 * 41 - int(0.5 * 41 * 41)
    for record in grokked_run.records:
        assert round(record["test_acc"] * test_pairs) == pytest.approx(
            record["test_acc"] * test_pairs, abs=1e-9
        )


def test_bounds_hold_on_every_record(grokked_run) -> None:
    for record in grokked_run.records:
        assert record["acc_gap_bound"] >= record["acc_gap"] - BOUND_TOLERANCE, record["step"]
        assert record["loss_gap_bound"] >= record["loss_gap"] - BOUND_TOLERANCE, record["step"]
        assert record["test_loss_bound"] >= record["test_loss"] - BOUND_TOLERANCE, record["step"]


def test_records_delivered_and_saved(grokked_run) -> None:
    saved = grokked_run.run.read_metrics()
    assert saved == grokked_run.records
    steps = [r["step"] for r in saved]
    assert steps[:8] == [0, 1, 2, 3, 5, 7, 10, 15]
    assert steps[-1] == 1000
    assert grokked_run.run.read_status().state == "finished"


def test_checkpoint_metrics_match_record(grokked_run) -> None:
    run = grokked_run.run
    config = run.train_config()
    task = config.task
    model = build_model(config.model, task.n, config.width)
    by_step = {r["step"]: r for r in grokked_run.records}
    for step in (500, 1000):
        model.load_state_dict(load_weights(run, step))
        model.eval()
        recomputed = evaluate(model, task, run.read_split(), step)
        stored = by_step[step]
        for key in ("train_acc", "test_acc", "certified_test", "top_frequencies"):
            assert recomputed[key] == stored[key], key
        for key in ("test_loss", "eps_eq", "margin", "rho_median", "loss_gap_bound"):
            assert recomputed[key] == pytest.approx(stored[key], rel=1e-6), key


def test_resume_matches_straight_run(tmp_path: Path) -> None:
    straight = train_run(tmp_path, "straight", steps=300)
    control = TrainControl()

    def stop_after_150(record: dict) -> None:
        if record["step"] >= 150:
            control.request_stop()

    config = small_config(steps=300)
    run = Run.create(tmp_path, "resumed", config, "cpu", force=False)
    first = train(config, run, control=control, on_record=stop_after_150)
    assert first.state == "stopped"
    assert first.step == 150
    second = train(config, run, resume=True)
    assert second.state == "finished"

    straight_weights = load_weights(straight.run, 300)
    resumed_weights = load_weights(run, 300)
    for key, value in straight_weights.items():
        assert torch.equal(value, resumed_weights[key]), key
    without_time = [{k: v for k, v in r.items() if k != "time"} for r in run.read_metrics()]
    expected = [{k: v for k, v in r.items() if k != "time"} for r in straight.records]
    assert without_time == expected


def test_minibatch_resume_matches(tmp_path: Path) -> None:
    straight = train_run(tmp_path, "straight", steps=250, batch_size=64)
    config = small_config(steps=250, batch_size=64)
    run = Run.create(tmp_path, "resumed", config, "cpu", force=False)
    control = TrainControl()
    train(config, run, control=control,
          on_record=lambda r: control.request_stop() if r["step"] >= 100 else None)
    train(config, run, resume=True)
    for key, value in load_weights(straight.run, 250).items():
        assert torch.equal(value, load_weights(run, 250)[key]), key


def test_stop_saves_checkpoint(tmp_path: Path) -> None:
    control = TrainControl()
    config = small_config(steps=100000)
    run = Run.create(tmp_path, "stopped", config, "cpu", force=False)

    def stop_at_30(record: dict) -> None:
        if record["step"] == 30:
            control.request_stop()

    result = train(config, run, control=control, on_record=stop_at_30)
    assert result.state == "stopped"
    assert result.step == 30
    assert run.checkpoint_steps() == [0, 30]
    assert run.read_status().state == "stopped"
    assert run.read_metrics()[-1]["step"] == 30


def test_divergence_stops_and_keeps_checkpoints(tmp_path: Path) -> None:
    result = train_run(tmp_path, "diverged", lr=1e30, steps=500)
    assert result.state == "diverged"
    assert result.step < 10
    assert "Lower the learning rate" in result.message
    status = result.run.read_status()
    assert status.state == "diverged"
    assert status.step == result.step
    for record in result.run.read_metrics():
        assert record["train_loss"] == record["train_loss"]  # not NaN
    assert result.run.checkpoint_steps() == [0]
    initial = load_weights(result.run, 0)
    assert all(torch.isfinite(value).all() for value in initial.values())


def test_diverged_resume_keeps_checkpoints(tmp_path: Path) -> None:
    config = small_config(steps=400)
    run = Run.create(tmp_path, "late", config, "cpu", force=False)
    control = TrainControl()
    train(config, run, control=control,
          on_record=lambda r: control.request_stop() if r["step"] >= 150 else None)
    assert run.checkpoint_steps() == [0, 100, 150]
    weights_before = load_weights(run, 150)

    result = train(small_config(steps=400, lr=1e30), run, resume=True)
    assert result.state == "diverged"
    assert run.checkpoint_steps() == [0, 100, 150]
    reloaded = load_weights(run, 150)
    for key, value in reloaded.items():
        assert torch.equal(weights_before[key], value), key


def test_killed_process_leaves_loadable_run(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "grok_tui", "train", "--p", "41", "--frac", "0.5",
        "--lr", "1e-2", "--steps", "100000", "--eval-every", "50", "--out", str(tmp_path),
        "--name", "killed", "--headless",
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment
    )
    run = Run(tmp_path / "killed")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(run.checkpoint_steps()) < 2:
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    assert run.state() == "interrupted"
    steps = run.checkpoint_steps()
    assert len(steps) >= 2
    assert load_weights(run, steps[-1])["readout.bias"].shape == (41,)
    records = run.read_metrics()
    assert records[0]["step"] == 0
    resumed = train(small_config(steps=steps[-1] + 20, eval_every=50), run, resume=True)
    assert resumed.state == "finished"


def test_regularizer_projector_in_index_order() -> None:
    from engine.geometry import fourier_basis
    from engine.training import _regularizer_projector

    config = small_config(p=13, op="mul", reg_unembedding=1.0, reg_frequencies=(1, 2))
    task = config.task
    projector = _regularizer_projector(config, task, torch.device("cpu")).double()
    basis, frequency = fourier_basis(task.n)
    kept_rows = basis[(frequency == 1) | (frequency == 2)]  # (4, n) rows in group coordinates
    unembedding_in_index_order = kept_rows.T[task.coordinate]  # row i is class index i
    residual = projector @ unembedding_in_index_order
    assert residual.abs().max() < 1e-6
    outside = basis[frequency == 4].T[task.coordinate]  # the frequency the set leaves out
    assert torch.allclose(projector @ outside, outside, atol=1e-6)


def test_regularizer_lowers_deviation(tmp_path: Path) -> None:
    plain = train_run(tmp_path, "plain", steps=300)
    regularized = train_run(tmp_path, "reg", steps=300, reg_unembedding=1e-3, reg_logits=1e-2)
    assert regularized.run.train_config().reg_logits == 1e-2
    assert regularized.records[-1]["eps_eq"] < plain.records[-1]["eps_eq"]


def test_resume_skips_corrupt_checkpoint(tmp_path: Path) -> None:
    first = train_run(tmp_path, "r", steps=150)
    model_path, _ = first.run.checkpoint_paths(150)
    model_path.write_bytes(model_path.read_bytes()[:100])
    resumed = train(small_config(steps=200), first.run, resume=True)
    assert resumed.state == "finished"
    steps = [record["step"] for record in first.run.read_metrics()]
    assert steps == sorted(set(steps))
    assert 150 in steps
    assert load_weights(first.run, 150)["readout.bias"].shape == (41,)

"""The README's first command: the default fast-mlp run on a + b mod 113 groks on a CPU."""

import os
import re
import subprocess
import sys

import pytest

from engine.checkpoints import load_weights
from engine.runs import Run

BOUND_TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Run]:
    """Train ``grok-tui train --p 113`` (headless, since stdout is a pipe) once."""
    folder = tmp_path_factory.mktemp("default")
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "grok_tui", "train", "--p", "113", "--out", str(folder),
         "--name", "default"],
        capture_output=True, text=True, env=environment, timeout=900,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout, Run.open(folder / "default")


def test_default_run_groks(default_run) -> None:
    output, run = default_run
    match = re.search(r"grokked   at step (\d+)", output)
    assert match is not None, output
    assert 2500 <= int(match.group(1)) <= 5000
    final = run.read_metrics()[-1]
    assert final["step"] == 5000
    assert final["train_acc"] == 1.0
    assert final["test_acc"] >= 0.99


def test_default_run_loads_back(default_run) -> None:
    _, run = default_run
    config = run.train_config()
    assert (config.p, config.op, config.model, config.preset) == (113, "add", "mlp", "fast-mlp")
    assert run.read_status().state == "finished"
    assert run.read_split().sum() == int(0.3 * 113 * 113)
    assert run.checkpoint_steps()[-1] == 5000
    assert load_weights(run, 5000)["embedding.weight"].shape == (113, 128)


def test_alignment_tracks_accuracy(default_run) -> None:
    _, run = default_run
    records = run.read_metrics()
    by_step = {record["step"]: record for record in records}
    grok = next(record for record in records if record["test_acc"] >= 0.99)
    assert by_step[0]["eps_eq"] > 0.95
    assert by_step[2000]["eps_eq"] > grok["eps_eq"]
    assert 0.15 <= grok["eps_eq"] <= 0.45
    assert records[-1]["eps_eq"] < grok["eps_eq"]
    assert by_step[2000]["rho_median"] > 1.0
    assert grok["rho_median"] < 1.0
    assert by_step[2000]["certified_test"] < 0.2
    assert records[-1]["certified_test"] >= 0.99


def test_default_bounds_hold(default_run) -> None:
    _, run = default_run
    for record in run.read_metrics():
        assert record["acc_gap_bound"] >= record["acc_gap"] - BOUND_TOLERANCE, record["step"]
        assert record["loss_gap_bound"] >= record["loss_gap"] - BOUND_TOLERANCE, record["step"]

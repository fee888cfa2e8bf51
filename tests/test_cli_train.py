"""The real ``grok-tui train`` command, headless, and the top-level CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.checkpoints import load_weights
from engine.runs import Run
from grok_tui.cli import app

runner = CliRunner()
SMALL = ["--p", "41", "--frac", "0.5", "--lr", "1e-2", "--headless"]


def _grok_tui(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "grok_tui", *args],
        capture_output=True, text=True, cwd=cwd, env=environment, timeout=300,
    )


def test_no_arguments_prints_help(tmp_path: Path) -> None:
    result = _grok_tui(cwd=tmp_path)
    output = result.stdout + result.stderr
    assert "Usage: grok-tui" in output
    assert "train" in output
    assert "Traceback" not in output


def test_train_headless_grokks_and_saves(tmp_path: Path) -> None:
    result = _grok_tui("train", *SMALL, "--steps", "800", "--name", "cli", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "grokked   at step" in result.stdout
    assert "status    finished at step 800" in result.stdout
    run = Run.open(tmp_path / "runs" / "cli")
    assert run.read_status().state == "finished"
    assert run.train_config().p == 41
    assert load_weights(run, 800)["embedding.weight"].shape == (41, 128)


def test_default_name_from_task(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", *SMALL, "--steps", "5", "--seed", "3",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (folder,) = list(tmp_path.iterdir())
    assert folder.name.startswith("add-p41-mlp-s3-")


def test_resume_continues_run(tmp_path: Path) -> None:
    first = runner.invoke(app, ["train", *SMALL, "--steps", "120", "--out", str(tmp_path),
                                "--name", "r"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["train", "--resume", str(tmp_path / "r"), "--steps", "200",
                                 "--headless"])
    assert second.exit_code == 0, second.output
    assert "resuming a + b mod 41" in second.output
    run = Run.open(tmp_path / "r")
    assert run.checkpoint_steps()[-1] == 200
    steps = [record["step"] for record in run.read_metrics()]
    assert steps == sorted(set(steps))


def test_resume_rejects_changed_flags(tmp_path: Path) -> None:
    runner.invoke(app, ["train", *SMALL, "--steps", "5", "--out", str(tmp_path), "--name", "r"])
    result = runner.invoke(app, ["train", "--resume", str(tmp_path / "r"), "--lr", "0.1"])
    assert result.exit_code == 2
    assert "lr cannot change" in result.output


def test_diverged_run_exit_code(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", *SMALL, "--lr", "1e30", "--steps", "200",
                                 "--out", str(tmp_path), "--name", "nan"])
    assert result.exit_code == 1
    assert "status    diverged at step" in result.output
    status = json.loads((tmp_path / "nan" / "status.json").read_text())
    assert status["state"] == "diverged"


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--p", "2"], "p=2 is too small"),
        (["--p", "12", "--op", "mul"], "p=12 is composite"),
        (["--p", "41", "--frac", "1.0"], "train fraction 1.0"),
        (["--p", "41", "--name", "../escape"], "invalid run name '../escape'"),
        (["--p", "41", "--device", "cuda"], "CUDA is not available"),
        (["--p", "41", "--steps", "0"], "steps 0 must be at least 1"),
        (["--p", "41", "--reg-frequencies", "1,x"], "invalid --reg-frequencies"),
        ([], "missing --p"),
        (["--resume", "nowhere"], "run folder nowhere does not exist"),
        (["--p", "41", "--lr", "inf"], "lr inf is not a finite number"),
        (["--p", "41", "--wd", "nan"], "weight decay nan is not a finite number"),
        (["--p", "41", "--frac", "inf"], "train fraction inf"),
        (["--p", "41", "--frac", "nan"], "train fraction nan"),
        (["--p", "41", "--reg-logits", "-1"], "reg-logits -1.0 must be >= 0"),
    ],
)
def test_train_invalid_input(tmp_path: Path, arguments: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["train", "--out", str(tmp_path), "--headless", *arguments])
    assert result.exit_code == 2
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_existing_run_kept(tmp_path: Path) -> None:
    runner.invoke(app, ["train", *SMALL, "--steps", "5", "--out", str(tmp_path), "--name", "r"])
    before = (tmp_path / "r" / "metrics.jsonl").read_bytes()
    result = runner.invoke(app, ["train", *SMALL, "--steps", "5", "--out", str(tmp_path),
                                 "--name", "r"])
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert (tmp_path / "r" / "metrics.jsonl").read_bytes() == before


def test_geometry_command_registered() -> None:
    result = runner.invoke(app, ["geometry", "--p", "113", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["greedy_order"][:3] == [1, 15, 20]


def test_out_not_a_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["train", *SMALL, "--out", str(blocker)])
    assert result.exit_code == 2
    assert "cannot create run folder" in result.output
    assert blocker.read_text() == "not a folder"


def test_name_of_non_run_folder(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep")
    result = runner.invoke(app, ["train", *SMALL, "--out", str(tmp_path), "--name", "notes"])
    assert result.exit_code == 2
    assert "is not a run folder: choose another --name or --out" in result.output


def test_live_run_not_replaced(tmp_path: Path) -> None:
    runner.invoke(app, ["train", *SMALL, "--steps", "5", "--out", str(tmp_path), "--name", "r"])
    Run(tmp_path / "r").write_status("running", 5)  # this live process now owns the run
    replaced = runner.invoke(app, ["train", *SMALL, "--steps", "5", "--out", str(tmp_path),
                                   "--name", "r", "--force"])
    assert replaced.exit_code == 2
    assert "is still being trained by process" in replaced.output
    resumed = runner.invoke(app, ["train", "--resume", str(tmp_path / "r"), "--steps", "9"])
    assert resumed.exit_code == 2
    assert "is still being trained by process" in resumed.output
    assert Run.open(tmp_path / "r").checkpoint_steps() == [0, 5]


def test_resume_needs_more_steps(tmp_path: Path) -> None:
    runner.invoke(app, ["train", *SMALL, "--steps", "20", "--out", str(tmp_path), "--name", "r"])
    result = runner.invoke(app, ["train", "--resume", str(tmp_path / "r"), "--steps", "10"])
    assert result.exit_code == 2
    assert "is already at step 20 of 10: give --steps greater than 20" in result.output


def test_resume_records_new_budget(tmp_path: Path) -> None:
    runner.invoke(app, ["train", *SMALL, "--steps", "20", "--out", str(tmp_path), "--name", "r"])
    result = runner.invoke(app, ["train", "--resume", str(tmp_path / "r"), "--steps", "30",
                                 "--headless"])
    assert result.exit_code == 0, result.output
    assert Run.open(tmp_path / "r").train_config().steps == 30


def test_resume_without_loadable_checkpoint(tmp_path: Path) -> None:
    runner.invoke(app, ["train", *SMALL, "--steps", "20", "--out", str(tmp_path), "--name", "r"])
    run = Run.open(tmp_path / "r")
    for step in run.checkpoint_steps():
        run.checkpoint_paths(step)[0].write_bytes(b"broken")
    result = runner.invoke(app, ["train", "--resume", str(run.path), "--steps", "30"])
    assert result.exit_code == 2
    assert "has no loadable checkpoint to resume from" in result.output
    assert "Traceback" not in result.output

"""The inspect and runs commands through the real CLI: summaries, JSON, tables, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.runs import CONFIG_FILE, METRICS_FILE, Run
from engine.summary import summarize_run
from grok_tui.cli import app

runner = CliRunner()


@pytest.fixture
def runs_folder(grokked_run, tmp_path: Path) -> Path:
    """A folder holding a copy of the grokked run, free to modify."""
    folder = tmp_path / "runs"
    shutil.copytree(grokked_run.run.path, folder / "grokked")
    return folder


def invoke(*args: str):
    """Run the CLI with ``args`` and return the result."""
    return runner.invoke(app, list(args))


def test_print_summary_of_run(runs_folder: Path):
    result = invoke("inspect", str(runs_folder / "grokked"), "--print")
    summary = summarize_run(Run.open(runs_folder / "grokked"))
    assert result.exit_code == 0
    assert "task             a + b mod 41 (group order n = 41)" in result.stdout
    assert f"status           finished at step {summary.step} of 1000" in result.stdout
    assert f"grokked          at step {summary.grok_step} " in result.stdout
    assert "  p                41" in result.stdout
    top = ", ".join(str(k) for k in summary.top_frequencies)
    assert f"top frequencies  {top}" in result.stdout
    assert f"checkpoints      {len(summary.checkpoints)}" in result.stdout
    assert "  step     1000  test acc 1.0000" in result.stdout


def test_print_is_default_off_terminal(runs_folder: Path):
    result = invoke("inspect", str(runs_folder / "grokked"))
    assert result.exit_code == 0
    assert "run              grokked" in result.stdout


def test_json_of_run_equals_summary(runs_folder: Path):
    result = invoke("inspect", str(runs_folder / "grokked"), "--json")
    expected = summarize_run(Run.open(runs_folder / "grokked")).to_dict()
    assert result.exit_code == 0
    assert json.loads(result.stdout) == expected


def test_json_of_folder_lists_runs(runs_folder: Path):
    shutil.copytree(runs_folder / "grokked", runs_folder / "copy")
    result = invoke("inspect", str(runs_folder), "--json")
    entries = json.loads(result.stdout)
    assert result.exit_code == 0
    assert [entry["name"] for entry in entries] == ["copy", "grokked"]
    assert entries[1]["grok_step"] == summarize_run(Run.open(runs_folder / "grokked")).grok_step


def test_runs_table_columns(runs_folder: Path):
    summary = summarize_run(Run.open(runs_folder / "grokked"))
    result = invoke("runs", str(runs_folder))
    header, row = result.stdout.splitlines()
    assert result.exit_code == 0
    assert header.split() == [
        "name", "status", "steps", "best", "acc", "grok", "ε_eq", "op", "p", "model", "frac",
        "wd", "seed",
    ]
    assert row.split() == [
        "grokked", "finished", "1000/1000", f"{summary.best_test_acc:.3f}",
        str(summary.grok_step), f"{summary.final['eps_eq']:.3f}", "add", "41", "mlp", "0.5",
        "1", "0",
    ]


def test_inspect_folder_prints_table(runs_folder: Path):
    result = invoke("inspect", str(runs_folder), "--print")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].startswith("grokked  finished  1000/1000")


def test_missing_path_fails(tmp_path: Path):
    missing = tmp_path / "nowhere"
    result = invoke("inspect", str(missing), "--print")
    assert result.exit_code == 2
    assert f"error: run folder {missing} does not exist" in result.stderr


def test_runs_missing_folder_fails(tmp_path: Path):
    result = invoke("runs", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_empty_folder_fails(tmp_path: Path):
    for command in ("inspect", "runs"):
        result = invoke(command, str(tmp_path))
        assert result.exit_code == 2
        assert f"error: no runs in {tmp_path}: train one with grok-tui train --p 113" in (
            result.stderr
        )


def test_folder_without_runs_fails(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("not a run", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    result = invoke("inspect", str(tmp_path), "--print")
    assert result.exit_code == 2
    assert f"error: {tmp_path} is not a run: it has no {CONFIG_FILE}" in result.stderr


def test_file_is_not_a_run(tmp_path: Path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    result = invoke("inspect", str(path), "--json")
    assert result.exit_code == 2
    assert f"error: {path} is a file, not a run folder" in result.stderr


def test_newer_format_version_fails(runs_folder: Path):
    config_path = runs_folder / "grokked" / CONFIG_FILE
    record = json.loads(config_path.read_text(encoding="utf-8"))
    record["format_version"] = 99
    config_path.write_text(json.dumps(record), encoding="utf-8")
    result = invoke("inspect", str(runs_folder / "grokked"), "--print")
    assert result.exit_code == 2
    assert f"error: {config_path} has format version 99" in result.stderr
    assert "upgrade grok-tui" in result.stderr


def test_newer_run_in_folder_is_unreadable_row(runs_folder: Path):
    shutil.copytree(runs_folder / "grokked", runs_folder / "newer")
    config_path = runs_folder / "newer" / CONFIG_FILE
    record = json.loads(config_path.read_text(encoding="utf-8"))
    record["format_version"] = 99
    config_path.write_text(json.dumps(record), encoding="utf-8")
    result = invoke("runs", str(runs_folder))
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert result.exit_code == 0
    assert rows["newer"][1] == "unreadable"
    assert rows["grokked"][1] == "finished"
    assert f"warning: {config_path} has format version 99" in result.stderr


def test_garbled_metrics_line_warns(runs_folder: Path):
    metrics = runs_folder / "grokked" / METRICS_FILE
    lines = metrics.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = '{"step": 3, "train_lo\n'
    metrics.write_text("".join(lines), encoding="utf-8")
    result = invoke("inspect", str(runs_folder / "grokked"), "--json")
    summary = json.loads(result.stdout)
    assert result.exit_code == 2
    assert summary["num_records"] == len(lines) - 1
    assert f"warning: {metrics}: skipped unreadable line 3" in result.stderr


def test_cut_off_last_line_warns(runs_folder: Path):
    metrics = runs_folder / "grokked" / METRICS_FILE
    text = metrics.read_text(encoding="utf-8")
    metrics.write_text(text + '{"step": 1001, "train', encoding="utf-8")
    number = text.count("\n") + 1
    result = invoke("inspect", str(runs_folder / "grokked"), "--print")
    assert result.exit_code == 2
    assert f"warning: {metrics}: skipped unreadable line {number}" in result.stderr
    assert "status           finished at step 1000" in result.stdout


def _checkpoint_line(output: str, step: int) -> str:
    """Return the summary line of the checkpoint at ``step``."""
    return next(line for line in output.splitlines() if line.startswith(f"  step {step:>8}"))


def test_corrupt_checkpoint_warns(runs_folder: Path):
    run = Run.open(runs_folder / "grokked")
    steps = run.checkpoint_steps()
    weights, _ = run.checkpoint_paths(steps[1])
    weights.write_bytes(weights.read_bytes()[:200])
    result = invoke("inspect", str(run.path), "--print")
    assert result.exit_code == 2
    assert f"warning: checkpoint {weights} is corrupt" in result.stderr
    assert "is corrupt" in _checkpoint_line(result.stdout, steps[1])
    assert "corrupt" not in _checkpoint_line(result.stdout, steps[0])


def test_run_names_print_literally(runs_folder: Path):
    shutil.copytree(runs_folder / "grokked", runs_folder / "[bold]x")
    result = invoke("runs", str(runs_folder))
    assert result.exit_code == 0
    assert "[bold]x" in result.stdout

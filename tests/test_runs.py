"""The run folder: names, atomic writes, the metrics log, checkpoints and format versions."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from engine.checkpoints import load_checkpoint, load_weights
from engine.runs import FORMAT_VERSION, Run, RunError, list_runs, validate_run_name
from engine.storage import write_json_atomic
from tests.conftest import small_config


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "a b", "x" * 101, "a\nb"])
def test_run_name_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="invalid run name"):
        validate_run_name(name)


def test_existing_run_not_overwritten(tmp_path: Path) -> None:
    config = small_config()
    run = Run.create(tmp_path, "taken", config, "cpu", force=False)
    (run.path / "metrics.jsonl").write_text('{"step": 0}\n')
    with pytest.raises(RunError, match="already exists"):
        Run.create(tmp_path, "taken", config, "cpu", force=False)
    assert (run.path / "metrics.jsonl").read_text() == '{"step": 0}\n'


def test_force_replaces_only_runs(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(RunError, match="not a run"):
        Run.create(tmp_path, "notes", small_config(), "cpu", force=True)
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"


def test_config_record_contents(tmp_path: Path) -> None:
    run = Run.create(tmp_path, "r", small_config(seed=4), "cpu", force=False)
    record = run.read_config()
    assert record["format_version"] == FORMAT_VERSION
    assert record["config"]["seed"] == 4
    assert record["device"] == "cpu"
    assert record["dtype"] == "float32"
    assert record["matmul_precision"] == "highest"
    assert set(record["versions"]) == {"grok_tui", "python", "torch", "numpy"}
    assert run.train_config() == small_config(seed=4)


def test_newer_format_rejected(tmp_path: Path) -> None:
    run = Run.create(tmp_path, "future", small_config(), "cpu", force=False)
    record = run.read_config()
    record["format_version"] = FORMAT_VERSION + 1
    write_json_atomic(run.path / "config.json", record)
    with pytest.raises(RunError, match="upgrade grok-tui"):
        Run.open(run.path)


def test_open_missing_and_non_run(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="does not exist"):
        Run.open(tmp_path / "nowhere")
    with pytest.raises(RunError, match="is not a run"):
        Run.open(tmp_path)


def test_cut_off_metrics_line_skipped(grokked_run, tmp_path: Path) -> None:
    path = Path(shutil.copytree(grokked_run.run.path, tmp_path / "copy"))
    log = path / "metrics.jsonl"
    complete = log.read_text().splitlines(keepends=True)
    log.write_text("".join(complete) + complete[-1][: len(complete[-1]) // 2])
    records, skipped = Run(path).read_metrics_with_errors()
    assert len(records) == len(complete)
    assert skipped == [len(complete) + 1]


def test_garbled_metrics_line_skipped(grokked_run, tmp_path: Path) -> None:
    path = Path(shutil.copytree(grokked_run.run.path, tmp_path / "copy"))
    log = path / "metrics.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    lines[3] = "{not json\n"
    log.write_text("".join(lines))
    records, skipped = Run(path).read_metrics_with_errors()
    assert len(records) == len(lines) - 1
    assert skipped == [4]


def test_checkpoint_round_trip(grokked_run) -> None:
    run = grokked_run.run
    steps = run.checkpoint_steps()
    assert steps[:2] == [0, 100]
    assert steps[-1] == 1000
    checkpoint = load_checkpoint(run, 1000)
    assert checkpoint.step == 1000
    assert checkpoint.elapsed > 0
    assert set(checkpoint.model_state) == {
        "embedding.weight", "hidden.weight", "hidden.bias", "readout.weight", "readout.bias"
    }
    slots = checkpoint.optimizer_state["state"]
    assert set(slots) == {0, 1, 2, 3, 4}
    assert float(slots[0]["step"]) == 1000.0
    assert checkpoint.optimizer_state["param_groups"][0]["lr"] == pytest.approx(1e-2)


def test_saved_weights_equal_model(tmp_path: Path) -> None:
    from engine.training import train

    config = small_config(steps=120)
    run = Run.create(tmp_path, "r", config, "cpu", force=False)
    result = train(config, run)
    assert result.state == "finished"
    saved = load_weights(run, 120)
    checkpoint = load_checkpoint(run, 120)
    assert all(torch.equal(saved[k], checkpoint.model_state[k]) for k in saved)
    assert run.checkpoint_steps() == [0, 100, 120]


def test_corrupt_checkpoint_named(grokked_run, tmp_path: Path) -> None:
    path = Path(shutil.copytree(grokked_run.run.path, tmp_path / "copy"))
    run = Run(path)
    model_path, _ = run.checkpoint_paths(500)
    model_path.write_bytes(b"\x00garbage")
    with pytest.raises(RunError, match="step_00000500.model.safetensors"):
        load_weights(run, 500)
    assert load_weights(run, 400)["readout.bias"].shape == (41,)


def test_interrupted_write_keeps_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "status.json"
    write_json_atomic(target, {"state": "running"})

    def fail_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr("engine.storage.os.replace", fail_replace)
    with pytest.raises(OSError, match="disk full"):
        write_json_atomic(target, {"state": "finished"})
    assert json.loads(target.read_text()) == {"state": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]


def test_list_runs_finds_run_folders(grokked_run, tmp_path: Path) -> None:
    shutil.copytree(grokked_run.run.path, tmp_path / "b-run")
    shutil.copytree(grokked_run.run.path, tmp_path / "a-run")
    (tmp_path / "not-a-run").mkdir()
    assert [run.name for run in list_runs(tmp_path)] == ["a-run", "b-run"]

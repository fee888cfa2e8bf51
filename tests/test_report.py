"""Tests of ``grok-tui report``: Markdown, JSON, expectations, exit codes and text charts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.runs import Run
from grok_tui.cli import app
from grok_tui.report import BOUND_TOLERANCE, check_bounds
from grok_tui.textcharts import (
    ChartSpec,
    Series,
    log_step,
    log_step_ticks,
    log_value_ticks,
    render_chart,
    to_ascii,
)
from tests.conftest import train_run

runner = CliRunner()


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished p=41 run of 50 steps, too short to grok. Read only."""
    folder = tmp_path_factory.mktemp("short")
    return train_run(folder, "short", steps=50).run.path


@pytest.fixture(scope="module")
def diverged_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A p=41 run whose learning rate of 1e30 makes the loss non-finite. Read only."""
    folder = tmp_path_factory.mktemp("diverged")
    return train_run(folder, "nan", lr=1e30, steps=50).run.path


@pytest.fixture
def grokked_copy(grokked_run, tmp_path: Path) -> Path:
    """A writable copy of the grokked run."""
    return Path(shutil.copytree(grokked_run.run.path, tmp_path / "grokked"))


def report(*arguments: str, env: dict[str, str] | None = None):
    """Run ``grok-tui report`` in-process and return the click result."""
    return runner.invoke(app, ["report", *arguments], env=env)


def rewrite_metrics(run_path: Path, step: int, **changes) -> None:
    """Replace fields of the record at ``step`` in a run's metrics log."""
    log = run_path / "metrics.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    for record in records:
        if record["step"] == step:
            record.update(changes)
    log.write_text("".join(json.dumps(record) + "\n" for record in records))


def read_json(path: Path) -> dict:
    """Load a JSON report."""
    return json.loads(path.read_text(encoding="utf-8"))


def subprocess_env(**extra: str) -> dict[str, str]:
    """Return the environment without TERM and COLUMNS, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if key not in ("TERM", "COLUMNS")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.update(extra)
    return env


# expectations


def test_expect_grok_passes(grokked_run):
    result = report(str(grokked_run.run.path), "--expect-grok")
    assert result.exit_code == 0
    assert "**All 1 expectations passed.**" in result.stdout
    assert result.stderr == ""


def test_expect_grok_fails_short_run(short_run):
    result = report(str(short_run), "--expect-grok")
    assert result.exit_code == 1
    assert "expectation failed: --expect-grok on run short" in result.stderr
    assert "never reached 0.99" in result.stderr
    assert "**1 of 1 expectations failed.**" in result.stdout


def test_expect_max_steps_at_grok_step(grokked_run):
    step = grokked_run.grok_step
    result = report(str(grokked_run.run.path), "--expect-max-steps", str(step))
    assert result.exit_code == 0
    assert f"grokked at step {step} <= {step}" in result.stdout


def test_expect_max_steps_before_grok(grokked_run):
    step = grokked_run.grok_step
    result = report(str(grokked_run.run.path), "--expect-max-steps", str(step - 1))
    assert result.exit_code == 1
    assert f"grokked at step {step}, after the expected step {step - 1}" in result.stderr


def test_expect_max_steps_not_grokked(short_run):
    result = report(str(short_run), "--expect-max-steps", "100000")
    assert result.exit_code == 1
    assert "--expect-max-steps on run short" in result.stderr


def test_expect_max_steps_negative(grokked_run):
    result = report(str(grokked_run.run.path), "--expect-max-steps", "-1")
    assert result.exit_code == 2
    assert "--expect-max-steps" in result.stderr


def test_expect_bounds_passes(grokked_run, tmp_path):
    json_file = tmp_path / "report.json"
    result = report(str(grokked_run.run.path), "--expect-bounds", "--json", str(json_file))
    assert result.exit_code == 0
    check = read_json(json_file)["runs"][0]["bound_check"]
    assert check["records"] == len(grokked_run.records)
    assert check["violations"] == []


def test_expect_bounds_fails_violation(grokked_copy, grokked_run):
    step = grokked_run.records[3]["step"]
    rewrite_metrics(grokked_copy, step, acc_gap=0.5, acc_gap_bound=0.25)
    result = report(str(grokked_copy), "--expect-bounds")
    assert result.exit_code == 1
    assert f"first at step {step}: acc_gap_bound 0.25 < acc_gap 0.5" in result.stderr
    assert "bound values below their measured gap" in result.stdout


def test_expect_bounds_skips_null_bound(grokked_copy, grokked_run, tmp_path):
    rewrite_metrics(grokked_copy, grokked_run.records[0]["step"], loss_gap_bound=None)
    json_file = tmp_path / "report.json"
    result = report(str(grokked_copy), "--expect-bounds", "--json", str(json_file))
    assert result.exit_code == 0
    data = read_json(json_file)
    assert data["runs"][0]["bound_check"]["missing_loss_gap_bound"] == 1
    assert "skipped 1 without a finite loss bound" in data["expectations"][0]["reason"]


def test_check_bounds_float_tolerance():
    records = [{"step": 0, "acc_gap": 0.5, "acc_gap_bound": 0.5 - BOUND_TOLERANCE / 10}]
    check = check_bounds(records)
    assert check.violations == []
    assert check.missing_loss_gap_bound == 1


def test_diverged_run_fails_expectations(diverged_run):
    assert Run.open(diverged_run).state() == "diverged"
    result = report(str(diverged_run), "--expect-bounds", "--expect-grok")
    assert result.exit_code == 1
    assert "--expect-bounds on run nan: the run diverged" in result.stderr
    assert "--expect-grok on run nan: the run diverged" in result.stderr


def test_no_expectations_exit_zero(short_run):
    result = report(str(short_run))
    assert result.exit_code == 0
    assert "## Expectations" not in result.stdout


# content and JSON schema


def test_markdown_sections(grokked_run):
    result = report(str(grokked_run.run.path), "--width", "72")
    markdown = result.stdout
    assert markdown.startswith("# grok-tui report\n")
    assert "## Run `grokked`" in markdown
    assert f"Grokked at step {grokked_run.grok_step}" in markdown
    assert "| train_fraction | `0.5` |" in markdown
    assert "Top frequencies of the logit profile at the last record:" in markdown
    assert markdown.count("```text") == 5
    assert "## Comparison" not in markdown


def chart_lines(markdown: str) -> list[str]:
    """Return the lines inside the fenced text blocks of a report."""
    lines, inside = [], False
    for line in markdown.splitlines():
        if line in ("```text", "```"):
            inside = line == "```text"
        elif inside:
            lines.append(line)
    return lines


def test_markdown_chart_width(grokked_run):
    result = report(str(grokked_run.run.path), "--width", "72")
    lines = chart_lines(result.stdout)
    assert len(lines) > 50
    assert max(len(line) for line in lines) <= 72


def test_json_schema_types(grokked_run, short_run, tmp_path):
    json_file = tmp_path / "report.json"
    result = report(str(grokked_run.run.path), str(short_run), "--expect-grok", "--json",
                    str(json_file))  # fmt: skip
    assert result.exit_code == 1
    data = read_json(json_file)
    assert set(data) == {"schema_version", "generated", "runs", "comparison", "expectations",
                         "passed"}  # fmt: skip
    assert data["schema_version"] == 1
    assert isinstance(data["generated"], str)
    assert data["passed"] is False
    assert [run["name"] for run in data["runs"]] == ["grokked", "short"]
    run = data["runs"][0]
    assert run["grok_step"] == grokked_run.grok_step
    assert isinstance(run["config"], dict)
    assert isinstance(run["at_grok"]["eps_eq"], float)
    assert set(run["bound_check"]) == {"records", "violations", "missing_acc_gap_bound",
                                       "missing_loss_gap_bound"}  # fmt: skip
    assert run["expectations"][0]["passed"] is True
    expectation = data["expectations"][1]
    assert set(expectation) == {"name", "run", "passed", "reason"}
    assert expectation["name"] == "expect-grok"
    assert expectation["run"] == "short"
    assert expectation["passed"] is False


def test_json_single_run_comparison_null(grokked_run, tmp_path):
    json_file = tmp_path / "report.json"
    report(str(grokked_run.run.path), "--json", str(json_file))
    data = read_json(json_file)
    assert data["comparison"] is None
    assert data["expectations"] == []
    assert data["passed"] is True


def test_several_runs_comparison(grokked_run, short_run, tmp_path):
    json_file = tmp_path / "report.json"
    result = report(str(grokked_run.run.path), str(short_run), "--json", str(json_file))
    assert result.exit_code == 0
    assert "## Comparison of 2 runs" in result.stdout
    assert "1 of 2 runs grokked" in result.stdout
    comparison = read_json(json_file)["comparison"]
    assert comparison["grokked"] == 1
    at_grok = next(r for r in grokked_run.records if r["step"] == grokked_run.grok_step)
    spread = comparison["at_grok_spread"]["eps_eq"]
    assert spread["count"] == 1
    assert spread["median"] == pytest.approx(at_grok["eps_eq"])


def test_folder_of_runs_expands(grokked_copy, short_run, tmp_path):
    shutil.copytree(short_run, grokked_copy.parent / "short")
    json_file = tmp_path / "report.json"
    result = report(str(grokked_copy.parent), "--json", str(json_file))
    assert result.exit_code == 0
    assert [run["name"] for run in read_json(json_file)["runs"]] == ["grokked", "short"]


def test_out_file_and_step_summary(grokked_run, tmp_path):
    out = tmp_path / "report.md"
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    result = report(str(grokked_run.run.path), "--out", str(out), env=env)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("# grok-tui report")
    assert summary.read_text(encoding="utf-8").startswith("earlier step\n# grok-tui report")


def test_ascii_flag_output(grokked_run):
    result = report(str(grokked_run.run.path), "--ascii")
    assert result.stdout.isascii()
    assert "| eps_eq |" in result.stdout


# invalid arguments and unreadable runs


def test_unreadable_config_exit_2(grokked_copy):
    (grokked_copy / "config.json").write_text("{not json", encoding="utf-8")
    result = report(str(grokked_copy))
    assert result.exit_code == 2
    assert str(grokked_copy / "config.json") in result.stderr
    assert result.stdout == ""


def test_missing_run_exit_2(tmp_path):
    result = report(str(tmp_path / "absent"))
    assert result.exit_code == 2
    assert f"run folder {tmp_path / 'absent'} does not exist" in result.stderr


def test_empty_folder_exit_2(tmp_path):
    result = report(str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path} is not a run and holds no runs" in result.stderr


def test_no_arguments_exit_2():
    result = report()
    assert result.exit_code == 2
    assert "missing RUN" in result.stderr


def test_train_option_without_train(grokked_run):
    result = report("--p", "41")
    assert result.exit_code == 2
    assert "unknown option '--p'" in result.stderr


def test_out_folder_exit_2(grokked_run, tmp_path):
    result = report(str(grokked_run.run.path), "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--train-out" in result.stderr


# --train


def test_train_reports_fresh_run(tmp_path):
    arguments = ["--train", "--p", "41", "--frac", "0.5", "--lr", "1e-2", "--steps", "30",
                 "--name", "fresh", "--train-out", str(tmp_path), "--expect-bounds"]  # fmt: skip
    result = report(*arguments)
    assert result.exit_code == 0
    assert result.stdout.startswith("# grok-tui report\n")
    assert "## Run `fresh`" in result.stdout
    assert "training a + b mod 41" in result.stderr
    assert Run.open(tmp_path / "fresh").state() == "finished"


def test_train_default_name(tmp_path):
    result = report("--train", "--p", "41", "--steps", "5", "--train-out", str(tmp_path))
    assert result.exit_code == 0
    names = [path.name for path in tmp_path.iterdir()]
    assert len(names) == 1
    assert names[0].startswith("add-p41-mlp-s0-")
    assert f"## Run `{names[0]}`" in result.stdout


def test_train_invalid_value_exit_2(tmp_path):
    result = report("--train", "--p", "41", "--frac", "2", "--train-out", str(tmp_path))
    assert result.exit_code == 2
    assert "train fraction 2.0" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_train_unknown_option_exit_2(tmp_path):
    result = report("--train", "--p", "41", "--bogus", "1", "--train-out", str(tmp_path))
    assert result.exit_code == 2
    assert "invalid train option: No such option: --bogus" in result.stderr


# the real command line, without a terminal


def test_subprocess_without_terminal(grokked_run):
    completed = subprocess.run(
        [sys.executable, "-m", "grok_tui", "report", str(grokked_run.run.path), "--expect-grok"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=subprocess_env(PYTHONIOENCODING="utf-8"),
        timeout=120,
    )
    assert completed.returncode == 0
    markdown = completed.stdout.decode("utf-8")
    assert markdown.startswith("# grok-tui report\n")
    assert "| ε_eq |" in markdown
    assert "\x1b" not in markdown


def test_subprocess_ascii_encoding(grokked_run):
    completed = subprocess.run(
        [sys.executable, "-m", "grok_tui", "report", str(grokked_run.run.path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=subprocess_env(PYTHONIOENCODING="ascii"),
        timeout=120,
    )
    assert completed.returncode == 0
    assert completed.stdout.isascii()
    assert b"| median rho |" in completed.stdout
    assert b"```text" in completed.stdout


# damaged runs


def garble_metrics_line(run_path: Path, index: int) -> Path:
    """Replace the metrics line at 0-based ``index`` with text that is not JSON."""
    log = run_path / "metrics.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[index] = "not json\n"
    log.write_text("".join(lines), encoding="utf-8")
    return log


def test_garbled_metrics_line_exit_2(grokked_copy):
    log = garble_metrics_line(grokked_copy, 3)
    result = report(str(grokked_copy))
    assert result.exit_code == 2
    assert "Problems reading the run" in result.stdout
    assert result.stdout.startswith("# grok-tui report\n")
    assert f"warning: {log}: skipped unreadable line 4" in result.stderr


def test_corrupt_checkpoint_exit_2(grokked_copy):
    run = Run.open(grokked_copy)
    weights, _ = run.checkpoint_paths(run.checkpoint_steps()[-1])
    weights.write_bytes(weights.read_bytes()[:100])
    result = report(str(grokked_copy))
    assert result.exit_code == 2
    assert f"checkpoint {weights} is corrupt" in result.stdout
    assert f"warning: checkpoint {weights} is corrupt" in result.stderr


def test_problem_beats_failed_expectation(grokked_copy, short_run):
    garble_metrics_line(grokked_copy, 3)
    result = report(str(grokked_copy), str(short_run), "--expect-grok")
    assert result.exit_code == 2
    assert "expectation failed: --expect-grok on run short" in result.stderr


def test_subprocess_warns_once(grokked_copy):
    garble_metrics_line(grokked_copy, 3)
    completed = subprocess.run(
        [sys.executable, "-m", "grok_tui", "report", str(grokked_copy)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=subprocess_env(PYTHONIOENCODING="utf-8"),
        timeout=120,
    )
    stderr = completed.stderr.decode("utf-8")
    assert completed.returncode == 2
    assert stderr.count("unreadable line") == 1


# text charts


def test_log_step_ticks_decades():
    positions, labels = log_step_ticks(5000)
    assert labels == ["0", "1", "10", "100", "1k", "2k", "5k"]
    assert positions[0] == 0.0
    assert positions[-1] == pytest.approx(log_step(5000))


def test_log_step_ticks_short_run():
    assert log_step_ticks(50)[1] == ["0", "1", "2", "5", "10", "20", "50"]


def test_log_value_ticks_stride():
    positions, labels = log_value_ticks(-6.2, 3.5, max_ticks=5)
    assert len(positions) <= 5
    assert labels[0] == "1e-07"


def test_render_chart_ascii():
    spec = ChartSpec("ε chart", "caption", [Series("ρ", [0.0, 1.0, 2.0], [0.1, 0.5, 0.9], "*")])
    chart = render_chart(spec, 50, height=10, ascii_only=True)
    assert chart.isascii()
    assert "rho" in chart
    assert max(len(line) for line in chart.splitlines()) <= 50


def test_render_chart_no_points():
    spec = ChartSpec("empty", "caption", [Series("a", [], [], "*")])
    assert render_chart(spec, 60) == "empty: no values to plot"


def test_to_ascii_spelling():
    assert to_ascii("ε_eq ≥ ρ — γ*") == "eps_eq >= rho - gamma*"

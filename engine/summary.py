"""A run's summary: config, status, final and best metrics, the grok step and the checkpoints.

One definition serves ``grok-tui inspect --print/--json``, the run browser and ``report``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from engine.metrics import GROK_THRESHOLD, grok_step
from engine.runs import Run, RunError

# metrics reported at the grok step, in this order
AT_GROK_KEYS = ("eps_eq", "eps_top", "rho_median", "rho_max", "certified_test", "margin")


@dataclass
class RunSummary:
    """Everything a reader wants to know about a run at a glance. JSON-ready via ``to_dict``."""

    name: str
    path: str
    state: str  # running, finished, stopped, diverged or interrupted
    step: int  # last step reached (from the status, or the last record)
    message: str
    config: dict[str, Any]
    task: dict[str, Any]
    device: str
    versions: dict[str, str]
    num_records: int
    final: dict[str, Any] | None  # the last metrics record, without the per-frequency lists
    best_test_acc: float | None
    best_test_acc_step: int | None
    min_test_loss: float | None
    min_test_loss_step: int | None
    grok_step: int | None  # first step with test accuracy >= GROK_THRESHOLD
    at_grok: dict[str, Any] | None  # AT_GROK_KEYS at the grok step
    top_frequencies: list[int]  # of the logit profile at the last record
    checkpoints: list[dict[str, Any]]  # {"step", "test_acc"} per checkpoint, ascending
    problems: list[str] = field(default_factory=list)  # unreadable lines or files

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain data."""
        return asdict(self)


_LIST_KEYS = ("embedding_energy", "unembedding_energy", "profile_power")


def scalar_metrics(record: dict[str, Any]) -> dict[str, Any]:
    """Return a record without its per-frequency lists."""
    return {key: value for key, value in record.items() if key not in _LIST_KEYS}


def summarize_run(run: Run) -> RunSummary:
    """Read a run folder and summarise it; what cannot be read is listed in ``problems``.

    Raises:
        RunError: the folder is not a readable run (no config, or a newer format).
    """
    record = run.read_config()
    records, skipped = run.read_metrics_with_errors()
    problems = [f"{run.path / 'metrics.jsonl'}: skipped unreadable line {n}" for n in skipped]
    status = run.read_status()
    if status is None:
        problems.append(f"{run.path / 'status.json'} is missing or unreadable")

    by_step = {r.get("step"): r for r in records}
    grokked = grok_step(records, GROK_THRESHOLD)
    at_grok = None
    if grokked is not None:
        at_grok = {key: by_step[grokked].get(key) for key in AT_GROK_KEYS}

    best = max(records, key=lambda r: r.get("test_acc", 0.0), default=None)
    lowest = min(records, key=lambda r: r.get("test_loss", float("inf")), default=None)
    final = records[-1] if records else None
    checkpoints = [
        {"step": step, "test_acc": by_step.get(step, {}).get("test_acc")}
        for step in run.checkpoint_steps()
    ]
    if status is not None:
        last_step = status.step
    else:
        last_step = final["step"] if final else 0

    return RunSummary(
        name=run.name,
        path=str(run.path),
        state=run.state(),
        step=last_step,
        message=status.message if status else "",
        config=record.get("config", {}),
        task=record.get("task", {}),
        device=record.get("device", ""),
        versions=record.get("versions", {}),
        num_records=len(records),
        final=scalar_metrics(final) if final else None,
        best_test_acc=best.get("test_acc") if best else None,
        best_test_acc_step=best.get("step") if best else None,
        min_test_loss=lowest.get("test_loss") if lowest else None,
        min_test_loss_step=lowest.get("step") if lowest else None,
        grok_step=grokked,
        at_grok=at_grok,
        top_frequencies=list(final.get("top_frequencies", [])) if final else [],
        checkpoints=checkpoints,
        problems=problems,
    )


def try_summarize(run: Run) -> RunSummary | RunError:
    """Return the run's summary, or the RunError that explains why it cannot be read."""
    try:
        return summarize_run(run)
    except RunError as error:
        return error

"""The content of ``grok-tui report``: run summaries, bound checks, expectations, comparison.

``build_report`` reads run folders into a ``Report``; ``render_markdown`` and ``report_to_dict``
turn it into Markdown and JSON. No Typer here: the command lives in grok_tui.commands.report.

JSON schema, version ``SCHEMA_VERSION`` (non-finite numbers are written as null)::

    {
      "schema_version": 1,
      "generated": "2026-01-31T12:00:00+00:00",   # ISO 8601 time of the report, UTC
      "runs": [                                    # one per run, in argument order
        {
          ...every field of engine.summary.RunSummary.to_dict(): name, path (as given),
          state, step, message, config, task, device, versions, num_records, final,
          best_test_acc, best_test_acc_step, min_test_loss, min_test_loss_step, grok_step,
          at_grok, top_frequencies, checkpoints, problems (here also each checkpoint
          whose weights file is missing or corrupt),
          "bound_check": {
            "records": int,                        # records checked
            "violations": [{"step": int, "bound": "acc_gap_bound" | "loss_gap_bound",
                            "bound_value": float, "gap": "acc_gap" | "loss_gap",
                            "gap_value": float}],
            "missing_acc_gap_bound": int,          # records where that bound is null
            "missing_loss_gap_bound": int
          },
          "expectations": [{"name", "run", "passed", "reason"}]   # this run's results
        }
      ],
      "comparison": null | {                       # null for a single run
        "total": int, "grokked": int,
        "runs": [{"name", "path", "state", "op", "p", "model", "train_fraction", "lr",
                  "weight_decay", "seed", "steps", "final_test_acc", "best_test_acc",
                  "grok_step", "eps_eq_at_grok", "rho_median_at_grok",
                  "certified_test_at_grok"}],
        "at_grok_spread": {"eps_eq": SPREAD, "rho_median": SPREAD}
      },
      "expectations": [{"name": str, "run": str, "passed": bool, "reason": str}],
      "passed": bool                               # true when every expectation passed
    }

where SPREAD is ``{"min", "median", "max": float | null, "count": int}`` over the runs that
grokked and have that value at their grok step.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine import __version__
from engine.checkpoint_geometry import checkpoint_problem
from engine.metrics import GROK_THRESHOLD
from engine.runs import Run
from engine.summary import RunSummary, summarize_run
from grok_tui.textcharts import render_chart, run_chart_specs, to_ascii

SCHEMA_VERSION = 1
BOUND_TOLERANCE = 1e-9  # a bound may fall this far below its gap from float rounding alone
BOUND_PAIRS = (("acc_gap_bound", "acc_gap"), ("loss_gap_bound", "loss_gap"))
# Markdown that data text could start: code, emphasis, links, tables, HTML tags
_MARKDOWN_SPECIAL = re.compile(r"[\\`*|\[\]]|<(?=[A-Za-z/!?])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


# expectations


@dataclass(frozen=True)
class Expectations:
    """Expectations that every run must meet; one that fails fails the report."""

    grok: bool = False  # test accuracy reached GROK_THRESHOLD
    bounds: bool = False  # no bound below its measured gap in any record
    max_steps: int | None = None  # grokked by this step


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation on one run."""

    name: str  # the flag: expect-grok, expect-bounds or expect-max-steps
    run: str  # the run's name
    passed: bool
    reason: str


@dataclass
class BoundCheck:
    """The records of a run whose certified bounds fell below the measured gaps."""

    records: int
    violations: list[dict[str, Any]] = field(default_factory=list)
    missing_acc_gap_bound: int = 0
    missing_loss_gap_bound: int = 0


def _number(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None when it is missing or not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def check_bounds(records: Sequence[dict[str, Any]]) -> BoundCheck:
    """Compare each record's acc_gap_bound and loss_gap_bound with the gap it bounds.

    The bounds hold for every model at every step, so a bound more than ``BOUND_TOLERANCE``
    below its gap is a bug. A null bound (the loss bound is null when it is infinite) or a
    missing gap is counted, not checked.
    """
    check = BoundCheck(records=len(records))
    for record in records:
        for bound_key, gap_key in BOUND_PAIRS:
            bound, gap = _number(record.get(bound_key)), _number(record.get(gap_key))
            if bound is None or gap is None:
                if bound_key == "acc_gap_bound":
                    check.missing_acc_gap_bound += 1
                else:
                    check.missing_loss_gap_bound += 1
                continue
            if bound < gap - BOUND_TOLERANCE:
                check.violations.append({
                    "step": record.get("step"),
                    "bound": bound_key,
                    "bound_value": bound,
                    "gap": gap_key,
                    "gap_value": gap,
                })  # fmt: skip
    return check


def _skipped_bounds_note(check: BoundCheck) -> str:
    """Describe the records whose bounds could not be checked, or return an empty string."""
    parts = []
    if check.missing_acc_gap_bound:
        parts.append(f"{check.missing_acc_gap_bound} without an accuracy bound")
    if check.missing_loss_gap_bound:
        parts.append(f"{check.missing_loss_gap_bound} without a finite loss bound")
    return f"; skipped {' and '.join(parts)}" if parts else ""


def _bounds_result(summary: RunSummary, check: BoundCheck) -> tuple[bool, str]:
    """Judge expect-bounds: pass when every checkable bound is at or above its gap."""
    if check.records == 0:
        return False, "no metrics records to check"
    skipped = _skipped_bounds_note(check)
    if not check.violations:
        return True, f"no bound below its measured gap in {check.records} records{skipped}"
    first = check.violations[0]
    return False, (
        f"{len(check.violations)} bound values below their measured gap, first at step "
        f"{first['step']}: {first['bound']} {first['bound_value']:.6g} < {first['gap']} "
        f"{first['gap_value']:.6g}{skipped}"
    )


def _not_grokked_reason(summary: RunSummary) -> str:
    """Explain that a run did not grok, with its best test accuracy."""
    if summary.best_test_acc is None:
        return f"test accuracy never reached {GROK_THRESHOLD}: the run has no metrics records"
    return (
        f"test accuracy never reached {GROK_THRESHOLD} in {summary.step} steps: best "
        f"{summary.best_test_acc:.4f} at step {summary.best_test_acc_step}"
    )


def check_expectations(
    summary: RunSummary, bounds: BoundCheck, expectations: Expectations
) -> list[ExpectationResult]:
    """Judge each requested expectation on one run; a diverged run fails all of them."""
    outcomes: list[tuple[str, bool, str]] = []
    grokked = summary.grok_step
    if expectations.grok:
        if grokked is None:
            outcomes.append(("expect-grok", False, _not_grokked_reason(summary)))
        else:
            reason = f"test accuracy reached {GROK_THRESHOLD} at step {grokked}"
            outcomes.append(("expect-grok", True, reason))
    if expectations.max_steps is not None:
        limit = expectations.max_steps
        if grokked is None:
            outcomes.append(("expect-max-steps", False, _not_grokked_reason(summary)))
        elif grokked > limit:
            reason = f"grokked at step {grokked}, after the expected step {limit}"
            outcomes.append(("expect-max-steps", False, reason))
        else:
            outcomes.append(("expect-max-steps", True, f"grokked at step {grokked} <= {limit}"))
    if expectations.bounds:
        outcomes.append(("expect-bounds", *_bounds_result(summary, bounds)))

    if summary.state == "diverged":
        message = summary.message or f"at step {summary.step}"
        outcomes = [(name, False, f"the run diverged: {message}") for name, _, _ in outcomes]
    return [
        ExpectationResult(name, summary.name, passed, reason) for name, passed, reason in outcomes
    ]


# building the report


@dataclass
class RunReport:
    """One run's part of the report: its summary, records, bound check and expectations."""

    summary: RunSummary
    records: list[dict[str, Any]]
    bounds: BoundCheck
    expectations: list[ExpectationResult]


@dataclass
class Report:
    """A report on one or more runs."""

    generated: str  # ISO 8601 time, UTC
    runs: list[RunReport]
    comparison: dict[str, Any] | None  # None for a single run

    @property
    def expectations(self) -> list[ExpectationResult]:
        """Every run's expectation results, run by run."""
        return [result for run in self.runs for result in run.expectations]

    @property
    def passed(self) -> bool:
        """Whether every expectation passed (true when none was requested)."""
        return all(result.passed for result in self.expectations)

    @property
    def problems(self) -> list[str]:
        """What could not be read in any run: unreadable metrics lines, checkpoints, status."""
        return [problem for run in self.runs for problem in run.summary.problems]


class _MetricsReadOnce(Run):
    """A run whose metrics log is read once, however often it is asked for.

    The summary and the report both need the records, and each read of a log with an
    unreadable line logs that line again.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._metrics: tuple[list[dict[str, Any]], list[int]] | None = None

    def read_metrics_with_errors(self) -> tuple[list[dict[str, Any]], list[int]]:
        """Return the records and unreadable line numbers of the first read."""
        if self._metrics is None:
            self._metrics = super().read_metrics_with_errors()
        return self._metrics


def report_run(run: Run, expectations: Expectations) -> RunReport:
    """Summarise one run, check its checkpoints and bounds, and judge the expectations.

    A checkpoint whose weights file is missing or corrupt is added to the summary's problems.

    Raises:
        RunError: the run folder or its metrics log cannot be read.
    """
    run = _MetricsReadOnce(run.path)
    summary = summarize_run(run)
    if not summary.name:  # a run given as "." or ".."
        summary.name = Path(summary.path).resolve().name
    for checkpoint in summary.checkpoints:
        problem = checkpoint_problem(run, checkpoint["step"])
        if problem:
            summary.problems.append(problem)
    records = run.read_metrics()
    bounds = check_bounds(records)
    return RunReport(summary, records, bounds, check_expectations(summary, bounds, expectations))


def build_report(
    runs: Sequence[Run], expectations: Expectations, now: datetime | None = None
) -> Report:
    """Read the runs and build the report; the comparison needs at least two runs.

    Raises:
        RunError: a run folder or its metrics log cannot be read.
    """
    generated = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    run_reports = [report_run(run, expectations) for run in runs]
    comparison = compare_runs([r.summary for r in run_reports]) if len(run_reports) > 1 else None
    return Report(generated, run_reports, comparison)


# comparison across runs


def _spread(values: list[float | None]) -> dict[str, Any]:
    """Return min, median and max of the values that are not None, and their count."""
    present = [value for value in values if value is not None]
    if not present:
        return {"min": None, "median": None, "max": None, "count": 0}
    return {
        "min": min(present),
        "median": statistics.median(present),
        "max": max(present),
        "count": len(present),
    }


def _at_grok(summary: RunSummary, key: str) -> Any:
    """Return a metric at the run's grok step, or None when it did not grok."""
    return (summary.at_grok or {}).get(key)


def compare_runs(summaries: Sequence[RunSummary]) -> dict[str, Any]:
    """Tabulate the runs side by side, with the spread of ε_eq and median ρ at the grok step.

    The spread shows how aligned runs were when they grokked: median ρ < 1 means most test
    inputs were certified correct, so it locates the critical alignment across runs.
    """
    rows = []
    for summary in summaries:
        config, final = summary.config, summary.final or {}
        rows.append({
            "name": summary.name,
            "path": summary.path,
            "state": summary.state,
            "op": config.get("op"),
            "p": config.get("p"),
            "model": config.get("model"),
            "train_fraction": config.get("train_fraction"),
            "lr": config.get("lr"),
            "weight_decay": config.get("weight_decay"),
            "seed": config.get("seed"),
            "steps": summary.step,
            "final_test_acc": final.get("test_acc"),
            "best_test_acc": summary.best_test_acc,
            "grok_step": summary.grok_step,
            "eps_eq_at_grok": _at_grok(summary, "eps_eq"),
            "rho_median_at_grok": _at_grok(summary, "rho_median"),
            "certified_test_at_grok": _at_grok(summary, "certified_test"),
        })  # fmt: skip
    return {
        "total": len(rows),
        "grokked": sum(1 for row in rows if row["grok_step"] is not None),
        "runs": rows,
        "at_grok_spread": {
            "eps_eq": _spread([_number(row["eps_eq_at_grok"]) for row in rows]),
            "rho_median": _spread([_number(row["rho_median_at_grok"]) for row in rows]),
        },
    }


# JSON


def _finite(data: Any) -> Any:
    """Return ``data`` with every non-finite float replaced by None, so it is valid JSON."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(value) for value in data]
    return data


def report_to_dict(report: Report) -> dict[str, Any]:
    """Return the report as JSON-ready data, in the schema of this module's docstring."""
    runs = []
    for run in report.runs:
        entry = run.summary.to_dict()
        entry["bound_check"] = asdict(run.bounds)
        entry["expectations"] = [asdict(result) for result in run.expectations]
        runs.append(entry)
    return _finite({
        "schema_version": SCHEMA_VERSION,
        "generated": report.generated,
        "runs": runs,
        "comparison": report.comparison,
        "expectations": [asdict(result) for result in report.expectations],
        "passed": report.passed,
    })  # fmt: skip


def report_to_json(report: Report) -> str:
    """Return the report as indented JSON text."""
    return json.dumps(report_to_dict(report), indent=2, allow_nan=False) + "\n"


# Markdown


def _code(text: str) -> str:
    """Return ``text`` as a Markdown code span, safe inside a table cell."""
    text = str(text).replace("|", "\\|").replace("\n", " ")
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _plain(text: str) -> str:
    """Escape Markdown syntax in data text (messages, paths) so it shows literally.

    Only characters that would start markup are escaped, so the raw text stays readable in a
    CI log: ``_`` inside a word and ``<`` before a space are left alone.
    """
    return _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), text).replace("\n", " ")


def _fmt(value: Any, digits: int = 4) -> str:
    """Format a metric for a table: fixed decimals for fractions, general form otherwise."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if 0.001 <= abs(value) <= 1 or value == 0:
            return f"{value:.{digits}f}"
        return f"{value:.{digits}g}"
    return str(value)


def _fmt_setting(value: Any) -> str:
    """Format a config value as written: 0.01 stays 0.01, None is n/a."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Return a Markdown table; columns whose index is in ``right`` are right-aligned."""
    rule = ["---:" if index in right else "---" for index in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _describe_task(op: Any, p: Any) -> str:
    """Return a task as ``a + b mod 113``; an unknown operation is shown by its name."""
    symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/"}.get(op, op)
    return f"a {symbol} b mod {p}"


def _header_section(report: Report) -> list[str]:
    """Render the title, the generation line and the verdict on the expectations."""
    count = len(report.runs)
    lines = [
        "# grok-tui report",
        "",
        f"Generated {report.generated} by grok-tui {__version__} from {count} "
        f"run{'s' if count != 1 else ''}.",
    ]
    results = report.expectations
    if results:
        failed = sum(1 for result in results if not result.passed)
        verdict = (
            f"**All {len(results)} expectations passed.**"
            if not failed
            else f"**{failed} of {len(results)} expectations failed.**"
        )
        lines += ["", verdict, "", "## Expectations", ""]
        rows = [
            [
                _code(f"--{result.name}"),
                _code(result.run),
                "passed" if result.passed else "**FAILED**",
                _plain(result.reason),
            ]
            for result in results
        ]
        lines.append(_table(["expectation", "run", "result", "reason"], rows))
    return lines


def _comparison_section(comparison: dict[str, Any]) -> list[str]:
    """Render the side-by-side table of the runs and the spread at the grok step."""
    header = [
        "run", "state", "task", "model", "train fraction", "lr", "wd", "seed", "steps",
        "final test acc", "best test acc", "grok step", "ε_eq at grok", "median ρ at grok",
        "certified test at grok",
    ]  # fmt: skip
    rows = []
    for row in comparison["runs"]:
        task = _describe_task(row["op"], row["p"])
        values = [
            row["model"], row["train_fraction"], row["lr"], row["weight_decay"], row["seed"],
            row["steps"], row["final_test_acc"], row["best_test_acc"], row["grok_step"],
            row["eps_eq_at_grok"], row["rho_median_at_grok"], row["certified_test_at_grok"],
        ]  # fmt: skip
        settings = [_fmt_setting(v) for v in values[:6]]
        metrics = [_fmt(v) for v in values[6:]]
        rows.append([_code(row["name"]), row["state"], task] + settings + metrics)
    lines = [
        f"## Comparison of {comparison['total']} runs",
        "",
        _table(header, rows, right=range(4, len(header))),
        "",
        f"{comparison['grokked']} of {comparison['total']} runs grokked (test accuracy >= "
        f"{GROK_THRESHOLD}). Spread at their grok step; median ρ < 1 means most test inputs "
        "were certified correct, and ρ = 1 is the critical threshold of alignment:",
        "",
    ]
    spread_rows = []
    for key, label in (("eps_eq", "ε_eq"), ("rho_median", "median ρ")):
        spread = comparison["at_grok_spread"][key]
        spread_rows.append(
            [label] + [_fmt(spread[k]) for k in ("min", "median", "max")] + [str(spread["count"])]
        )
    lines.append(
        _table(["at the grok step", "min", "median", "max", "runs"], spread_rows, (1, 2, 3, 4))
    )
    return lines


# rows of the metrics table: (record key, label); accuracies and fractions in [0, 1]
_METRIC_ROWS = (
    ("train_acc", "train accuracy"),
    ("test_acc", "test accuracy"),
    ("train_loss", "train loss (nats)"),
    ("test_loss", "test loss (nats)"),
    ("eps_eq", "ε_eq"),
    ("eps_top", "ε_top"),
    ("effective_irreps", "effective irreps"),
    ("margin", "margin γ* (logits)"),
    ("certified_test", "certified test fraction"),
    ("rho_median", "median ρ"),
    ("rho_max", "max ρ"),
    ("acc_gap", "accuracy gap"),
    ("acc_gap_bound", "accuracy gap bound"),
    ("loss_gap", "loss gap (nats)"),
    ("loss_gap_bound", "loss gap bound (nats)"),
)
_AT_GROK_LABELS = {
    "eps_eq": "ε_eq",
    "eps_top": "ε_top",
    "rho_median": "median ρ",
    "rho_max": "max ρ",
    "certified_test": "certified test fraction",
    "margin": "margin γ* (logits)",
}
MAX_LISTED_VIOLATIONS = 5


def _status_lines(summary: RunSummary) -> list[str]:
    """Render the run's path, state, task, model and device, and its status message."""
    config = summary.config
    lines = []
    if summary.path != summary.name:
        lines += [f"Path: {_code(summary.path)}", ""]
    task = _describe_task(config.get("op"), config.get("p"))
    lines.append(
        f"**{summary.state}** at step {summary.step} of {config.get('steps', '?')}: {task}, "
        f"{config.get('model', '?')} ({config.get('preset', '?')} preset) on "
        f"{summary.device or '?'}, {summary.num_records} evaluations."
    )
    if summary.message:
        lines += ["", f"Status message: {_plain(summary.message)}"]
    return lines


def _grok_lines(summary: RunSummary) -> list[str]:
    """Render the grok step and the metrics at it, or why the run did not grok."""
    if summary.grok_step is None:
        return [f"Did not grok: {_plain(_not_grokked_reason(summary))}."]
    lines = [
        f"Grokked at step {summary.grok_step}: the first evaluation with test accuracy >= "
        f"{GROK_THRESHOLD}.",
        "",
    ]
    at_grok = summary.at_grok or {}
    rows = [[label, _fmt(at_grok.get(key))] for key, label in _AT_GROK_LABELS.items()]
    lines.append(_table(["at the grok step", "value"], rows, right=(1,)))
    return lines


def _bound_lines(check: BoundCheck) -> list[str]:
    """Render the result of comparing every record's bounds with the measured gaps."""
    skipped = _skipped_bounds_note(check)
    if check.records == 0:
        return ["Bounds: no metrics records to check."]
    if not check.violations:
        return [
            f"Bounds: no certified bound below its measured gap in {check.records} records"
            f"{skipped}."
        ]
    lines = [
        f"Bounds: **{len(check.violations)} bound values below their measured gap** in "
        f"{check.records} records{skipped}. A bound below its gap is a bug.",
        "",
    ]
    rows = [
        [str(v["step"]), v["bound"], _fmt(v["bound_value"], 6), v["gap"], _fmt(v["gap_value"], 6)]
        for v in check.violations[:MAX_LISTED_VIOLATIONS]
    ]
    lines.append(_table(["step", "bound", "value", "gap", "value"], rows, right=(0, 2, 4)))
    if len(check.violations) > MAX_LISTED_VIOLATIONS:
        lines += ["", f"... and {len(check.violations) - MAX_LISTED_VIOLATIONS} more."]
    return lines


def _metric_lines(summary: RunSummary) -> list[str]:
    """Render the final record's metrics, with the best test accuracy and lowest test loss."""
    final = summary.final
    if final is None:
        return ["No metrics records."]
    best = {
        "test_acc": f"max {_fmt(summary.best_test_acc)} at step {summary.best_test_acc_step}",
        "test_loss": f"min {_fmt(summary.min_test_loss)} at step {summary.min_test_loss_step}",
    }
    rows = [[label, _fmt(final.get(key)), best.get(key, "")] for key, label in _METRIC_ROWS]
    header = ["metric", f"final (step {final.get('step')})", "best"]
    lines = [_table(header, rows, right=(1,))]
    top = ", ".join(str(k) for k in summary.top_frequencies) or "n/a"
    lines += ["", f"Top frequencies of the logit profile at the last record: {top}."]
    return lines


def _config_lines(summary: RunSummary) -> list[str]:
    """Render the config as a table of JSON values, then device, versions and checkpoints."""
    rows = [[key, _code(json.dumps(value))] for key, value in summary.config.items()]
    lines = [_table(["setting", "value"], rows)]
    versions = ", ".join(f"{name} {version}" for name, version in summary.versions.items())
    lines += ["", f"Trained on {summary.device or '?'} with {versions or 'unknown versions'}."]
    steps = [checkpoint["step"] for checkpoint in summary.checkpoints]
    if steps:
        lines.append(f"{len(steps)} checkpoints, steps {steps[0]} to {steps[-1]}.")
    else:
        lines.append("No checkpoints.")
    if summary.problems:
        lines += ["", "Problems reading the run:", ""]
        lines += [f"- {_plain(problem)}" for problem in summary.problems]
    return lines


def _chart_lines(run: RunReport, width: int, ascii_only: bool) -> list[str]:
    """Render the charts of one run, each with its caption, in fenced text blocks."""
    if not run.records:
        return ["No metrics records to plot."]
    lines = ["Log step axis: ticks label the step, plotted at log10(step + 1)."]
    for spec in run_chart_specs(run.records, run.summary.grok_step):
        chart = render_chart(spec, width, ascii_only=ascii_only)
        lines += ["", spec.caption, "", "```text", chart, "```"]
    return lines


def _run_section(run: RunReport, width: int, ascii_only: bool) -> list[str]:
    """Render everything about one run."""
    summary = run.summary
    lines = [f"## Run {_code(summary.name)}", ""]
    lines += _status_lines(summary)
    lines += ["", "### Grokking", ""]
    lines += _grok_lines(summary)
    lines += [""] + _bound_lines(run.bounds)
    lines += ["", "### Metrics", ""]
    lines += _metric_lines(summary)
    lines += ["", "### Config", ""]
    lines += _config_lines(summary)
    lines += ["", "### Charts", ""]
    lines += _chart_lines(run, width, ascii_only)
    return lines


def render_markdown(report: Report, width: int = 100, ascii_only: bool = False) -> str:
    """Render the report as Markdown.

    Args:
        report: the report to render.
        width: characters per chart line.
        ascii_only: write only ASCII characters: Greek letters spelled out (eps, rho), charts
            framed with ``+ - |``.
    """
    lines = _header_section(report)
    if report.comparison is not None:
        lines += [""] + _comparison_section(report.comparison)
    for run in report.runs:
        lines += [""] + _run_section(run, width, ascii_only)
    text = "\n".join(lines) + "\n"
    return to_ascii(text) if ascii_only else text

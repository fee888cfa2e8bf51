"""Benchmark grok-tui's training engine against a straightforward reference loop, for p=113.

Run from the repository root::

    python -m benchmarks.bench             # full benchmark
    python -m benchmarks.bench --quick     # fewer repetitions, one time-to-grok seed
    python -m benchmarks.bench --markdown  # the same results as Markdown tables
    python -m benchmarks.bench --device cuda

docs/benchmarks.md records the results, with the machine and how long each mode took.

Measured, for the ``fast-mlp`` and ``nanda`` presets:

- full-batch steps per second of the engine's step (the forward, loss, backward and AdamW
  update of ``engine.training``'s loop, built by ``engine.training._build_session``) and of
  ``benchmarks.reference``, each with and without a test-set evaluation every step;
- matmul FLOPs per step, counted analytically, against the measured float32 matmul rate;
- the cost of one metrics evaluation, and its share of training time at the preset's
  evaluation schedule;
- for ``fast-mlp`` (the default run), the time and steps to test accuracy 0.99 and the peak
  resident memory, each seed trained by ``engine.training.train`` in its own subprocess.

NOTE: the CUDA path has never run, because no GPU was available when it was written. Peak
memory there counts host memory only.

What runs is fixed by the flags alone, so two machines run the same work. Timings take the
median over repetitions, and the engine and reference repetitions alternate so that load from
other processes affects both alike.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as ``python benchmarks/bench.py``
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks.reference import (  # noqa: E402
    ReferenceData,
    ReferenceLoop,
    build_reference_model,
    final_logits,
    model_tokens,
)
from engine.config import TrainConfig, resolve_config  # noqa: E402
from engine.metrics import GROK_THRESHOLD, evaluate, grid_logits  # noqa: E402
from engine.schedule import is_eval_step  # noqa: E402
from engine.training import (  # noqa: E402
    TrainControl,
    _batch,
    _build_session,
    _learning_rate,
    _loss,
    _Session,
    train,
)

MODULUS = 113
PRESET_NAMES = ("fast-mlp", "nanda")
DEFAULT_PRESET = "fast-mlp"
MATMUL_SIZE = 2048
THREADING_VARIABLES = ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# engine and reference updates compared for equal losses from the same initial weights; they
# double as the warmup before timing
CHECK_STEPS = 10

# targets, checked in the output
NANDA_MIN_SPEEDUP = 2.0  # engine over reference steps per second, no per-step evaluation
GROK_MAX_SECONDS = 60.0  # median training seconds of fast-mlp to test accuracy 0.99
EVALUATION_MAX_SHARE = 0.10  # metrics evaluation time over training time, default schedule
PEAK_MEMORY_MAX_BYTES = 1 << 30


@dataclass(frozen=True)
class Settings:
    """How much work each measurement does."""

    repeats: int  # timed repetitions per implementation and mode; the median is reported
    timed_steps: dict[str, int]  # steps per repetition, by preset
    evaluation_repeats: int  # timed calls of ``evaluate`` and of the losses-only part
    matmul_repeats: int
    grok_seeds: tuple[int, ...]


FULL = Settings(5, {"fast-mlp": 100, "nanda": 20}, 10, 5, (0, 1, 2))
QUICK = Settings(2, {"fast-mlp": 30, "nanda": 5}, 3, 3, (0,))


# timing helpers


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that the clock measures finished computation."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_per_call(function: Callable[[], Any], calls: int, device: torch.device) -> float:
    """Return the mean wall-clock seconds of ``calls`` consecutive calls of ``function``."""
    synchronize(device)
    start = time.perf_counter()
    for _ in range(calls):
        function()
    synchronize(device)
    return (time.perf_counter() - start) / calls


def measure_matmul_rate(device: torch.device, repeats: int) -> float:
    """Return the float32 matmul rate in FLOP/s: the best of ``repeats`` 2048x2048 products."""
    generator = torch.Generator().manual_seed(0)
    left = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=generator).to(device)
    right = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=generator).to(device)
    torch.matmul(left, right)  # warmup: thread pool start and allocation
    best = min(seconds_per_call(lambda: torch.matmul(left, right), 1, device)
               for _ in range(repeats))
    return 2 * MATMUL_SIZE**3 / best


# FLOP counts


def forward_matmul_flops(config: TrainConfig, batch: int, implementation: str) -> int:
    """Return the FLOPs of the matmuls and einsum contractions of one forward pass.

    A product of (r, k) by (k, c) counts 2*r*k*c FLOPs. Elementwise work, gathers, the
    softmax and the loss are left out. Per update, forward plus backward is counted as three
    times the forward: the backward computes two products of the same size per forward product.

    Args:
        config: the preset's config (model kind, widths, p).
        batch: number of operand pairs in the pass.
        implementation: ``engine`` (the regrouped forward of ``engine.models``) or
            ``reference`` (``benchmarks.reference``).
    """
    n = config.task.n
    width = config.width
    if config.model == "mlp":
        embed, hidden = width["embed_dim"], width["hidden_dim"]
        readout = 2 * batch * hidden * n
        if implementation == "engine":
            # two (n, embed) x (embed, hidden) tables, then the readout per pair
            return 2 * (2 * n * embed * hidden) + readout
        # the concatenated (2 * embed) input through the hidden layer, then the readout
        return 2 * batch * 2 * embed * hidden + readout

    d, heads, d_head, d_mlp = width["d_model"], width["num_heads"], width["d_head"], width["d_mlp"]
    inner = heads * d_head
    per_position = (
        2 * inner * d  # attention output W_O
        + 2 * 2 * d * d_mlp  # MLP in and out
        + 2 * d * n  # unembedding
    )
    if implementation == "engine":
        # query of '=', key and value tables of the n operand tokens at positions 0 and 1, the
        # scores of those keys against the query, then one position per pair
        tables = 2 * inner * d + 2 * (2 * n * d * inner + 2 * n * inner) + 2 * (2 * n * d * inner)
        return tables + batch * per_position
    # queries, keys and values at 3 positions, 3x3 scores and weighted values per head
    sequence = 3
    attention = 3 * 2 * sequence * d * inner + 2 * 2 * heads * sequence * sequence * d_head
    return batch * (attention + sequence * per_position)


def step_flops(config: TrainConfig, train_pairs: int, test_pairs: int, implementation: str,
               evaluate_test: bool) -> int:
    """Return the FLOPs of one update: 3x the train forward, plus a test forward if evaluated."""
    flops = 3 * forward_matmul_flops(config, train_pairs, implementation)
    if evaluate_test:
        flops += forward_matmul_flops(config, test_pairs, implementation)
    return flops


# throughput of the engine and the reference loop


class EngineStepper:
    """Replay the engine loop's update step for step, with no evaluation, checkpoint or callback.

    Args:
        session: a session from ``engine.training._build_session``.
        config: its config.
        test_pairs: (T, 2) operand indices of the test pairs, on the session's device.
        test_labels: (T,) class labels of the test pairs.
    """

    def __init__(self, session: _Session, config: TrainConfig, test_pairs: torch.Tensor,
                 test_labels: torch.Tensor) -> None:
        self.session = session
        self.config = config
        self.test_a = test_pairs[:, 0].contiguous()
        self.test_b = test_pairs[:, 1].contiguous()
        self.test_labels = test_labels
        self.step_count = 0
        session.model.train()

    def step(self, evaluate_test: bool) -> float:
        """Take one update like ``engine.training``'s loop and return the train loss before it.

        With ``evaluate_test`` the engine's forward also runs on every test pair under
        ``no_grad``, and the test loss and accuracy are read back, as the reference does.
        """
        session, config = self.session, self.config
        a, b, labels = _batch(session, config, self.step_count)
        loss = _loss(session, config, a, b, labels)
        train_loss = loss.item()

        if evaluate_test:
            with torch.no_grad():
                test_logits = session.model(self.test_a, self.test_b)
                F.cross_entropy(test_logits, self.test_labels).item()
                (test_logits.argmax(dim=-1) == self.test_labels).float().mean().item()

        for group in session.optimizer.param_groups:
            group["lr"] = _learning_rate(config, self.step_count)
        session.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        session.optimizer.step()
        self.step_count += 1
        return train_loss


@dataclass
class Throughput:
    """Steps per second of one preset, by implementation and evaluation mode."""

    preset: str
    config: TrainConfig
    train_pairs: int
    test_pairs: int
    steps_per_second: dict[tuple[str, bool], float]  # (implementation, evaluate_test) -> rate
    max_loss_difference: float  # over the first CHECK_STEPS updates from equal weights
    initial_logit_difference: float  # max |engine - reference| on the train pairs at step 0
    single_thread_steps_per_second: float  # engine, no per-step evaluation, 1 torch thread


def build_pair(preset: str, device: torch.device) -> tuple[EngineStepper, ReferenceLoop]:
    """Build the engine session and a reference loop that starts from the same weights."""
    config = resolve_config(preset, p=MODULUS, device=str(device))
    session = _build_session(config, None, False)
    task = session.task
    test_index = torch.nonzero(~session.train_mask).flatten()
    test_pairs = task.pairs[test_index].to(device)
    test_labels = task.labels[test_index].to(device)
    engine = EngineStepper(session, config, test_pairs, test_labels)

    reference_model = build_reference_model(config.model, task.n, config.width)
    reference_model.load_state_dict(session.model.state_dict())
    reference_model.to(device).train()
    train_pairs = torch.stack([session.a, session.b], dim=1)
    data = ReferenceData(
        train_tokens=model_tokens(config.model, train_pairs, task.n),
        train_labels=session.labels,
        test_tokens=model_tokens(config.model, test_pairs, task.n),
        test_labels=test_labels,
    )
    reference = ReferenceLoop(
        reference_model,
        data,
        lr=config.lr,
        weight_decay=config.weight_decay,
        betas=config.betas,
        eps=config.eps,
        warmup_steps=config.warmup_steps,
    )
    return engine, reference


def measure_throughput(preset: str, device: torch.device, settings: Settings) -> Throughput:
    """Time the engine's and the reference's updates of ``preset`` with and without test evaluation.

    The first CHECK_STEPS updates of both, from equal weights, are compared for equal losses
    and warm up the allocator and thread pool before timing.
    """
    engine, reference = build_pair(preset, device)
    session = engine.session
    with torch.no_grad():
        engine_logits = session.model(session.a, session.b)
        reference_logits = final_logits(reference.model, reference.data.train_tokens)
    initial_logit_difference = (engine_logits - reference_logits).abs().max().item()

    engine_losses = [engine.step(False) for _ in range(CHECK_STEPS)]
    reference_losses = [reference.step(False)[0] for _ in range(CHECK_STEPS)]
    differences = [abs(x - y) for x, y in zip(engine_losses, reference_losses, strict=True)]

    steps = settings.timed_steps[preset]
    samples: dict[tuple[str, bool], list[float]] = {}
    for _ in range(settings.repeats):
        for evaluate_test in (False, True):
            for name, stepper in (("engine", engine), ("reference", reference)):
                seconds = seconds_per_call(lambda s=stepper, e=evaluate_test: s.step(e), steps,
                                           device)
                samples.setdefault((name, evaluate_test), []).append(1.0 / seconds)

    # one torch thread: the rate when another process or the UI thread keeps a core busy
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single_thread = statistics.median(
            1.0 / seconds_per_call(lambda: engine.step(False), steps, device)
            for _ in range(settings.repeats)
        )
    finally:
        torch.set_num_threads(threads)

    return Throughput(
        preset=preset,
        config=engine.config,
        train_pairs=len(session.labels),
        test_pairs=len(engine.test_labels),
        steps_per_second={key: statistics.median(rates) for key, rates in samples.items()},
        max_loss_difference=max(differences),
        initial_logit_difference=initial_logit_difference,
        single_thread_steps_per_second=single_thread,
    )


# cost of the metrics evaluation


@dataclass
class EvaluationCost:
    """Mean seconds of one metrics evaluation and of its losses-only part, for one preset."""

    full_seconds: float
    losses_seconds: float
    evaluations_per_run: int  # evaluations in a run of the preset's steps and schedule
    run_steps: int


def losses_only(session: _Session) -> tuple[float, float]:
    """Compute what ``evaluate`` computes first: grid logits, then test loss and accuracy."""
    grid = grid_logits(session.task, session.model, session.train_mask)
    test = ~grid.train_mask
    loss = F.cross_entropy(grid.logits[test], grid.label_coordinate[test]).item()
    accuracy = (grid.logits[test].argmax(dim=1) == grid.label_coordinate[test]).double().mean()
    return loss, accuracy.item()


def measure_evaluation(preset: str, device: torch.device, settings: Settings) -> EvaluationCost:
    """Time ``engine.metrics.evaluate`` and its losses-only part on the preset's initial model.

    The cost hardly depends on the weights. One untimed call first fills the caches (the
    Fourier basis and m†), which a run fills at its first evaluation.
    """
    config = resolve_config(preset, p=MODULUS, device=str(device))
    session = _build_session(config, None, False)
    model, task, mask = session.model, session.task, session.train_mask
    model.eval()

    def full() -> None:
        evaluate(model, task, mask, 0, top_m=config.top_m)

    full()
    full_seconds = seconds_per_call(full, settings.evaluation_repeats, device)
    losses_seconds = seconds_per_call(lambda: losses_only(session), settings.evaluation_repeats,
                                      device)
    evaluations = sum(is_eval_step(step, config.eval_every, config.steps)
                      for step in range(config.steps + 1))
    return EvaluationCost(full_seconds, losses_seconds, evaluations, config.steps)


def evaluation_share(cost: EvaluationCost, step_seconds: float, part_seconds: float) -> float:
    """Return evaluations x part time over (run steps x step time + evaluations x full time)."""
    evaluation_total = cost.evaluations_per_run * cost.full_seconds
    return (cost.evaluations_per_run * part_seconds) / (
        cost.run_steps * step_seconds + evaluation_total
    )


# time to grok and peak memory, one subprocess per seed


def grok_worker(seed: int, device: str) -> dict[str, Any]:
    """Train the default run until test accuracy first reaches 0.99; return times and memory.

    ``time`` is the metrics record's training seconds (evaluations included, set-up
    excluded); ``wall`` is measured from the call of ``train``. ``peak_rss_kib`` is this
    process's peak resident memory.
    """
    config = resolve_config(DEFAULT_PRESET, p=MODULUS, seed=seed, device=device)
    control = TrainControl()
    reached: dict[str, Any] = {}
    start = time.perf_counter()

    def on_record(record: dict[str, Any]) -> None:
        """Note the first record at the threshold and stop training there."""
        if not reached and record["test_acc"] >= GROK_THRESHOLD:
            reached.update(step=record["step"], time=record["time"],
                           wall=time.perf_counter() - start)
            control.request_stop()

    result = train(config, control=control, on_record=on_record)
    return {
        "seed": seed,
        "state": result.state,
        "final_step": result.step,
        "step": reached.get("step"),
        "time": reached.get("time"),
        "wall": reached.get("wall"),
        "peak_rss_kib": peak_resident_kib(),
    }


def peak_resident_kib() -> int:
    """Return the peak resident memory of this process in KiB.

    On Linux this reads VmHWM from /proc/self/status rather than ``ru_maxrss``, because the
    kernel carries ``ru_maxrss`` across fork and exec: a worker started by the benchmark
    process would report the benchmark's own, larger peak. Elsewhere it falls back to
    ``ru_maxrss``, which macOS reports in bytes and other systems in KiB.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def run_grok_worker(seed: int, device: str) -> dict[str, Any]:
    """Run ``grok_worker`` in a fresh Python process, so its peak memory is one run's."""
    command = [sys.executable, "-m", "benchmarks.bench", "--grok-worker", str(seed),
               "--device", device]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                               check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"the time-to-grok run for seed {seed} failed with exit code "
            f"{completed.returncode}:\n{completed.stderr.strip()}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


# report


@dataclass
class Target:
    """One target with its measured value."""

    name: str
    measured: str
    met: bool


def read_machine() -> dict[str, str]:
    """Return the CPU model, core count, memory and software versions of this machine."""
    cpu = platform.processor() or platform.machine()
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass  # not Linux: keep the platform module's description
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "torch": torch.__version__,
        "torch threads": str(torch.get_num_threads()),
        "python": platform.python_version(),
    }


def format_rate(value: float) -> str:
    """Format a rate with three significant digits."""
    return f"{value:.3g}"


def median_or_none(values: list[float]) -> float | None:
    """Return the median of ``values``, or None for an empty list."""
    return statistics.median(values) if values else None


def preset_column(throughput: Throughput, cost: EvaluationCost,
                  matmul_rate: float) -> list[tuple[str, str]]:
    """Return one preset's (measurement, value) pairs of throughput, FLOPs and evaluation cost."""
    rates = throughput.steps_per_second
    column = [("train / test pairs", f"{throughput.train_pairs} / {throughput.test_pairs}")]
    for evaluate_test, mode in ((False, "no per-step test eval"), (True, "test eval every step")):
        engine, reference = rates[("engine", evaluate_test)], rates[("reference", evaluate_test)]
        column += [
            (f"engine steps/s, {mode}", format_rate(engine)),
            (f"reference steps/s, {mode}", format_rate(reference)),
            (f"engine / reference, {mode}", f"{engine / reference:.2f}x"),
        ]
    column.append(("engine steps/s, 1 torch thread, no per-step test eval",
                   format_rate(throughput.single_thread_steps_per_second)))
    column += [
        ("max |engine - reference| logits at init",
         f"{throughput.initial_logit_difference:.1e}"),
        (f"max |engine - reference| train loss, first {CHECK_STEPS} updates",
         f"{throughput.max_loss_difference:.1e}"),
    ]

    # FLOPs of one update without test evaluation, and the rate they reach
    work = {
        implementation: step_flops(throughput.config, throughput.train_pairs,
                                   throughput.test_pairs, implementation, False)
        for implementation in ("engine", "reference")
    }
    for implementation, flops in work.items():
        column.append((f"{implementation} GFLOP per update (matmuls)", f"{flops / 1e9:.3f}"))
    for implementation, flops in work.items():
        ceiling_share = flops * rates[(implementation, False)] / matmul_rate
        column.append((f"{implementation} share of matmul ceiling", f"{ceiling_share:.1%}"))

    step_seconds = 1.0 / rates[("engine", False)]
    geometry_seconds = cost.full_seconds - cost.losses_seconds
    full_share = evaluation_share(cost, step_seconds, cost.full_seconds)
    geometry_share = evaluation_share(cost, step_seconds, geometry_seconds)
    column += [
        ("evaluate() ms, all metrics", f"{cost.full_seconds * 1e3:.1f}"),
        ("evaluate() ms, losses and accuracy only", f"{cost.losses_seconds * 1e3:.1f}"),
        ("evaluations in a run (of steps)", f"{cost.evaluations_per_run} ({cost.run_steps})"),
        ("evaluation share of training time", f"{full_share:.1%}"),
        ("geometry share of training time", f"{geometry_share:.1%}"),
    ]
    return column


def grok_column(grok_runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Return the default run's (measurement, value) pairs: time to grok and peak memory."""
    reached = [run for run in grok_runs if run["step"] is not None]
    seeds = ", ".join(str(run["seed"]) for run in grok_runs)

    def median_text(key: str, digits: int) -> str:
        value = median_or_none([run[key] for run in reached])
        return "never" if value is None else f"{value:.{digits}f}"

    peak_kib = max(run["peak_rss_kib"] for run in grok_runs)
    return [
        (f"seeds reaching test acc {GROK_THRESHOLD} (seeds {seeds})",
         f"{len(reached)} of {len(grok_runs)}"),
        (f"median steps to test acc {GROK_THRESHOLD}", median_text("step", 0)),
        (f"median training s to test acc {GROK_THRESHOLD}", median_text("time", 1)),
        (f"median wall s to test acc {GROK_THRESHOLD}", median_text("wall", 1)),
        ("peak RSS of one run, MiB", f"{peak_kib / 1024:.0f}"),
    ]


def build_rows(
    throughputs: dict[str, Throughput],
    costs: dict[str, EvaluationCost],
    matmul_rate: float,
    grok_runs: list[dict[str, Any]],
) -> list[tuple[str, ...]]:
    """Return the result table as rows of text: the measurement, then one value per preset."""
    columns = [preset_column(throughputs[preset], costs[preset], matmul_rate)
               for preset in PRESET_NAMES]
    rows = [(label, *(column[index][1] for column in columns))
            for index, (label, _) in enumerate(columns[0])]

    # time to grok and memory are measured for the default preset only
    for label, value in grok_column(grok_runs):
        rows.append((label, *(value if preset == DEFAULT_PRESET else "-"
                              for preset in PRESET_NAMES)))
    return rows


def check_targets(
    throughputs: dict[str, Throughput],
    costs: dict[str, EvaluationCost],
    grok_runs: list[dict[str, Any]],
) -> list[Target]:
    """Compare the measurements with the targets."""
    nanda = throughputs["nanda"].steps_per_second
    speedup = nanda[("engine", False)] / nanda[("reference", False)]
    reached = [run for run in grok_runs if run["step"] is not None]
    all_reached = len(reached) == len(grok_runs)
    grok_time = median_or_none([run["time"] for run in reached])
    default_cost = costs[DEFAULT_PRESET]
    step_seconds = 1.0 / throughputs[DEFAULT_PRESET].steps_per_second[("engine", False)]
    share = evaluation_share(default_cost, step_seconds, default_cost.full_seconds)
    peak_bytes = max(run["peak_rss_kib"] for run in grok_runs) * 1024

    grok_text = "not reached" if grok_time is None else f"{grok_time:.1f} s"
    if not all_reached:
        grok_text += f" ({len(grok_runs) - len(reached)} seeds never reached it)"
    return [
        Target(f"nanda engine >= {NANDA_MIN_SPEEDUP:.0f}x reference, no per-step test eval",
               f"{speedup:.2f}x", speedup >= NANDA_MIN_SPEEDUP),
        Target(f"fast-mlp median time to test acc 0.99 < {GROK_MAX_SECONDS:.0f} s", grok_text,
               all_reached and grok_time is not None and grok_time < GROK_MAX_SECONDS),
        Target(f"fast-mlp metrics evaluation < {EVALUATION_MAX_SHARE:.0%} of training time",
               f"{share:.1%}", share < EVALUATION_MAX_SHARE),
        Target("peak memory of one p=113 run < 1 GiB", f"{peak_bytes / 1024**3:.2f} GiB",
               peak_bytes < PEAK_MEMORY_MAX_BYTES),
    ]


def render_text(header: list[tuple[str, str]], rows: list[tuple[str, ...]],
                targets: list[Target]) -> str:
    """Render the header, the result table and the targets as aligned plain text."""
    lines = [f"{key}: {value}" for key, value in header]
    table = [("measurement", *PRESET_NAMES), *rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    lines.append("")
    for index, row in enumerate(table):
        lines.append("  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.append("")
    for target in targets:
        verdict = "met" if target.met else "NOT MET"
        lines.append(f"{verdict:>7}  {target.name}: {target.measured}")
    return "\n".join(lines)


def render_markdown(header: list[tuple[str, str]], rows: list[tuple[str, ...]],
                    targets: list[Target]) -> str:
    """Render the same content as Markdown: a list, the result table and a target table."""
    lines = [f"- {key}: {value}" for key, value in header]
    lines += ["", "| measurement | " + " | ".join(PRESET_NAMES) + " |",
              "|---|" + "---:|" * len(PRESET_NAMES)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", "| target | measured | result |", "|---|---:|---|"]
    lines += [f"| {t.name} | {t.measured} | {'met' if t.met else 'not met'} |" for t in targets]
    return "\n".join(lines)


def format_load(load: tuple[float, float, float]) -> str:
    """Format a load average triple (1, 5 and 15 minutes)."""
    return " ".join(f"{value:.2f}" for value in load)


def run_benchmark(settings: Settings, device: torch.device, quick: bool) -> tuple[list, list, list]:
    """Run every measurement and return the header, the result rows and the targets."""
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731

    log(f"load average at start: {format_load(load_start)}")
    log("measuring the float32 matmul rate")
    matmul_rate = measure_matmul_rate(device, settings.matmul_repeats)
    throughputs, costs = {}, {}
    for preset in PRESET_NAMES:
        log(f"timing {preset} updates: engine and reference, with and without test eval")
        throughputs[preset] = measure_throughput(preset, device, settings)
        log(f"timing the metrics evaluation of {preset}")
        costs[preset] = measure_evaluation(preset, device, settings)
    grok_runs = []
    for seed in settings.grok_seeds:
        log(f"training {DEFAULT_PRESET} seed {seed} to test accuracy {GROK_THRESHOLD}")
        grok_runs.append(run_grok_worker(seed, str(device)))
    load_end = os.getloadavg()

    command = "python -m benchmarks.bench" + (" --quick" if quick else "")
    if device.type != "cpu":
        command += f" --device {device.type}"
    # these variables change torch's CPU threading, so a recorded command must show them
    for variable in THREADING_VARIABLES:
        if variable in os.environ:
            command = f"{variable}={os.environ[variable]} {command}"
    machine = read_machine()
    header = [
        ("command", command),
        ("date", started.strftime("%Y-%m-%d %H:%M UTC")),
        ("device", str(device) if device.type != "cuda" else torch.cuda.get_device_name(device)),
        *machine.items(),
        ("load average at start (1/5/15 min)", format_load(load_start)),
        ("load average at end (1/5/15 min)", format_load(load_end)),
        ("float32 matmul rate", f"{matmul_rate / 1e9:.1f} GFLOP/s ({MATMUL_SIZE}x{MATMUL_SIZE})"),
        ("p", str(MODULUS)),
    ]
    rows = build_rows(throughputs, costs, matmul_rate, grok_runs)
    targets = check_targets(throughputs, costs, grok_runs)
    return header, rows, targets


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description="Benchmark grok-tui's training engine against a plain reference loop "
        f"for p={MODULUS}.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="fewer timing repetitions and one time-to-grok seed")
    parser.add_argument("--markdown", action="store_true",
                        help="print the results as Markdown tables")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="device to benchmark (default: cpu)")
    parser.add_argument("--grok-worker", type=int, metavar="SEED", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its results; return the exit code."""
    arguments = parse_arguments(argv)
    if arguments.device == "cuda" and not torch.cuda.is_available():
        print(f"CUDA is not available (torch {torch.__version__}): skipping the CUDA "
              "benchmark. Run with --device cpu instead.", file=sys.stderr)
        return 0
    if arguments.grok_worker is not None:
        print(json.dumps(grok_worker(arguments.grok_worker, arguments.device)))
        return 0

    settings = QUICK if arguments.quick else FULL
    device = torch.device(arguments.device)
    header, rows, targets = run_benchmark(settings, device, arguments.quick)
    render = render_markdown if arguments.markdown else render_text
    print(render(header, rows, targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())

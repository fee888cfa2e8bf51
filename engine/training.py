"""The training loop: AdamW on a modular-arithmetic task, evaluated on the full grid.

The loop imports no UI code. It reports through callbacks (one metrics record per
evaluation, throttled progress between them) and obeys a ``TrainControl`` (pause, resume, stop)
that another thread may set. With a ``Run`` it saves everything needed to inspect or resume.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from engine.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from engine.config import TrainConfig
from engine.devices import apply_matmul_precision, resolve_device
from engine.geometry import complement_projector, min_irreps
from engine.metrics import evaluate, grok_step
from engine.models import Model, build_model
from engine.runs import Run, RunError
from engine.schedule import is_checkpoint_step, is_eval_step
from engine.split import make_split
from engine.tasks import Task

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.2  # seconds between progress callbacks, so a UI is never flooded
PAUSE_POLL = 0.1  # seconds between checks for resume or stop while paused


class TrainControl:
    """Pause, resume and stop requests for a training loop running in another thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def request_stop(self) -> None:
        """Ask the loop to save a checkpoint and return at its next step."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        """Ask the loop to wait before its next step until resumed or stopped."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused loop continue."""
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        """Whether a stop has been requested."""
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        """Whether the loop is asked to wait."""
        return not self._running.is_set()

    def wait_while_paused(self) -> float:
        """Block while paused (returning early on stop); return the seconds spent waiting."""
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        while not self._running.wait(PAUSE_POLL):
            pass
        return time.perf_counter() - start


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running loop between evaluations."""

    step: int
    total_steps: int
    elapsed: float  # seconds of training, excluding pauses, summed over resumes
    steps_per_second: float  # over the last progress interval
    train_loss: float
    paused: bool = False


@dataclass
class TrainResult:
    """The outcome of a call to ``train``."""

    state: str  # finished, stopped or diverged
    step: int
    elapsed: float
    device: str
    records: list[dict[str, Any]] = field(default_factory=list)
    run: Run | None = None
    message: str = ""

    @property
    def grok_step(self) -> int | None:
        """First evaluated step with test accuracy >= 0.99, or None."""
        return grok_step(self.records)


@dataclass(frozen=True)
class _LoopEnd:
    state: str
    step: int
    elapsed: float
    message: str


RecordCallback = Callable[[dict[str, Any]], None]
ProgressCallback = Callable[[Progress], None]


@dataclass
class _Session:
    """Everything the loop works on, built once per call to ``train``."""

    task: Task
    device: torch.device
    model: Model
    optimizer: torch.optim.AdamW
    train_mask: torch.Tensor
    a: torch.Tensor  # operand indices of the train pairs, on the device
    b: torch.Tensor
    labels: torch.Tensor
    projector: torch.Tensor | None  # regularizer projector in class-index order, or None
    batch_seed: int  # minibatch of step s is drawn from a generator seeded by batch_seed + s
    start_step: int = 0
    elapsed: float = 0.0


def _build_session(config: TrainConfig, run: Run | None, resume: bool) -> _Session:
    """Resolve the device and build task, split, model and optimizer, restoring a checkpoint."""
    device = resolve_device(config.device)
    apply_matmul_precision(config.matmul_precision)
    task = config.task

    # the split is a pure function of (op, p, train fraction, seed)
    train_mask = make_split(task, config.train_fraction, config.seed)
    if resume and run is not None:
        stored = run.read_split()
        if not torch.equal(stored, train_mask):
            raise RunError(f"{run.path} stores a split that differs from its config's seed")

    # initialise on the CPU under the seed, so the weights are the same on every device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(config.model, task.n, config.width)
    model = model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=config.lr,
        betas=config.betas,
        eps=config.eps,
        weight_decay=config.weight_decay,
    )

    train_index = torch.nonzero(train_mask).flatten()
    pairs = task.pairs[train_index].to(device)
    session = _Session(
        task=task,
        device=device,
        model=model,
        optimizer=optimizer,
        train_mask=train_mask,
        a=pairs[:, 0].contiguous(),
        b=pairs[:, 1].contiguous(),
        labels=task.labels[train_index].to(device),
        projector=_regularizer_projector(config, task, device),
        batch_seed=(config.seed + 1) * 1_000_003,
    )
    if resume and run is not None:
        _restore(session, run)
    return session


def _regularizer_projector(config: TrainConfig, task: Task, device: torch.device):
    """Return the complement projector in class-index order, or None when the regularizer is off."""
    if config.reg_unembedding == 0 and config.reg_logits == 0:
        return None
    frequencies = list(config.reg_frequencies or min_irreps(task.n))
    projector = complement_projector(task.n, frequencies)
    coordinate = task.coordinate
    # entry (i, j) is the projector between the coordinates of class indices i and j
    return projector[coordinate][:, coordinate].to(device=device, dtype=torch.float32)


def newest_loadable_checkpoint(run: Run) -> Checkpoint:
    """Return the newest checkpoint of ``run`` that loads, logging each corrupt one skipped.

    Raises:
        RunError: the run has no loadable checkpoint.
    """
    for step in reversed(run.checkpoint_steps()):
        try:
            return load_checkpoint(run, step)
        except RunError as error:
            logger.warning("skipping checkpoint at step %d: %s", step, error)
    raise RunError(f"{run.path} has no loadable checkpoint to resume from: start a new run")


def _restore(session: _Session, run: Run) -> None:
    """Load the newest loadable checkpoint of ``run`` into the session."""
    checkpoint = newest_loadable_checkpoint(run)
    session.model.load_state_dict(checkpoint.model_state)
    session.optimizer.load_state_dict(checkpoint.optimizer_state)
    if "cpu" in checkpoint.rng_states:
        torch.set_rng_state(checkpoint.rng_states["cpu"])
    session.start_step = checkpoint.step
    session.elapsed = checkpoint.elapsed
    logger.info("resuming %s from step %d", run.path, checkpoint.step)


def _rng_states(session: _Session) -> dict[str, torch.Tensor]:
    states = {"cpu": torch.get_rng_state()}
    if session.device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(session.device)
    return states


def _learning_rate(config: TrainConfig, step: int) -> float:
    """Return the learning rate of the update after ``step``: linear warmup, then constant."""
    if config.warmup_steps == 0:
        return config.lr
    return config.lr * min(1.0, (step + 1) / config.warmup_steps)


def _batch(session: _Session, config: TrainConfig, step: int):
    """Return (a, b, labels) of the batch at ``step``: the full train split or a sample.

    A sample depends only on the seed and the step, so a resumed run draws the same batches.
    """
    if config.batch_size is None:
        return session.a, session.b, session.labels
    generator = torch.Generator(device="cpu").manual_seed(session.batch_seed + step)
    order = torch.randperm(len(session.labels), generator=generator)
    chosen = order[: config.batch_size].to(session.device)
    return session.a[chosen], session.b[chosen], session.labels[chosen]


def _loss(session: _Session, config: TrainConfig, a, b, labels) -> torch.Tensor:
    """Return cross-entropy plus the regularizer toward the canonical geometry."""
    logits = session.model(a, b)
    loss = F.cross_entropy(logits, labels)
    if session.projector is not None:
        if config.reg_unembedding:
            residual = session.projector @ session.model.unembedding()
            loss = loss + config.reg_unembedding * residual.pow(2).sum()
        if config.reg_logits:
            residual = logits @ session.projector
            loss = loss + config.reg_logits * residual.pow(2).sum(dim=1).mean()
    return loss


def train(
    config: TrainConfig,
    run: Run | None = None,
    *,
    resume: bool = False,
    control: TrainControl | None = None,
    on_record: RecordCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train a model on ``config``'s task, evaluating on the full grid on a fixed schedule.

    Args:
        config: the resolved config (see ``engine.config.resolve_config``).
        run: the run folder to save into, or None to keep everything in memory.
        resume: continue ``run`` from its newest checkpoint (the metrics log is cut back to it).
        control: pause, resume and stop requests from another thread.
        on_record: called with each metrics record, in the training thread.
        on_progress: called with a ``Progress`` at most every ``PROGRESS_INTERVAL`` seconds.

    Returns:
        How training ended: finished, stopped on request, or diverged (non-finite loss).
    """
    control = control or TrainControl()
    session = _build_session(config, run, resume)
    device_name = str(session.device)
    records: list[dict[str, Any]] = []
    if run is not None:
        if resume:
            run.truncate_metrics(session.start_step)
            records = run.read_metrics()
        else:
            run.write_split(session.train_mask, config.train_fraction, config.seed)
        run.write_status("running", session.start_step)

    try:
        end = _loop(session, config, run, control, records, on_record, on_progress)
    except Exception as error:
        if run is not None:
            last_step = records[-1]["step"] if records else session.start_step
            run.write_status("interrupted", last_step, f"{type(error).__name__}: {error}")
        raise
    if run is not None:
        run.write_status(end.state, end.step, end.message)
    logger.info("run ended %s at step %d %s", end.state, end.step, end.message)
    return TrainResult(end.state, end.step, end.elapsed, device_name, records, run, end.message)


def _loop(
    session: _Session,
    config: TrainConfig,
    run: Run | None,
    control: TrainControl,
    records: list[dict[str, Any]],
    on_record: RecordCallback | None,
    on_progress: ProgressCallback | None,
) -> _LoopEnd:
    """Run the steps from the session's start step and return how they ended."""
    model, optimizer = session.model, session.optimizer
    step = session.start_step
    evaluated_step = records[-1]["step"] if records else -1
    elapsed = session.elapsed
    clock = time.perf_counter()
    last_progress, last_progress_step = clock, step

    def record_evaluation() -> bool:
        """Evaluate the current model, publish the record; return False if it is not finite."""
        nonlocal evaluated_step
        model.eval()
        record = evaluate(model, session.task, session.train_mask, step, top_m=config.top_m)
        model.train()
        record["time"] = round(elapsed + time.perf_counter() - clock, 4)
        record["lr"] = _learning_rate(config, step)
        evaluated_step = step
        if not (math.isfinite(record["train_loss"]) and math.isfinite(record["test_loss"])):
            return False
        records.append(record)
        if run is not None:
            run.append_metrics(record)
            run.write_status("running", step)
        if on_record is not None:
            on_record(record)
        return True

    model.train()
    while True:
        # pause: wait without counting the time as training
        clock += control.wait_while_paused()

        # forward on the batch; a non-finite loss ends the run as diverged
        a, b, labels = _batch(session, config, step)
        loss = _loss(session, config, a, b, labels)
        train_loss = loss.item()
        if not math.isfinite(train_loss):
            elapsed += time.perf_counter() - clock
            return _LoopEnd("diverged", step, elapsed, (
                f"loss became {train_loss} at step {step}; the last finite checkpoint is kept. "
                f"Lower the learning rate (now {config.lr}) or the weight decay (now "
                f"{config.weight_decay}) and start a new run"
            ))

        # evaluate on the full grid on the schedule, and save checkpoints
        due_checkpoint = run is not None and is_checkpoint_step(step, config.steps)
        if (is_eval_step(step, config.eval_every, config.steps) or due_checkpoint) and (
            step != evaluated_step
        ):
            if not record_evaluation():
                elapsed += time.perf_counter() - clock
                return _LoopEnd("diverged", step, elapsed, (
                    f"evaluation loss became non-finite at step {step}; the last finite "
                    f"checkpoint is kept. Lower the learning rate (now {config.lr})"
                ))
        if due_checkpoint and (step > session.start_step or step == 0):
            now = elapsed + time.perf_counter() - clock
            save_checkpoint(run, step, now, model, optimizer, _rng_states(session))

        # stop on request or at the step budget
        if control.stop_requested or step >= config.steps:
            break

        # one AdamW update
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(config, step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1

        # throttled progress for subscribers
        now = time.perf_counter()
        if on_progress is not None and now - last_progress >= PROGRESS_INTERVAL:
            rate = (step - last_progress_step) / (now - last_progress)
            on_progress(Progress(step, config.steps, elapsed + now - clock, rate, train_loss))
            last_progress, last_progress_step = now, step

    # a stop between scheduled evaluations still leaves a final record and checkpoint
    if step != evaluated_step:
        record_evaluation()
    elapsed += time.perf_counter() - clock
    if run is not None and step not in run.checkpoint_steps():
        save_checkpoint(run, step, elapsed, model, optimizer, _rng_states(session))
    if step < config.steps:
        return _LoopEnd("stopped", step, elapsed, f"stopped on request at step {step}")
    return _LoopEnd("finished", step, elapsed, "")

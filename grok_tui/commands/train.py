"""The ``train`` command: resolve a config, prepare the run folder, train in the app or headless."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from engine.config import TrainConfig, resolve_config
from engine.devices import resolve_device
from engine.presets import PRESETS
from engine.runs import Run, RunError, default_run_name
from engine.training import newest_loadable_checkpoint
from grok_tui.errors import fail
from grok_tui.options import ModelKind, Operation, PresetName

# flags that may change when a run is resumed; every other value comes from the saved config
RESUMABLE_FLAGS = ("steps", "device")

TRAIN_HELP = """Train a model on a modular-arithmetic task and save the run.

Opens the live explorer on a terminal; runs headless with --headless or when stdout is not
a terminal. Every value not given comes from the preset. Exit code 0 when training ends or
is stopped, 1 when the run diverged, 2 for invalid arguments.
"""


@dataclass(frozen=True)
class PreparedRun:
    """A validated config and its run folder, ready to train."""

    config: TrainConfig
    run: Run
    resume: bool
    device: str


def prepare_run(
    overrides: dict[str, object],
    preset: str,
    out: Path,
    name: str | None,
    resume: Path | None,
    force: bool,
) -> PreparedRun:
    """Resolve the config and create or open the run folder.

    Raises:
        ValueError: an invalid flag value (the message names it and the fix).
        RunError: the run folder cannot be created or resumed.
    """
    if resume is not None:
        run = Run.open(resume)
        changed_keys = sorted(key for key, value in overrides.items() if value is not None)
        fixed = [key for key in changed_keys if key not in RESUMABLE_FLAGS]
        if fixed:
            raise ValueError(
                f"--resume continues {run.path} with its saved config, so {', '.join(fixed)} "
                f"cannot change: drop those flags, or start a new run"
            )
        saved_config = run.train_config()
        saved = saved_config.to_dict()
        saved.update({key: overrides[key] for key in changed_keys})
        config = resolve_config(saved.pop("preset"), **saved)
        device = str(resolve_device(config.device))
        run.ensure_not_running()
        start = newest_loadable_checkpoint(run).step
        if config.steps <= start:
            raise ValueError(
                f"run {run.path} is already at step {start} of {config.steps}: give --steps "
                f"greater than {start} to train further"
            )
        if config != saved_config:
            run.update_config(config)
        return PreparedRun(config, run, True, device)

    if overrides.get("p") is None:
        raise ValueError("missing --p: give the modulus, for example --p 113, or --resume RUN")
    config = resolve_config(preset, **overrides)
    device = str(resolve_device(config.device))
    run = Run.create(out, name or default_run_name(config), config, device, force)
    return PreparedRun(config, run, False, device)


def train_command(
    p: Annotated[
        int | None, typer.Option("--p", help="Modulus p of the task (prime for mul and div).")
    ] = None,
    op: Annotated[
        Operation | None, typer.Option(help="Operation: a op b mod p. [default: add]")
    ] = None,
    model: Annotated[
        ModelKind | None, typer.Option(help="Model architecture. [default: from the preset]")
    ] = None,
    preset: Annotated[
        PresetName, typer.Option(help="Training recipe that supplies every unset value.")
    ] = PresetName.fast_mlp,
    frac: Annotated[
        float | None,
        typer.Option(help="Train fraction: share of the n*n pairs trained on. [default: 0.3]"),
    ] = None,
    lr: Annotated[
        float | None, typer.Option(help="AdamW learning rate per update. [default: from preset]")
    ] = None,
    wd: Annotated[
        float | None, typer.Option(help="AdamW weight decay. [default: 1.0]")
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(help="Optimizer updates to train for. [default: 5000 fast-mlp, 20000 nanda]"),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the split and the initialisation. [default: 0]")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Train pairs per update. [default: all (full batch)]")
    ] = None,
    eval_every: Annotated[
        int | None,
        typer.Option(help="Evaluate on the full grid every this many updates, besides the "
                     "log-spaced schedule. [default: 100 fast-mlp, 250 nanda]"),
    ] = None,
    warmup: Annotated[
        int | None, typer.Option(help="Linear learning-rate warmup, in updates.")
    ] = None,
    beta1: Annotated[float | None, typer.Option(help="AdamW β1. [default: 0.9]")] = None,
    beta2: Annotated[float | None, typer.Option(help="AdamW β2. [default: 0.98]")] = None,
    eps: Annotated[float | None, typer.Option(help="AdamW ε. [default: 1e-8]")] = None,
    reg_unembedding: Annotated[
        float | None,
        typer.Option(help="Weight λ_W of the unembedding term of the canonical regularizer."),
    ] = None,
    reg_logits: Annotated[
        float | None,
        typer.Option(help="Weight λ_H of the logit term of the canonical regularizer."),
    ] = None,
    reg_frequencies: Annotated[
        str | None,
        typer.Option(help="Frequencies kept by the regularizer, comma-separated, e.g. 1,15,20. "
                     "[default: the greedy minimal set]"),
    ] = None,
    top_m: Annotated[
        int | None,
        typer.Option(help="Top profile frequencies in the low-dimensional deviation. "
                     "[default: m†]"),
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="auto, cpu, cuda or mps. [default: auto]")
    ] = None,
    out: Annotated[Path, typer.Option(help="Parent folder of the run folders.")] = Path("runs"),
    name: Annotated[
        str | None, typer.Option(help="Run folder name. [default: op-pP-model-sSEED-time]")
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(help="Continue this run folder from its newest loadable checkpoint."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Delete and replace an existing run of the same name.")
    ] = False,
    headless: Annotated[
        bool, typer.Option(help="Print progress instead of opening the live explorer.")
    ] = False,
) -> None:
    """Train a model on a modular-arithmetic task and save the run."""
    overrides = {
        "p": p,
        "op": op.value if op else None,
        "model": model.value if model else None,
        "train_fraction": frac,
        "lr": lr,
        "weight_decay": wd,
        "steps": steps,
        "seed": seed,
        "batch_size": batch_size,
        "eval_every": eval_every,
        "warmup_steps": warmup,
        "eps": eps,
        "reg_unembedding": reg_unembedding,
        "reg_logits": reg_logits,
        "reg_frequencies": _parse_frequencies(reg_frequencies),
        "top_m": top_m,
        "device": device,
    }
    if beta1 is not None or beta2 is not None:
        preset_betas = PRESETS[preset.value]["betas"]
        overrides["betas"] = (
            preset_betas[0] if beta1 is None else beta1,
            preset_betas[1] if beta2 is None else beta2,
        )
    try:
        prepared = prepare_run(overrides, preset.value, out, name, resume, force)
    except (ValueError, RunError) as error:
        fail(str(error))

    if headless or not sys.stdout.isatty():
        from grok_tui.headless import train_headless

        raise typer.Exit(train_headless(prepared))
    from grok_tui.app import run_training_app

    raise typer.Exit(run_training_app(prepared))


def _parse_frequencies(text: str | None) -> tuple[int, ...] | None:
    """Parse ``1,15,20`` into a tuple of ints; raise a usage error naming the bad value."""
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        fail(f"invalid --reg-frequencies {text!r}: give integers separated by commas, e.g. 1,15,20")

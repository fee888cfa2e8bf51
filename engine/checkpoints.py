"""Checkpoints as safetensors: model weights in one file, training state in another.

``step_SSSSSSSS.model.safetensors`` contains the model's ``state_dict``. The state file contains the
optimizer's tensors under ``optimizer.<param index>.<name>`` and the RNG states under
``rng.<name>``; its metadata holds the step, the elapsed training time and the optimizer's
param groups as JSON. Loading needs no pickle. The state file is written first, so a weights
file on disk always has its state beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from engine.runs import FORMAT_VERSION, Run, RunError
from engine.storage import atomic_path


@dataclass
class Checkpoint:
    """A loaded checkpoint: weights, optimizer state, RNG states and bookkeeping."""

    step: int
    elapsed: float  # seconds of training time up to this step, summed over resumes
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any]
    rng_states: dict[str, torch.Tensor]


def _save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    contiguous = {key: value.detach().cpu().contiguous().clone() for key, value in tensors.items()}
    with atomic_path(path) as temporary:
        save_file(contiguous, str(temporary), metadata=metadata)


def save_checkpoint(
    run: Run,
    step: int,
    elapsed: float,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    rng_states: dict[str, torch.Tensor],
) -> None:
    """Save model weights and training state of ``step`` into the run's checkpoint folder."""
    model_path, state_path = run.checkpoint_paths(step)
    optimizer_state = optimizer.state_dict()
    tensors = {
        f"optimizer.{index}.{name}": value
        for index, slots in optimizer_state["state"].items()
        for name, value in slots.items()
    }
    tensors.update({f"rng.{name}": state for name, state in rng_states.items()})
    metadata = {
        "format_version": str(FORMAT_VERSION),
        "step": str(step),
        "elapsed": repr(elapsed),
        "param_groups": json.dumps(optimizer_state["param_groups"]),
    }
    _save_tensors(state_path, tensors, metadata)
    _save_tensors(model_path, model.state_dict(), {"step": str(step)})


def load_weights(run: Run, step: int) -> dict[str, torch.Tensor]:
    """Return the model ``state_dict`` saved at ``step``, on the CPU.

    Raises:
        RunError: the file is missing or corrupt (the message names it).
    """
    model_path, _ = run.checkpoint_paths(step)
    try:
        return load_file(str(model_path), device="cpu")
    except (OSError, SafetensorError, ValueError) as error:
        raise RunError(f"checkpoint {model_path} is missing or corrupt: {error}") from error


def load_checkpoint(run: Run, step: int) -> Checkpoint:
    """Load the weights and the training state saved at ``step``, on the CPU.

    Raises:
        RunError: a file is missing or corrupt (the message names it).
    """
    weights = load_weights(run, step)
    _, state_path = run.checkpoint_paths(step)
    try:
        with safe_open(str(state_path), framework="pt", device="cpu") as state_file:
            metadata = state_file.metadata() or {}
            tensors = {key: state_file.get_tensor(key) for key in state_file.keys()}
        param_groups = json.loads(metadata["param_groups"])
        elapsed = float(metadata.get("elapsed", "0"))
    except (OSError, SafetensorError, ValueError, KeyError) as error:
        raise RunError(f"checkpoint state {state_path} is missing or corrupt: {error}") from error

    slots: dict[int, dict[str, torch.Tensor]] = {}
    rng_states: dict[str, torch.Tensor] = {}
    for key, value in tensors.items():
        kind, rest = key.split(".", 1)
        if kind == "rng":
            rng_states[rest] = value
        else:
            index, name = rest.split(".", 1)
            slots.setdefault(int(index), {})[name] = value
    optimizer_state = {"state": slots, "param_groups": param_groups}
    return Checkpoint(step, elapsed, weights, optimizer_state, rng_states)

"""The seeded train/test split of a task's operand pairs."""

from __future__ import annotations

import math

import torch

from engine.tasks import Task


def train_size(num_pairs: int, train_fraction: float) -> int:
    """Return the number of train pairs, floor(train_fraction * num_pairs)."""
    return int(train_fraction * num_pairs)


def validate_train_fraction(task: Task, train_fraction: float) -> None:
    """Raise ValueError when the train fraction leaves the train or the test split empty."""
    in_range = math.isfinite(train_fraction) and 0.0 < train_fraction < 1.0
    if not in_range or train_size(task.num_pairs, train_fraction) in (0, task.num_pairs):
        smallest = 1.0 / task.num_pairs
        raise ValueError(
            f"train fraction {train_fraction} leaves the train or the test split empty for "
            f"{task.num_pairs} pairs: use a value between {smallest:.4g} and {1 - smallest:.4g}, "
            f"for example 0.3"
        )


def make_split(task: Task, train_fraction: float, seed: int) -> torch.Tensor:
    """Return the train mask over the task's pairs, shape (n*n,), bool.

    The permutation comes from a dedicated CPU generator seeded by ``seed``, so the split
    depends only on (op, p, train_fraction, seed), never on the model or the device.
    """
    validate_train_fraction(task, train_fraction)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    order = torch.randperm(task.num_pairs, generator=generator)
    mask = torch.zeros(task.num_pairs, dtype=torch.bool)
    mask[order[: train_size(task.num_pairs, train_fraction)]] = True
    return mask

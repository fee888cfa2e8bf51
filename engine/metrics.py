"""One evaluation of a model on the full grid of a task: the metrics record.

A record is a flat JSON object. Keys and units (losses in nats, accuracies and fractions in
[0, 1], energies and powers as fractions or squared logits):

- ``step``, ``time`` (seconds of training), ``lr``;
- ``train_loss``, ``test_loss``, ``train_acc``, ``test_acc`` (accuracies from exact counts);
- ``embedding_energy``, ``unembedding_energy``: per frequency k = 0..n//2, summing to 1;
- ``profile_power``: squared norm of each frequency of the logit profile F;
  ``effective_irreps``: its participation ratio over k >= 1;
- ``eps_eq``, ``eps_eq_train``, ``eps_eq_test``: deviation from the equivariant tables over the
  grid, the train pairs and the test pairs;
- ``eps_top``, ``top_frequencies``: deviation from the canonical logits of the top-m profile
  frequencies, and those frequencies;
- ``margin``: canonical margin γ* in logits; ``certified_train``, ``certified_test``: fractions
  of certified inputs; ``rho_median``, ``rho_max``: ρ = δ/γ* over test inputs (None when γ* <= 0);
- ``acc_gap``, ``loss_gap``: measured test minus train error and loss;
  ``acc_gap_bound``, ``loss_gap_bound``, ``test_loss_bound``: their certified upper bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
import torch.nn.functional as F

from engine.geometry import (
    deviation,
    effective_irreps,
    frequency_energy,
    min_irreps,
    pooled_epsilon,
    profile_power,
    restricted_epsilon,
    top_frequencies,
)
from engine.models import Model
from engine.tasks import Task

GROK_THRESHOLD = 0.99  # test accuracy at which a run counts as grokked
SCHEMA_KEYS = (
    "step", "time", "lr", "train_loss", "test_loss", "train_acc", "test_acc",
    "embedding_energy", "unembedding_energy", "profile_power", "effective_irreps",
    "eps_eq", "eps_eq_train", "eps_eq_test", "eps_top", "top_frequencies", "margin",
    "certified_train", "certified_test", "rho_median", "rho_max", "acc_gap", "loss_gap",
    "acc_gap_bound", "loss_gap_bound", "test_loss_bound",
)  # fmt: skip


@dataclass(frozen=True)
class GridLogits:
    """Logits of a model on every pair of a task, with classes in group coordinates."""

    logits: torch.Tensor  # (n*n, n) float64 on the CPU; column j is the class of coordinate j
    label_coordinate: torch.Tensor  # (n*n,) int64: coordinate of each pair's answer
    train_mask: torch.Tensor  # (n*n,) bool


def grid_logits(task: Task, model: Model, train_mask: torch.Tensor) -> GridLogits:
    """Evaluate ``model`` on all n*n pairs and reorder its classes into group coordinates.

    For mul and div the columns are permuted by discrete log; for add and sub they stay.
    """
    with torch.no_grad():
        logits = model.grid_logits().detach().to("cpu", torch.float64)
    if task.multiplicative:
        logits = logits.index_select(1, task.index_of_coordinate)
    return GridLogits(logits, task.label_coordinate, train_mask)


def group_ordered(task: Task, matrix: torch.Tensor) -> torch.Tensor:
    """Reorder the rows of an (n, d) embedding or unembedding from index to coordinate order."""
    rows = matrix.detach().to("cpu", torch.float64)
    return rows.index_select(0, task.index_of_coordinate) if task.multiplicative else rows


@lru_cache(maxsize=32)
def default_top_m(n: int) -> int:
    """Return m†: the size of the greedy frequency set for amplitude 1 and target loss 0.01."""
    return len(min_irreps(n))


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def evaluate(
    model: Model,
    task: Task,
    train_mask: torch.Tensor,
    step: int,
    top_m: int | None = None,
) -> dict[str, Any]:
    """Return the metrics record of ``model`` at ``step`` (``time`` and ``lr`` left to the caller).

    Args:
        model: the model, on any device, in eval mode.
        task: its task.
        train_mask: (n*n,) bool mask of the train pairs.
        step: optimizer updates done so far.
        top_m: number of top profile frequencies for ``eps_top``; None uses m† of the task.
    """
    grid = grid_logits(task, model, train_mask)
    train, test = grid.train_mask, ~grid.train_mask
    labels = grid.label_coordinate

    # losses and accuracies (accuracies from exact integer counts)
    per_pair_loss = F.cross_entropy(grid.logits, labels, reduction="none")
    correct = grid.logits.argmax(dim=1) == labels
    train_loss = per_pair_loss[train].mean().item()
    test_loss = per_pair_loss[test].mean().item()
    train_acc = int(correct[train].sum()) / int(train.sum())
    test_acc = int(correct[test].sum()) / int(test.sum())

    # alignment of the embedding and the unembedding with the Fourier subspaces
    embedding_energy = frequency_energy(group_ordered(task, model.operand_embedding()))
    unembedding_energy = frequency_energy(group_ordered(task, model.unembedding()))

    # deviation from the equivariant tables, and from the top-m canonical frequencies
    equivariant = deviation(grid.logits, labels)
    power = profile_power(equivariant.profile)
    top = top_frequencies(power, top_m or default_top_m(task.n))

    # margin certificate and the bounds on the generalization gap
    certified_train = equivariant.certified[train].double().mean().item()
    certified_test = equivariant.certified[test].double().mean().item()
    rho_test = equivariant.rho[test]
    test_loss_bound = equivariant.loss_bound[test].mean().item()
    err_train = 1.0 - train_acc

    return {
        "step": step,
        "train_loss": train_loss,
        "test_loss": test_loss,
        "train_acc": train_acc,
        "test_acc": test_acc,
        "embedding_energy": embedding_energy.tolist(),
        "unembedding_energy": unembedding_energy.tolist(),
        "profile_power": power.tolist(),
        "effective_irreps": effective_irreps(power),
        "eps_eq": equivariant.epsilon,
        "eps_eq_train": pooled_epsilon(equivariant, train),
        "eps_eq_test": pooled_epsilon(equivariant, test),
        "eps_top": restricted_epsilon(equivariant, top),
        "top_frequencies": top,
        "margin": equivariant.margin,
        "certified_train": certified_train,
        "certified_test": certified_test,
        "rho_median": _finite_or_none(rho_test.median().item()),
        "rho_max": _finite_or_none(rho_test.max().item()),
        "acc_gap": train_acc - test_acc,
        "loss_gap": test_loss - train_loss,
        "acc_gap_bound": (1.0 - certified_test) - err_train,
        "loss_gap_bound": _finite_or_none(test_loss_bound - train_loss),
        "test_loss_bound": _finite_or_none(test_loss_bound),
    }


def grok_step(records: list[dict[str, Any]], threshold: float = GROK_THRESHOLD) -> int | None:
    """Return the first step whose test accuracy reached ``threshold``, or None."""
    for record in records:
        if record.get("test_acc", 0.0) >= threshold:
            return record["step"]
    return None

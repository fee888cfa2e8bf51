"""The geometry of one saved checkpoint, recomputed on the CPU from its weights.

``checkpoint_geometry`` loads the weights of a checkpoint into a fresh model and evaluates it
on the full grid, which gives the same metrics record that training logged at that step.
``clock_coordinates`` places each operand on the plane of one Fourier frequency k: a model that
has grokked puts element g at angle about 2πkg/n, so the points lie in order on a circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from torch import Tensor

from engine.checkpoints import load_weights
from engine.config import TrainConfig
from engine.geometry import fourier_basis
from engine.metrics import evaluate, group_ordered
from engine.models import Model, build_model
from engine.runs import Run, RunError
from engine.tasks import Task


@dataclass
class CheckpointGeometry:
    """A checkpoint's model, rebuilt on the CPU, and its metrics record."""

    step: int
    config: TrainConfig
    task: Task
    model: Model  # in eval mode, on the CPU
    record: dict[str, Any]  # as ``engine.metrics.evaluate`` returns it, without time and lr


def load_checkpoint_model(run: Run, step: int, config: TrainConfig | None = None) -> Model:
    """Build the run's model and load the weights saved at ``step`` into it, on the CPU.

    Args:
        run: the run folder.
        step: a step listed by ``run.checkpoint_steps()``.
        config: the run's config, read from the run when None.

    Raises:
        RunError: the config or the checkpoint is missing, corrupt, or does not fit the model.
    """
    config = config or run.train_config()
    model = build_model(config.model, config.task.n, config.width)
    weights = load_weights(run, step)
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        model_path, _ = run.checkpoint_paths(step)
        raise RunError(
            f"checkpoint {model_path} does not fit the {config.model} model of the run "
            f"config: {error}"
        ) from error
    model.eval()
    return model


def checkpoint_problem(run: Run, step: int) -> str | None:
    """Check the header of the weights file at ``step``, without reading the tensors.

    A cut-off or garbled file fails here because its header does not match its length.

    Returns:
        None for a readable file, else a message naming the file and what is wrong.
    """
    model_path, _ = run.checkpoint_paths(step)
    try:
        with safe_open(str(model_path), framework="pt", device="cpu") as weights:
            weights.keys()
    except FileNotFoundError:
        return f"checkpoint {model_path} is missing"
    except (OSError, SafetensorError) as error:
        return f"checkpoint {model_path} is corrupt: {error}"
    return None


def checkpoint_geometry(run: Run, step: int) -> CheckpointGeometry:
    """Load the checkpoint at ``step`` and evaluate it on the full grid of the run's task.

    The record has the keys of a metrics record (see ``engine.metrics``) except ``time`` and
    ``lr``, and ``top_frequencies`` uses the run's ``top_m``.

    Raises:
        RunError: the config, the split or the checkpoint is missing or corrupt.
    """
    config = run.train_config()
    task = config.task
    model = load_checkpoint_model(run, step, config)
    train_mask = run.read_split()
    if train_mask.numel() != task.num_pairs:
        raise RunError(
            f"{run.path / 'split.json'} covers {train_mask.numel()} pairs, but the task "
            f"{task.describe()} has {task.num_pairs}"
        )
    record = evaluate(model, task, train_mask, step, top_m=config.top_m)
    return CheckpointGeometry(step, config, task, model, record)


def embedding_clock(embedding: Tensor, frequency: int) -> Tensor:
    """Project the rows of an embedding onto the plane of one Fourier frequency.

    The plane is spanned by the first two right singular vectors of C = [r_cos; r_sin] @ E,
    shape (2, d), where r_cos and r_sin are the Fourier basis rows of ``frequency``. The
    centred rows of E are projected onto it. The points are then rotated so that element 0
    lies at angle 0, and mirrored so that element 1 lies at an angle in [0, π]. For an
    embedding whose frequency-k part is a circle, element g then lies at angle 2πkg/n.

    Args:
        embedding: (n, d) embedding with rows in group-coordinate order.
        frequency: k with 1 <= k < n/2 (the frequencies whose subspace is a plane).

    Returns:
        (n, 2) float64 tensor: the 2-D point of each group element, in the embedding's units.

    Raises:
        ValueError: the frequency has no 2-D subspace for this n.
    """
    matrix = embedding.detach().to("cpu", torch.float64)
    n = matrix.shape[0]
    if not 1 <= frequency < n / 2:
        raise ValueError(
            f"frequency {frequency} has no cos/sin plane for n={n}: use a frequency "
            f"between 1 and {(n - 1) // 2}"
        )
    basis, _ = fourier_basis(n)
    cos_sin_rows = basis[2 * frequency - 1 : 2 * frequency + 1]  # rows cos k, sin k
    _, _, right = torch.linalg.svd(cos_sin_rows @ matrix, full_matrices=False)
    points = (matrix - matrix.mean(dim=0)) @ right[:2].T
    return _normalise_orientation(points)


def _normalise_orientation(points: Tensor) -> Tensor:
    """Rotate (n, 2) points so point 0 is at angle 0, and mirror so point 1 is at [0, π]."""
    angle = torch.atan2(points[0, 1], points[0, 0])
    cos, sin = torch.cos(-angle), torch.sin(-angle)
    rotation = torch.stack([torch.stack([cos, -sin]), torch.stack([sin, cos])])
    rotated = points @ rotation.T
    if rotated.shape[0] > 1 and rotated[1, 1] < 0:
        rotated[:, 1] = -rotated[:, 1]
    return rotated


def clock_coordinates(model: Model, task: Task, frequency: int) -> Tensor:
    """Return the operand embedding of ``model`` on the plane of ``frequency``.

    Args:
        model: a model of ``task``.
        task: the task, whose group coordinates order the rows.
        frequency: k with 1 <= k < n/2.

    Returns:
        (n, 2) float64 tensor. Row g is the group element of coordinate g, and
        ``embedding_clock`` describes the orientation.
    """
    embedding = group_ordered(task, model.operand_embedding())
    return embedding_clock(embedding, frequency)


def residue_of_coordinate(task: Task) -> list[int]:
    """Return the residue of each group coordinate g: g for add and sub, r^g mod p otherwise."""
    residues = task.index_of_coordinate + task.offset
    return [int(value) for value in residues]

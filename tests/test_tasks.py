"""Tasks, group coordinates and the seeded split."""

import pytest
import torch

from engine.split import make_split, train_size
from engine.tasks import Task, primitive_root


def _answer(op: str, a: int, b: int, p: int) -> int:
    if op == "add":
        return (a + b) % p
    if op == "sub":
        return (a - b) % p
    if op == "mul":
        return (a * b) % p
    return (a * pow(b, -1, p)) % p


@pytest.mark.parametrize("p", [7, 13])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_task_pairs_and_labels(op: str, p: int) -> None:
    task = Task(op, p)
    n = p - 1 if op in ("mul", "div") else p
    assert task.n == n
    assert task.num_pairs == n * n
    assert task.pairs.shape == (n * n, 2)
    assert len(set(map(tuple, task.pairs.tolist()))) == n * n
    for (i, j), label in zip(task.pairs.tolist(), task.labels.tolist(), strict=True):
        a, b = i + task.offset, j + task.offset
        assert label + task.offset == _answer(op, a, b, p)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_label_coordinate_matches_labels(op: str) -> None:
    task = Task(op, 13)
    assert torch.equal(task.coordinate[task.labels], task.label_coordinate)


def test_primitive_roots() -> None:
    assert primitive_root(113) == 3
    assert primitive_root(97) == 5
    assert Task("mul", 113).generator == 3


def test_discrete_log_coordinates() -> None:
    task = Task("mul", 13)
    residues = task.index_of_coordinate + 1
    assert residues.tolist() == [pow(2, power, 13) for power in range(12)]


@pytest.mark.parametrize(
    ("op", "p", "fragment"),
    [
        ("add", 2, "p=2 is too small"),
        ("mul", 12, "p=12 is composite"),
        ("div", 15, "p=15 is composite"),
        ("pow", 7, "unknown operation 'pow'"),
    ],
)
def test_task_invalid_input(op: str, p: int, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        Task(op, p)


def test_add_allows_composite_modulus() -> None:
    assert Task("add", 12).n == 12


def test_split_deterministic_and_disjoint() -> None:
    task = Task("add", 41)
    first = make_split(task, 0.3, seed=5)
    second = make_split(task, 0.3, seed=5)
    other = make_split(task, 0.3, seed=6)
    assert torch.equal(first, second)
    assert not torch.equal(first, other)
    assert int(first.sum()) == train_size(task.num_pairs, 0.3) == 504
    assert int((~first).sum()) == task.num_pairs - 504


def test_split_independent_of_global_rng() -> None:
    task = Task("sub", 23)
    torch.manual_seed(1)
    first = make_split(task, 0.5, seed=0)
    torch.manual_seed(2)
    assert torch.equal(first, make_split(task, 0.5, seed=0))


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, 0.0001])
def test_split_rejects_empty_side(fraction: float) -> None:
    with pytest.raises(ValueError, match="leaves the train or the test split empty"):
        make_split(Task("add", 41), fraction, seed=0)

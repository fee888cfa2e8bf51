"""Tests for the Fourier geometry of Z_n, the canonical deviation and the geometry command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import typer
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from engine.geometry import (
    canonical_loss,
    complement_projector,
    deviation,
    effective_irreps,
    fourier_basis,
    frequency_energy,
    irreducible_subspaces,
    is_faithful,
    logit_profile,
    min_irreps,
    pooled_epsilon,
    profile_power,
    restricted_epsilon,
    top_frequencies,
)
from engine.tasks import Task
from grok_tui.commands.geometry import geometry_command


def cosine_profile(n: int, amplitudes: dict[int, float]) -> torch.Tensor:
    """Return F(s) = sum_k a_k cos(2πks/n), shape (n,), float64."""
    s = torch.arange(n, dtype=torch.float64)
    profile = torch.zeros(n, dtype=torch.float64)
    for k, amplitude in amplitudes.items():
        profile += amplitude * torch.cos(2 * math.pi * k * s / n)
    return profile


def canonical_table(profile: torch.Tensor, label_coordinate: torch.Tensor) -> torch.Tensor:
    """Return z(x)_c = F((t(x) - c) mod n), shape (N, n), classes in group coordinates."""
    n = profile.shape[0]
    classes = torch.arange(n)
    return profile[(label_coordinate[:, None] - classes[None, :]) % n]


def cross_entropy_per_input(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(logits.double(), labels, reduction="none")


# min_irreps and canonical_loss


@pytest.mark.parametrize(
    ("n", "amplitude", "expected"),
    [
        (113, 1.0, [1, 15, 20, 27, 38, 44, 52, 50, 4, 9, 22]),
        (113, 2.0, [1, 15, 20, 27, 38, 44, 52]),
        (112, 1.0, [1, 41, 17, 45, 10, 38, 15, 49, 6, 13, 20]),
    ],
)
def test_min_irreps_check_values(n: int, amplitude: float, expected: list[int]) -> None:
    assert min_irreps(n, amplitude=amplitude, target_loss=0.01) == expected


def test_min_irreps_reaches_target() -> None:
    order = min_irreps(113)
    assert canonical_loss(113, order, 1.0) <= 0.01
    assert canonical_loss(113, order[:-1], 1.0) > 0.01


def test_canonical_loss_empty_set() -> None:
    assert canonical_loss(13, [], 1.0) == pytest.approx(math.log(13), abs=1e-12)


def test_canonical_loss_all_frequencies() -> None:
    # For odd n, sum_{k=1}^{(n-1)/2} (1 - cos(2πkΔ/n)) = n/2 for every Δ != 0.
    n, amplitude = 13, 0.7
    expected = math.log1p((n - 1) * math.exp(-amplitude * n / 2))
    loss = canonical_loss(n, list(range(1, n // 2 + 1)), amplitude)
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n": 2}, "n=2"),
        ({"n": 13, "amplitude": 0.0}, "amplitude"),
        ({"n": 13, "amplitude": -1.0}, "amplitude"),
        ({"n": 13, "target_loss": 0.0}, "target loss"),
        ({"n": 13, "target_loss": -0.5}, "target loss"),
        ({"n": 5, "amplitude": 1.0, "target_loss": 0.01}, "raise the amplitude"),
    ],
)
def test_min_irreps_invalid_input(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        min_irreps(**arguments)


# Fourier basis, energy and projectors


@pytest.mark.parametrize("n", [7, 8, 112, 113])
def test_fourier_basis_orthonormal(n: int) -> None:
    basis, _ = fourier_basis(n)
    identity = torch.eye(n, dtype=torch.float64)
    assert basis.dtype == torch.float64
    assert torch.allclose(basis @ basis.T, identity, atol=1e-10, rtol=0)


def test_fourier_basis_frequencies_even() -> None:
    _, frequency = fourier_basis(8)
    assert frequency.tolist() == [0, 1, 1, 2, 2, 3, 3, 4]


def test_fourier_basis_frequencies_odd() -> None:
    _, frequency = fourier_basis(7)
    assert frequency.tolist() == [0, 1, 1, 2, 2, 3, 3]


def test_fourier_basis_row_values() -> None:
    n = 8
    basis, _ = fourier_basis(n)
    x = torch.arange(n, dtype=torch.float64)
    assert torch.allclose(basis[0], torch.full((n,), n**-0.5, dtype=torch.float64))
    assert torch.allclose(basis[3], math.sqrt(2 / n) * torch.cos(2 * math.pi * 2 * x / n))
    assert torch.allclose(basis[4], math.sqrt(2 / n) * torch.sin(2 * math.pi * 2 * x / n))
    assert torch.allclose(basis[7], (-1.0) ** x / math.sqrt(n))


def test_fourier_basis_returns_copies() -> None:
    basis, _ = fourier_basis(5)
    basis.zero_()
    fresh, _ = fourier_basis(5)
    assert fresh.abs().sum() > 0


@pytest.mark.parametrize(("n", "d"), [(113, 16), (112, 3), (8, 8)])
def test_frequency_energy_sums_to_one(n: int, d: int) -> None:
    matrix = torch.randn(n, d, generator=torch.Generator().manual_seed(n))
    energy = frequency_energy(matrix)
    assert energy.shape == (n // 2 + 1,)
    assert float(energy.sum()) == pytest.approx(1.0, abs=1e-12)


def test_frequency_energy_single_frequency() -> None:
    n = 113
    x = torch.arange(n, dtype=torch.float64)
    angle = 2 * math.pi * 5 * x / n
    embedding = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    energy = frequency_energy(embedding)
    assert float(energy[5]) == pytest.approx(1.0, abs=1e-12)
    others = torch.cat([energy[:5], energy[6:]])
    assert float(others.abs().max()) < 1e-12


def test_frequency_energy_zero_matrix() -> None:
    energy = frequency_energy(torch.zeros(9, 4))
    assert energy.tolist() == [0.0] * 5


@pytest.mark.parametrize(("n", "frequencies"), [(13, [2, 5]), (12, [1, 6]), (8, [])])
def test_complement_projector_properties(n: int, frequencies: list[int]) -> None:
    projector = complement_projector(n, frequencies)
    basis, frequency = fourier_basis(n)
    kept = [0, *frequencies]
    kept_rows = basis[torch.isin(frequency, torch.tensor(kept))]
    dropped_rows = basis[~torch.isin(frequency, torch.tensor(kept))]
    expected_rank = n - 1 - sum(1 if 2 * k == n else 2 for k in frequencies)

    assert torch.allclose(projector, projector.T, atol=1e-12)
    assert torch.allclose(projector @ projector, projector, atol=1e-12)
    assert float((kept_rows @ projector).abs().max()) < 1e-12
    assert torch.allclose(dropped_rows @ projector, dropped_rows, atol=1e-12)
    assert int(torch.linalg.matrix_rank(projector)) == expected_rank


# Irreducible subspaces


def test_irreducible_subspaces_z12() -> None:
    subspaces = irreducible_subspaces(12)
    assert [s.frequency for s in subspaces] == [0, 1, 2, 3, 4, 5, 6]
    assert [s.dimension for s in subspaces] == [1, 2, 2, 2, 2, 2, 1]
    assert [s.faithful for s in subspaces] == [False, True, False, False, False, True, False]


def test_irreducible_subspaces_prime_order() -> None:
    subspaces = irreducible_subspaces(113)
    assert len(subspaces) == 57
    assert not subspaces[0].faithful
    assert all(s.faithful for s in subspaces[1:])


def test_is_faithful_order_two() -> None:
    assert is_faithful(2, 1)
    assert not is_faithful(2, 0)


# Profile, effective irreps and top frequencies


def test_effective_irreps_three_equal() -> None:
    n = 31
    s = torch.arange(n, dtype=torch.float64)
    profile = (
        torch.cos(2 * math.pi * 2 * s / n)
        + torch.cos(2 * math.pi * 5 * s / n)
        + torch.sin(2 * math.pi * 7 * s / n)
    )
    power = profile_power(profile)
    assert float(power[2]) == pytest.approx(n / 2, rel=1e-12)
    assert effective_irreps(power) == pytest.approx(3.0, abs=1e-12)


def test_effective_irreps_zero_power() -> None:
    assert effective_irreps(torch.zeros(7, dtype=torch.float64)) == 0.0


def test_top_frequencies_ties_smaller_first() -> None:
    power = torch.tensor([9.0, 1.0, 3.0, 0.5, 3.0, 2.0], dtype=torch.float64)
    assert top_frequencies(power, 3) == [2, 4, 5]


def test_top_frequencies_too_many() -> None:
    with pytest.raises(ValueError, match="m=6"):
        top_frequencies(torch.ones(6, dtype=torch.float64), 6)


def test_logit_profile_recovers_profile() -> None:
    task = Task("add", 13)
    profile = cosine_profile(13, {1: 2.0, 4: 0.5})
    logits = canonical_table(profile, task.label_coordinate) + 3.0
    assert torch.allclose(logit_profile(logits, task.label_coordinate), profile, atol=1e-12)


# Deviation of canonical and random logit tables


def canonical_logits(task: Task, profile: torch.Tensor) -> torch.Tensor:
    """Return canonical logits in group coordinates, built in raw class-index order.

    Class index i has coordinate g(i), so the raw table is z(x)_i = F((t(x) - g(i)) mod n),
    and reordering its columns by index_of_coordinate puts class coordinate j in column j.
    """
    n = task.n
    raw = profile[(task.label_coordinate[:, None] - task.coordinate[None, :]) % n]
    return raw[:, task.index_of_coordinate]


@pytest.mark.parametrize("op", ["add", "mul"])
def test_deviation_canonical_table(op: str) -> None:
    task = Task(op, 13)
    n = task.n
    amplitudes = {1: 1.5, 3: 0.8, n // 2 - 1: 0.4}
    profile = cosine_profile(n, amplitudes)
    logits = canonical_logits(task, profile)
    labels = task.label_coordinate
    result = deviation(logits, labels)

    margins = [
        sum(a * (1 - math.cos(2 * math.pi * k * s / n)) for k, a in amplitudes.items())
        for s in range(1, n)
    ]
    cross_entropy = cross_entropy_per_input(logits, labels)

    assert torch.equal(task.coordinate[task.labels], labels)
    assert result.epsilon < 1e-12
    assert result.margin == pytest.approx(min(margins), abs=1e-12)
    assert torch.allclose(result.profile, profile, atol=1e-12)
    assert bool(result.certified.all())
    assert float(result.rise.abs().max()) < 1e-12
    assert torch.allclose(result.loss_bound, cross_entropy, atol=1e-12)
    assert result.cross_entropy_canonical == pytest.approx(float(cross_entropy[0]), abs=1e-12)
    assert float(result.loss_bound.mean() - cross_entropy.mean()) == pytest.approx(0, abs=1e-12)


def test_deviation_random_logits() -> None:
    task = Task("add", 31)
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(task.num_pairs, task.n, generator=generator)
    result = deviation(logits, task.label_coordinate)
    assert result.epsilon > 0.9
    assert int(result.certified.sum()) == 0


def test_deviation_frequency_subset() -> None:
    task = Task("add", 13)
    profile = cosine_profile(13, {2: 1.0, 5: 0.5})
    logits = canonical_table(profile, task.label_coordinate)
    result = deviation(logits, task.label_coordinate, frequencies=[2])
    expected_epsilon = (0.5**2) / (1.0**2 + 0.5**2)
    assert result.frequencies == [2]
    assert result.epsilon == pytest.approx(expected_epsilon, abs=1e-12)


def test_deviation_profile_argument_subset() -> None:
    task = Task("sub", 11)
    generator = torch.Generator().manual_seed(3)
    logits = torch.randn(task.num_pairs, task.n, generator=generator, dtype=torch.float64)
    labels = task.label_coordinate
    mask = torch.rand(task.num_pairs, generator=generator) < 0.3
    full = deviation(logits, labels)
    subset = deviation(logits[mask], labels[mask], profile=logit_profile(logits, labels))

    assert torch.allclose(subset.rise, full.rise[mask], atol=1e-12)
    assert subset.epsilon == pytest.approx(pooled_epsilon(full, mask), rel=1e-12)
    assert subset.margin == pytest.approx(full.margin, abs=1e-12)


def test_deviation_constant_logits() -> None:
    task = Task("add", 5)
    result = deviation(torch.ones(task.num_pairs, task.n), task.label_coordinate)
    assert result.epsilon == 0.0
    assert result.margin == 0.0
    assert not bool(result.certified.any())
    assert bool(torch.isinf(result.rho).all())


# Bounds on the generalization gap hold for any logits and any split


@settings(max_examples=60, deadline=None)
# Constant logits, whose margins are rounding noise.
@example("add", 5, 0, 0.0, 0.0, 1.5, 0.5, 0)
# CE* near 20.5, where torch's softplus threshold undershoots log(1 + exp(x)) by 1.2e-9.
@example("add", 5, 180, 3.75, 0.0, 1.09375, 0.5, 0)
@given(
    op=st.sampled_from(["add", "sub", "mul"]),
    p=st.sampled_from([3, 5, 7, 11]),
    seed=st.integers(0, 2**31 - 1),
    canonical_scale=st.floats(0.0, 20.0),
    noise_scale=st.floats(0.0, 10.0),
    log_scale=st.floats(-3.0, 3.0),
    train_fraction=st.floats(0.05, 0.95),
    top=st.integers(0, 3),
)
def test_bounds_hold_on_random_logits(
    op: str,
    p: int,
    seed: int,
    canonical_scale: float,
    noise_scale: float,
    log_scale: float,
    train_fraction: float,
    top: int,
) -> None:
    task = Task(op, p)
    n = task.n
    rng = np.random.default_rng(seed)
    profile = torch.from_numpy(rng.normal(size=n))
    noise = torch.from_numpy(rng.normal(size=(task.num_pairs, n)))
    bias = torch.from_numpy(rng.normal(size=(task.num_pairs, 1))) * 5
    labels = task.label_coordinate
    logits = canonical_scale * canonical_logits(task, profile) + noise_scale * noise + bias
    logits = logits * 10**log_scale
    train = torch.from_numpy(rng.random(task.num_pairs) < train_fraction)
    train[0], train[1] = True, False
    test = ~train

    full_profile = logit_profile(logits, labels)
    power = profile_power(full_profile)
    frequencies = None if top == 0 else top_frequencies(power, min(top, n // 2))
    result = deviation(logits, labels, frequencies=frequencies, profile=full_profile)

    wrong = logits.argmax(dim=1) != labels
    err_train = float(wrong[train].double().mean())
    err_test = float(wrong[test].double().mean())
    certified_fraction_test = float(result.certified[test].double().mean())
    cross_entropy = cross_entropy_per_input(logits, labels)

    accuracy_gap_bound = (1 - certified_fraction_test) - err_train
    assert accuracy_gap_bound >= err_test - err_train - 1e-9
    assert float(result.loss_bound[test].mean()) >= float(cross_entropy[test].mean()) - 1e-9
    assert not bool(wrong[result.certified].any())
    assert bool((result.rise >= 0).all())


# The geometry command


def geometry_app() -> typer.Typer:
    app = typer.Typer()
    app.command("geometry")(geometry_command)

    @app.callback()
    def main() -> None:
        """Keep geometry a subcommand, as in the full CLI."""

    return app


def test_geometry_command_json() -> None:
    result = CliRunner().invoke(geometry_app(), ["geometry", "--p", "113", "--json"])
    summary = json.loads(result.stdout)
    assert result.exit_code == 0
    assert summary["group"] == "Z_113"
    assert summary["order"] == 113
    assert summary["generator"] is None
    assert len(summary["subspaces"]) == 57
    assert summary["subspaces"][0] == {"frequency": 0, "dimension": 1, "faithful": False}
    assert summary["min_irreps"] == 11
    assert summary["greedy_order"] == [1, 15, 20, 27, 38, 44, 52, 50, 4, 9, 22]


def test_geometry_command_multiplicative_json() -> None:
    arguments = ["geometry", "--p", "113", "--op", "mul", "--amplitude", "2", "--json"]
    result = CliRunner().invoke(geometry_app(), arguments)
    summary = json.loads(result.stdout)
    assert result.exit_code == 0
    assert summary["group"] == "Z_113^*"
    assert summary["order"] == 112
    assert summary["generator"] == 3
    assert summary["subspaces"][56] == {"frequency": 56, "dimension": 1, "faithful": False}
    assert summary["amplitude"] == 2.0


def test_geometry_command_composite_mul() -> None:
    result = CliRunner().invoke(geometry_app(), ["geometry", "--op", "mul", "--p", "12"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "p=12" in result.stderr


def test_restricted_epsilon_matches_deviation() -> None:
    generator = torch.Generator().manual_seed(3)
    task = Task("add", 23)
    logits = torch.randn(task.num_pairs, task.n, generator=generator, dtype=torch.float64)
    equivariant = deviation(logits, task.label_coordinate)
    for frequencies in ([1], [2, 5, 7], list(range(1, 12))):
        direct = deviation(logits, task.label_coordinate, frequencies=frequencies).epsilon
        assert restricted_epsilon(equivariant, frequencies) == pytest.approx(direct, rel=1e-10)

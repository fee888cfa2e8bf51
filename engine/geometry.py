"""Fourier geometry of the cyclic group Z_n and the canonical form of a logit table.

Every function is pure and works in group coordinates: row x of an embedding or unembedding,
and column c of a logit table, belong to the group element whose coordinate is x or c. Inputs
are cast to float64 and results are float64 tensors or Python floats.

Over the reals the regular representation of Z_n splits into orthogonal irreducible subspaces
V_k, one per frequency k = 0..n//2. V_0 contains the constants, V_k for 0 < k < n/2 is spanned
by cos(2πkx/n) and sin(2πkx/n), and V_{n/2} (even n only) is spanned by (-1)^x. P_k is the
orthogonal projector onto V_k, and the P_k sum to the identity.

A logit table is equivariant when z(x)_c = F((t(x) - c) mod n) for one profile F, where t(x)
is the label coordinate of input x. The canonical logits z*_K use the profile restricted to a
frequency set K, and the residual H_K = z - z*_K measures how far a model is from that form.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

logger = logging.getLogger(__name__)

# Greedy candidates whose loss is within this relative distance of the best count as tied.
# Losses that are equal analytically can differ by float64 rounding, while the closest genuine
# difference on the greedy paths of n = 112 and n = 113 (α = 1 and 2) is 3.7e-13, relative.
TIE_RELATIVE_TOLERANCE = 5e-14

# Multiple of float64 epsilon times the largest logit below which a margin is rounding noise.
# By estimate, about eight roundings, each within eps times twice that logit, separate a
# computed logit difference from the exact one, so 64 leaves a factor of four to spare.
ROUNDING_FACTOR = 64

# Candidate frequencies evaluated together in min_irreps, bounding memory to about
# this many float64 values per block.
CANDIDATE_BLOCK_ELEMENTS = 1 << 20


# Fourier basis and projectors


@lru_cache(maxsize=32)
def _cached_fourier_basis(n: int) -> tuple[Tensor, Tensor]:
    x = torch.arange(n, dtype=torch.int64)
    rows = [torch.full((n,), 1.0 / math.sqrt(n), dtype=torch.float64)]
    frequency = [0]
    for k in range(1, (n - 1) // 2 + 1):
        # Reduce k·x mod n in integers first, so the angle stays in [0, 2π) for every k.
        angle = 2.0 * math.pi * ((k * x) % n).to(torch.float64) / n
        rows.append(math.sqrt(2.0 / n) * torch.cos(angle))
        rows.append(math.sqrt(2.0 / n) * torch.sin(angle))
        frequency += [k, k]
    if n % 2 == 0 and n >= 2:
        rows.append((1.0 - 2.0 * (x % 2).to(torch.float64)) / math.sqrt(n))
        frequency.append(n // 2)
    return torch.stack(rows), torch.tensor(frequency, dtype=torch.int64)


def fourier_basis(n: int) -> tuple[Tensor, Tensor]:
    """Return the real orthonormal Fourier basis of Z_n and the frequency of each row.

    ``basis`` has shape (n, n), float64, with rows DC 1/sqrt(n), then sqrt(2/n)·cos(2πkx/n)
    and sqrt(2/n)·sin(2πkx/n) for k = 1, 2, ... below n/2, then the Nyquist row
    (-1)^x/sqrt(n) when n is even. ``frequency`` has shape (n,), int64, and gives k per row.
    The tensors are fresh copies, so callers may modify them.
    """
    assert n >= 1, f"the group order n must be at least 1, got {n}"
    basis, frequency = _cached_fourier_basis(n)
    return basis.clone(), frequency.clone()


def _validate_frequencies(n: int, frequencies: list[int]) -> list[int]:
    """Return the frequencies without repeats, in the given order, or raise ValueError."""
    unique = list(dict.fromkeys(int(k) for k in frequencies))
    invalid = [k for k in unique if not 0 <= k <= n // 2]
    if invalid:
        raise ValueError(
            f"frequencies {invalid} are out of range for a group of order n={n}: "
            f"use frequencies between 0 and n//2 = {n // 2}"
        )
    return unique


def _frequency_rows(n: int, frequencies: list[int]) -> Tensor:
    """Return the basis rows spanning the sum of V_k over the given k, shape (rows, n)."""
    basis, frequency = _cached_fourier_basis(n)
    selected = torch.isin(frequency, torch.tensor(frequencies, dtype=torch.int64))
    return basis[selected]


def complement_projector(n: int, frequencies: list[int]) -> Tensor:
    """Return Π_⊥, the projector onto the orthogonal complement of V_0 ⊕ sum_{k in K} V_k.

    Shape (n, n), float64, symmetric and idempotent, with rank n - 1 - sum of dim V_k over the
    nonzero k in K. Apply it to an unembedding W_U of shape (n, d), rows in group coordinates,
    as ``Pi @ W_U``, and to logits z of shape (N, n), classes in group coordinates, as
    ``z @ Pi``. The regularizer toward the canonical geometry is then
    λ_W·||Π_⊥ W_U||_F^2 + λ_H·mean_x ||Π_⊥ z(x)||^2.
    """
    assert n >= 1, f"the group order n must be at least 1, got {n}"
    kept_frequencies = _validate_frequencies(n, [0, *frequencies])
    rows = _frequency_rows(n, kept_frequencies)
    return torch.eye(n, dtype=torch.float64) - rows.T @ rows


# Energy per frequency


def _power_per_frequency(coefficients: Tensor, frequency: Tensor, n: int) -> Tensor:
    """Sum squared basis coefficients by frequency: shape (n//2 + 1,) from (n,) or (n, d)."""
    squared = coefficients.square()
    if squared.dim() == 2:
        squared = squared.sum(dim=1)
    power = torch.zeros(n // 2 + 1, dtype=torch.float64)
    return power.index_add_(0, frequency, squared)


def frequency_energy(matrix: Tensor) -> Tensor:
    """Return energy_k = ||P_k M||_F^2 / ||M||_F^2 for k = 0..n//2, shape (n//2 + 1,).

    ``matrix`` has shape (n, d) with rows indexed by group coordinate, for example an
    embedding with one row per operand or an unembedding with one row per class. The result
    sums to 1, except for an all-zero matrix, which has no energy and gives all zeros.
    """
    assert matrix.dim() == 2, f"matrix must have shape (n, d), got {tuple(matrix.shape)}"
    n = matrix.shape[0]
    assert n >= 1, "matrix must have at least one row"
    basis, frequency = _cached_fourier_basis(n)
    power = _power_per_frequency(basis @ matrix.to(torch.float64), frequency, n)
    total = power.sum()
    if total == 0:
        return torch.zeros_like(power)
    return power / total


# Profile of a logit table


def _centre(logits: Tensor) -> Tensor:
    """Return the logits in float64 minus each row's mean over classes."""
    z = logits.to(torch.float64)
    return z - z.mean(dim=1, keepdim=True)


def _check_logits(logits: Tensor, label_coordinate: Tensor) -> None:
    assert logits.dim() == 2, f"logits must have shape (N, n), got {tuple(logits.shape)}"
    count, n = logits.shape
    assert count >= 1, "logits must contain at least one input"
    assert n >= 2, f"logits need at least 2 classes, got {n}"
    assert label_coordinate.shape == (count,), (
        f"label_coordinate must have shape ({count},), got {tuple(label_coordinate.shape)}"
    )
    assert int(label_coordinate.min()) >= 0, "label coordinates must not be negative"
    assert int(label_coordinate.max()) < n, f"label coordinates must be below n={n}"


def _aligned(z: Tensor, label_coordinate: Tensor) -> Tensor:
    """Return z read at distances from the answer: column s is z(x)_{(t(x) - s) mod n}.

    Shape (N, n). Column 0 is the true class. The index t + n - s lies in [1, 2n - 1], so the
    gather reads from z repeated twice along the classes instead of taking a remainder.
    """
    n = z.shape[1]
    index = label_coordinate.to(torch.int64)[:, None] + (n - torch.arange(n))[None, :]
    return torch.gather(torch.cat([z, z], dim=1), 1, index)


def logit_profile(logits: Tensor, label_coordinate: Tensor) -> Tensor:
    """Compute the profile F(s) = mean_x z(x)_{(t(x) - s) mod n}, shape (n,), in logits.

    ``logits`` has shape (N, n) with classes in group coordinates, and ``label_coordinate``
    has shape (N,) with the coordinate t(x) of each input's answer. z is centred over classes
    first, so F sums to zero. F is the orthogonal projection of the table onto the equivariant
    tables, and F(0) is the mean correct logit.
    """
    _check_logits(logits, label_coordinate)
    return _aligned(_centre(logits), label_coordinate).mean(dim=0)


def _restrict_profile(profile: Tensor, frequencies: list[int]) -> Tensor:
    """Return F_K = sum_{k in K} P_k F, shape (n,)."""
    n = profile.shape[0]
    rows = _frequency_rows(n, frequencies)
    return rows.T @ (rows @ profile)


def profile_power(profile: Tensor) -> Tensor:
    """Return the profile power π_k = ||P_k F||^2 for k = 0..n//2, shape (n//2 + 1,)."""
    assert profile.dim() == 1, f"profile must have shape (n,), got {tuple(profile.shape)}"
    n = profile.shape[0]
    basis, frequency = _cached_fourier_basis(n)
    return _power_per_frequency(basis @ profile.to(torch.float64), frequency, n)


def effective_irreps(power: Tensor) -> float:
    """Return the participation ratio (sum π_k)^2 / sum π_k^2 over k >= 1.

    ``power`` is the profile power of shape (n//2 + 1,). The ratio counts how many
    frequencies carry the profile: m frequencies of equal power give m. It is 0.0 when the
    power at every k >= 1 is zero.
    """
    assert power.dim() == 1, f"power must have shape (n//2 + 1,), got {tuple(power.shape)}"
    nonconstant = power[1:].to(torch.float64)
    squares = nonconstant.square().sum()
    if squares == 0:
        return 0.0
    return float(nonconstant.sum() ** 2 / squares)


def top_frequencies(power: Tensor, m: int) -> list[int]:
    """Return the m frequencies k >= 1 of largest profile power, largest first.

    Equal powers keep the smaller k first. Raise ValueError when m is negative or larger than
    the n//2 nonzero frequencies.
    """
    assert power.dim() == 1, f"power must have shape (n//2 + 1,), got {tuple(power.shape)}"
    available = power.shape[0] - 1
    if not 0 <= m <= available:
        raise ValueError(
            f"cannot select m={m} frequencies: use m between 0 and {available}, "
            f"the number of nonzero frequencies"
        )
    values = power.tolist()
    ranked = sorted(range(1, available + 1), key=lambda k: (-values[k], k))
    return ranked[:m]


# Representational deviation and the margin certificate


@dataclass(frozen=True, eq=False)
class Deviation:
    """Deviation of a logit table from its canonical form z*_K, and the bounds it gives.

    Per-input fields have shape (N,) and follow the order of the inputs passed. Logit
    quantities are in nats. ``eq=False`` because tensor fields have no single truth value.
    """

    epsilon: float
    """ε_K = sum_x ||H_K(x)||^2 / sum_x ||z(x)||^2 over the inputs passed."""
    margin: float
    """Canonical margin γ* = min_{s≠0} F_K(0) - F_K(s), the same for every input."""
    profile: Tensor
    """F_K, shape (n,)."""
    frequencies: list[int]
    """The frequency set K in ascending order, which is all of 0..n//2 when none was given."""
    cross_entropy_canonical: float
    """CE* = logsumexp(F_K) - F_K(0), the cross-entropy of the canonical logits."""
    rise: Tensor
    """δ(x) = max_c H_c(x) - H_{c*}(x) >= 0, with c* = t(x) the true class."""
    rho: Tensor
    """Normalised deviation ρ(x) = δ(x) / γ*, +inf everywhere when γ* <= 0 (see certified)."""
    certified: Tensor
    """Bool, δ(x) < γ* and γ* > 0, so every wrong logit is below the true one.

    Both inequalities must hold by more than the float64 rounding error of the logits, so a
    table whose margins are pure rounding noise (constant logits) certifies nothing, and ρ is
    +inf for it.
    """
    loss_bound: Tensor
    """U(x) = log(1 + exp(δ(x))·(exp(CE*) - 1)), an upper bound on the cross-entropy."""
    residual_sq: Tensor
    """||H_K(x)||^2."""
    logit_sq: Tensor
    """||z(x)||^2 of the centred logits."""


def _ratio(numerator: float, denominator: float) -> float:
    """Return numerator / denominator, with 0/0 = 0.0 and x/0 = inf for x > 0."""
    if denominator == 0:
        return 0.0 if numerator == 0 else math.inf
    return numerator / denominator


def _softplus(x: Tensor) -> Tensor:
    """Return log(1 + exp(x)) without overflow.

    torch.nn.functional.softplus returns x itself above its threshold of 20, which is up to
    2e-9 below the true value and would let the loss bound fall under the cross-entropy.
    """
    return torch.logaddexp(torch.zeros_like(x), x)


def _rounding_tolerance(logits: Tensor, restricted: Tensor) -> float:
    """Return the float64 rounding error bound of a logit difference z_c - z_{c*}, in logits.

    Centring, the residual H = z - z* and the margins each round once or twice relative to the
    largest raw logit or profile value, so a margin or rise below this bound carries no sign.
    """
    scale = float(logits.to(torch.float64).abs().max()) + float(restricted.abs().max())
    return ROUNDING_FACTOR * torch.finfo(torch.float64).eps * scale


def deviation(
    logits: Tensor,
    label_coordinate: Tensor,
    frequencies: list[int] | None = None,
    profile: Tensor | None = None,
) -> Deviation:
    """Measure the deviation of logits from their canonical form and the margin certificate.

    ``logits`` has shape (N, n) with classes in group coordinates, and ``label_coordinate``
    has shape (N,). ``frequencies`` is the set K, and None means all frequencies 0..n//2,
    which gives the equivariant deviation ε_eq. ``profile`` is a precomputed F of shape (n,),
    usually ``logit_profile`` over the full input grid, so that the quantities of a subset
    (train or test pairs) refer to the full-grid canonical form. Without it F comes from the
    inputs passed.

    With z centred over classes, z*_K(x)_c = F_K((t(x) - c) mod n) and H_K = z - z*_K. Since
    z_c - z_{c*} = -(F_K(0) - F_K(s)) + H_c - H_{c*} for a class at distance s, the
    certificate and the loss bound hold for any K and any F. An input is certified when
    δ(x) < γ* beyond rounding error, and then its argmax is the true class. Its cross-entropy
    is at most U(x).
    """
    _check_logits(logits, label_coordinate)
    z = _centre(logits)
    n = z.shape[1]
    aligned = _aligned(z, label_coordinate)
    if profile is None:
        profile = aligned.mean(dim=0)
    assert profile.shape == (n,), f"profile must have shape ({n},), got {tuple(profile.shape)}"
    if frequencies is None:
        frequencies = list(range(n // 2 + 1))
    frequencies = sorted(_validate_frequencies(n, frequencies))
    restricted = _restrict_profile(profile.to(torch.float64), frequencies)

    # in aligned columns the canonical logits are F_K itself, and the true class is column 0;
    # norms and maxima over classes do not depend on the column order
    residual = aligned - restricted
    residual_sq = residual.square().sum(dim=1)
    logit_sq = z.square().sum(dim=1)

    # γ_s = F_K(0) - F_K(s) for s != 0.
    offsets = restricted[1:] - restricted[0]
    margin = float(-offsets.max())
    # log(exp(CE*) - 1) = logsumexp_{s != 0}(F_K(s) - F_K(0)), finite even when CE* underflows.
    log_tail = torch.logsumexp(offsets, dim=0)
    cross_entropy_canonical = float(_softplus(log_tail))

    rise = residual.max(dim=1).values - residual[:, 0]
    tolerance = _rounding_tolerance(logits, restricted)
    if margin > tolerance:
        rho = rise / margin
        certified = rise < margin - tolerance
    else:
        rho = torch.full_like(rise, math.inf)
        certified = torch.zeros_like(rise, dtype=torch.bool)
    # U = log(1 + exp(δ + log(exp(CE*) - 1))) = softplus(δ + log_tail).
    loss_bound = _softplus(rise + log_tail)

    return Deviation(
        epsilon=_ratio(float(residual_sq.sum()), float(logit_sq.sum())),
        margin=margin,
        profile=restricted,
        frequencies=frequencies,
        cross_entropy_canonical=cross_entropy_canonical,
        rise=rise,
        rho=rho,
        certified=certified,
        loss_bound=loss_bound,
        residual_sq=residual_sq,
        logit_sq=logit_sq,
    )


def pooled_epsilon(result: Deviation, mask: Tensor) -> float:
    """Return ε over a subset S of the inputs: residual_sq[S].sum() / logit_sq[S].sum().

    ``mask`` is a bool tensor of shape (N,) that selects S. The ratio is 0.0 when every logit
    and residual in S is zero, and +inf when only the logits are.
    """
    assert mask.shape == result.rise.shape, (
        f"mask must have shape {tuple(result.rise.shape)}, got {tuple(mask.shape)}"
    )
    assert mask.dtype == torch.bool, f"mask must be bool, got {mask.dtype}"
    assert bool(mask.any()), "mask selects no inputs"
    return _ratio(float(result.residual_sq[mask].sum()), float(result.logit_sq[mask].sum()))


# Geometry of the task before training


def restricted_epsilon(equivariant: Deviation, frequencies: list[int]) -> float:
    """Return ε_K from the equivariant deviation of the same inputs, without a second pass.

    ``equivariant`` must come from ``deviation`` with all frequencies and with the profile
    computed over those same inputs (the default). Then the residuals H_eq(x) sum to zero over
    x, so sum_x ||H_K(x)||^2 = sum_x ||H_eq(x)||^2 + N·||F - F_K||^2, which gives ε_K.
    """
    profile = equivariant.profile
    n = profile.shape[0]
    gap = profile - _restrict_profile(profile, sorted(_validate_frequencies(n, frequencies)))
    count = equivariant.residual_sq.shape[0]
    residual = float(equivariant.residual_sq.sum()) + count * float(gap.square().sum())
    return _ratio(residual, float(equivariant.logit_sq.sum()))


def _margin_term(n: int, k: int, amplitude: float) -> Tensor:
    """Return α·(1 - cos(2πkΔ/n)) for Δ = 1..n-1, shape (n - 1,)."""
    delta = torch.arange(1, n, dtype=torch.int64)
    angle = 2.0 * math.pi * ((k * delta) % n).to(torch.float64) / n
    return amplitude * (1.0 - torch.cos(angle))


def _canonical_loss_rows(margins: Tensor) -> Tensor:
    """Return log(1 + sum_Δ exp(-γ_Δ)) per row of margins, shape (rows,) from (rows, n - 1).

    The terms are summed in ascending order, so rows holding the same margins in any order
    give bitwise equal losses, which keeps exact ties exact.
    """
    terms = torch.exp(-margins).sort(dim=1).values
    return torch.log1p(terms.sum(dim=1))


def canonical_loss(n: int, frequencies: list[int], amplitude: float) -> float:
    """Return the cross-entropy L(K, α) of an equal-amplitude canonical profile, in nats.

    L(K, α) = log(1 + sum_{Δ=1}^{n-1} exp(-γ_Δ)), with γ_Δ = α·sum_{k in K}(1 - cos(2πkΔ/n))
    the margin to the class Δ steps from the answer. It is the same for every input.
    """
    assert n >= 2, f"the group order n must be at least 2, got {n}"
    margins = torch.zeros(n - 1, dtype=torch.float64)
    for k in _validate_frequencies(n, frequencies):
        margins = margins + _margin_term(n, k, amplitude)
    return float(_canonical_loss_rows(margins[None, :])[0])


def _validate_min_irreps(n: int, amplitude: float, target_loss: float) -> None:
    if n < 3:
        raise ValueError(f"group order n={n} is too small: use n >= 3")
    if not amplitude > 0 or math.isinf(amplitude):
        raise ValueError(
            f"amplitude α={amplitude} must be a positive finite number of logits: "
            f"use for example 1.0"
        )
    if not target_loss > 0:
        raise ValueError(
            f"target loss {target_loss} must be positive, because the loss of a finite profile "
            f"is never 0: use for example 0.01 nats"
        )
    full_loss = canonical_loss(n, list(range(1, n // 2 + 1)), amplitude)
    if full_loss > target_loss:
        raise ValueError(
            f"even all {n // 2} frequencies at amplitude α={amplitude} give a loss of "
            f"{full_loss:.4g} nats, above the target loss {target_loss}: raise the amplitude "
            f"or the target loss"
        )


def min_irreps(n: int, amplitude: float = 1.0, target_loss: float = 0.01) -> list[int]:
    """Return the greedy frequency order whose length is m†, the irreps needed for the task.

    Starting from K empty, add the frequency in 1..n//2 that lowers L(K, α) the most, until
    L(K, α) <= target_loss (in nats). Candidates within a relative 5e-14 of the lowest loss are
    tied, and the smallest k wins, because float64 rounding separates frequencies whose losses
    are equal, for example every single frequency when n is prime.

    Raise ValueError when n < 3, amplitude <= 0, target_loss <= 0, or when all frequencies
    together cannot reach the target loss.
    """
    _validate_min_irreps(n, amplitude, target_loss)
    margins = torch.zeros(n - 1, dtype=torch.float64)
    loss = math.log(n)
    order: list[int] = []
    remaining = list(range(1, n // 2 + 1))
    block = max(1, CANDIDATE_BLOCK_ELEMENTS // (n - 1))
    while loss > target_loss:
        terms = {k: _margin_term(n, k, amplitude) for k in remaining}
        losses: list[float] = []
        for start in range(0, len(remaining), block):
            candidates = remaining[start : start + block]
            stacked = margins[None, :] + torch.stack([terms[k] for k in candidates])
            losses += _canonical_loss_rows(stacked).tolist()
        lowest = min(losses)
        threshold = lowest * (1 + TIE_RELATIVE_TOLERANCE)
        tied = [k for k, value in zip(remaining, losses, strict=True) if value <= threshold]
        chosen = min(tied)
        margins = margins + terms[chosen]
        loss = losses[remaining.index(chosen)]
        order.append(chosen)
        remaining.remove(chosen)
        logger.debug("min_irreps n=%d: added k=%d, loss %.6g nats", n, chosen, loss)
    return order


# Irreducible subspaces


@dataclass(frozen=True)
class IrreducibleSubspace:
    """One real irreducible subspace V_k of Z_n."""

    frequency: int
    dimension: int
    """1 for k = 0 and for the Nyquist frequency n/2, else 2."""
    faithful: bool
    """Whether V_k alone separates all n group elements, that is gcd(k, n) == 1."""


def is_faithful(n: int, k: int) -> bool:
    """Return whether frequency k alone separates all elements of the cyclic group Z_n.

    A shift by g acts on V_k as rotation by 2πkg/n, which is the identity exactly when
    n / gcd(k, n) divides g, so V_k is faithful iff gcd(k, n) == 1. k = 0 never is for n >= 2,
    and the Nyquist frequency n/2 is only when n == 2. Z_p and Z_p^* are both cyclic, so the
    rule is the same for add/sub (n = p) and mul/div (n = p - 1). For prime p every k >= 1 of
    Z_p is faithful, while for p > 3 the even order p - 1 of Z_p^* makes at least the Nyquist
    frequency (the Legendre symbol) unfaithful.
    """
    assert n >= 2, f"the group order n must be at least 2, got {n}"
    _validate_frequencies(n, [k])
    return math.gcd(k, n) == 1


def irreducible_subspaces(n: int) -> list[IrreducibleSubspace]:
    """Return the real irreducible subspaces V_0..V_{n//2} of Z_n, ordered by frequency."""
    assert n >= 2, f"the group order n must be at least 2, got {n}"
    return [
        IrreducibleSubspace(
            frequency=k,
            dimension=1 if k == 0 or 2 * k == n else 2,
            faithful=is_faithful(n, k),
        )
        for k in range(n // 2 + 1)
    ]

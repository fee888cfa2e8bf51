"""Modular-arithmetic tasks and their group coordinates.

A task is an operation (add, sub, mul, div) modulo p. Its operands and answers are elements of
a cyclic group of order n: Z_p for add and sub (n = p), Z_p^* for mul and div (n = p - 1, zero
excluded). Models see operands and classes by *index* 0..n-1 (the residue minus ``offset``);
the geometry works in *group coordinates*, where the coordinate of a residue is itself for add
and sub and its discrete logarithm base the smallest primitive root for mul and div.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

OPS = ("add", "sub", "mul", "div")
MIN_MODULUS = 3


def is_prime(p: int) -> bool:
    """Return whether p is prime, by trial division (p is at most a few thousand here)."""
    if p < 2:
        return False
    divisor = 2
    while divisor * divisor <= p:
        if p % divisor == 0:
            return False
        divisor += 1
    return True


def primitive_root(p: int) -> int:
    """Return the smallest primitive root of the prime p (3 for 113, 5 for 97)."""
    assert is_prime(p), f"primitive_root needs a prime modulus, got {p}"
    order = p - 1
    prime_factors = [q for q in range(2, order + 1) if order % q == 0 and is_prime(q)]
    for candidate in range(2, p):
        if all(pow(candidate, order // q, p) != 1 for q in prime_factors):
            return candidate
    raise AssertionError(f"no primitive root found for {p}")  # unreachable for a prime


def validate_task(op: str, p: int) -> None:
    """Raise ValueError naming the value and the fix when (op, p) is not a valid task."""
    if op not in OPS:
        raise ValueError(f"unknown operation {op!r}: use one of {', '.join(OPS)}")
    if p < MIN_MODULUS:
        raise ValueError(f"modulus p={p} is too small: use p >= {MIN_MODULUS}, for example 113")
    if op in ("mul", "div") and not is_prime(p):
        raise ValueError(
            f"{op} needs a prime modulus so that every nonzero residue is invertible, "
            f"but p={p} is composite: use a prime such as 97 or 113"
        )


@dataclass(frozen=True)
class Task:
    """One modular-arithmetic task: ``a op b mod p`` over all n*n ordered operand pairs.

    Pairs are flattened row-major: pair index ``i * n + j`` is the pair of operand indices (i, j).
    """

    op: str
    p: int

    def __post_init__(self) -> None:
        validate_task(self.op, self.p)

    @property
    def multiplicative(self) -> bool:
        """Whether the group is Z_p^* (mul, div) rather than Z_p (add, sub)."""
        return self.op in ("mul", "div")

    @property
    def n(self) -> int:
        """Group order: the number of operands and of output classes."""
        return self.p - 1 if self.multiplicative else self.p

    @property
    def offset(self) -> int:
        """Residue of operand index 0 (1 for mul and div, whose operands are 1..p-1)."""
        return 1 if self.multiplicative else 0

    @property
    def sign(self) -> int:
        """Sign σ in the label coordinate t(a, b) = g(a) + σ·g(b) mod n."""
        return -1 if self.op in ("sub", "div") else 1

    @property
    def generator(self) -> int | None:
        """Smallest primitive root r of p for mul and div, None for add and sub."""
        return primitive_root(self.p) if self.multiplicative else None

    @property
    def num_pairs(self) -> int:
        """Number of ordered operand pairs, n*n."""
        return self.n * self.n

    @cached_property
    def coordinate(self) -> torch.Tensor:
        """Group coordinate g of each operand or class index, shape (n,), int64.

        For mul and div, ``coordinate[i]`` is the discrete log of residue i + 1 base r.
        """
        if not self.multiplicative:
            return torch.arange(self.n)
        coordinate = torch.empty(self.n, dtype=torch.int64)
        residue = 1
        for power in range(self.n):
            coordinate[residue - 1] = power
            residue = residue * self.generator % self.p
        return coordinate

    @cached_property
    def index_of_coordinate(self) -> torch.Tensor:
        """Inverse of ``coordinate``: the index whose coordinate is j, shape (n,), int64."""
        return torch.argsort(self.coordinate)

    @cached_property
    def pairs(self) -> torch.Tensor:
        """Operand indices of every pair, shape (n*n, 2), int64, row-major order."""
        index = torch.arange(self.n)
        return torch.cartesian_prod(index, index)

    @cached_property
    def labels(self) -> torch.Tensor:
        """Class index of the answer of every pair, shape (n*n,), int64."""
        a = self.pairs[:, 0] + self.offset
        b = self.pairs[:, 1] + self.offset
        if self.op == "add":
            answer = (a + b) % self.p
        elif self.op == "sub":
            answer = (a - b) % self.p
        elif self.op == "mul":
            answer = (a * b) % self.p
        else:
            inverse = torch.tensor([pow(int(x), -1, self.p) for x in range(1, self.p)])
            answer = (a * inverse[b - 1]) % self.p
        return answer - self.offset

    @cached_property
    def label_coordinate(self) -> torch.Tensor:
        """Label coordinate t(a, b) = g(a) + σ·g(b) mod n of every pair, shape (n*n,), int64."""
        g_a = self.coordinate[self.pairs[:, 0]]
        g_b = self.coordinate[self.pairs[:, 1]]
        return (g_a + self.sign * g_b) % self.n

    def describe(self) -> str:
        """Return a one-line description such as ``a + b mod 113``."""
        symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[self.op]
        return f"a {symbol} b mod {self.p}"

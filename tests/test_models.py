"""The regrouped forward passes of engine.models against the plain computations they replace.

``forward`` and ``grid_logits`` must be exact rewrites of ``forward_reference``: equal up to
float rounding on any weights, with equal gradients. In float64 a wrong regrouping shows as a
difference of order one, while rounding stays far below the 1e-9 tolerance used here.
"""

from __future__ import annotations

import pytest
import torch

from engine.models import EmbeddingMLP, OneLayerTransformer, build_model

# small widths keep the full n*n grid of n=113 cheap; the default widths run on sampled pairs
SMALL_WIDTH = {
    "mlp": {"embed_dim": 16, "hidden_dim": 24},
    "transformer": {"d_model": 32, "num_heads": 2, "d_head": 8, "d_mlp": 48},
}
KINDS = ("mlp", "transformer")
ORDERS = (7, 12, 113)  # odd, even, and the modulus of the presets
SAMPLED_PAIRS = 300
FLOAT64_TOLERANCE = 1e-9


def random_model(kind: str, n: int, seed: int, width: dict[str, int] | None = None):
    """Build a float64 model whose every parameter, zero biases included, is random."""
    model = build_model(kind, n, width)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            scale = parameter.shape[-1] ** -0.5
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return model.double()


def random_pairs(n: int, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``count`` operand index pairs, repeats allowed, as two int64 tensors."""
    generator = torch.Generator().manual_seed(seed)
    a = torch.randint(0, n, (count,), generator=generator)
    b = torch.randint(0, n, (count,), generator=generator)
    return a, b


def max_difference(x: torch.Tensor, y: torch.Tensor) -> float:
    """Return max |x - y| over all entries."""
    return (x - y).abs().max().item()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", ORDERS)
@pytest.mark.parametrize("seed", [0, 1])
def test_forward_matches_reference(kind: str, n: int, seed: int) -> None:
    model = random_model(kind, n, seed)
    a, b = random_pairs(n, SAMPLED_PAIRS, seed)

    logits = model(a, b)
    expected = model.forward_reference(a, b)

    assert logits.shape == (SAMPLED_PAIRS, n)
    assert max_difference(logits, expected) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("kind", KINDS)
def test_forward_single_pair(kind: str) -> None:
    model = random_model(kind, 12, seed=3)
    a, b = torch.tensor([5]), torch.tensor([11])

    logits = model(a, b)

    assert logits.shape == (1, 12)
    assert max_difference(logits, model.forward_reference(a, b)) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", ORDERS)
def test_gradients_match_reference(kind: str, n: int) -> None:
    model = random_model(kind, n, seed=n)
    a, b = random_pairs(n, SAMPLED_PAIRS, seed=n + 1)
    # a random linear loss of the logits reaches every parameter with a generic gradient
    generator = torch.Generator().manual_seed(n + 2)
    loss_weights = torch.randn(SAMPLED_PAIRS, n, generator=generator, dtype=torch.float64)

    (model(a, b) * loss_weights).sum().backward()
    gradients = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    (model.forward_reference(a, b) * loss_weights).sum().backward()

    for name, parameter in model.named_parameters():
        scale = max(1.0, parameter.grad.abs().max().item())
        assert max_difference(gradients[name], parameter.grad) < FLOAT64_TOLERANCE * scale, name


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", ORDERS)
def test_grid_logits_row_major(kind: str, n: int) -> None:
    model = random_model(kind, n, seed=7, width=SMALL_WIDTH[kind])
    index = torch.arange(n)
    a, b = index.repeat_interleave(n), index.repeat(n)  # pair i * n + j is (i, j)

    with torch.no_grad():
        grid = model.grid_logits()
        expected = model.forward_reference(a, b)

    assert grid.shape == (n * n, n)
    assert max_difference(grid, expected) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("kind", KINDS)
def test_float32_forward_close(kind: str) -> None:
    torch.manual_seed(0)
    model = build_model(kind, 113)  # default widths and initialisation, float32
    a, b = random_pairs(113, SAMPLED_PAIRS, seed=5)

    with torch.no_grad():
        logits = model(a, b)
        expected = model.forward_reference(a, b)

    scale = expected.abs().max().item()
    assert max_difference(logits, expected) < 1e-5 * scale


def test_build_model_kinds() -> None:
    assert isinstance(build_model("mlp", 7), EmbeddingMLP)
    assert isinstance(build_model("transformer", 7), OneLayerTransformer)
    with pytest.raises(ValueError, match="unknown model 'cnn'"):
        build_model("cnn", 7)


@pytest.mark.parametrize("kind", KINDS)
def test_embedding_and_unembedding_shapes(kind: str) -> None:
    model = build_model(kind, 12, SMALL_WIDTH[kind])
    width = SMALL_WIDTH[kind]
    embed = width.get("embed_dim", width.get("d_model"))
    readout = width.get("hidden_dim", width.get("d_model"))

    assert tuple(model.operand_embedding().shape) == (12, embed)
    assert tuple(model.unembedding().shape) == (12, readout)

"""Models for modular arithmetic: an embedding MLP and the one-layer transformer of Nanda et al.

Both map a batch of operand-index pairs ``(a, b)``, int64 tensors of shape (B,), to logits of
shape (B, n) over class indices. For the geometry, both expose the operand embedding and the
unembedding as (n, d) matrices with one row per operand or class index. Rows are in index
order, and ``engine.metrics.group_ordered`` reorders them into group coordinates.

Each ``forward`` is an exact rewrite of the plain computation in ``forward_reference``: the
same arithmetic, regrouped so that per-token tables replace per-example matrix products. The
two agree up to float rounding, which the tests check.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MODEL_KINDS = ("mlp", "transformer")


class EmbeddingMLP(nn.Module):
    """Shared operand embedding, concatenated for (a, b), one hidden ReLU layer, linear readout.

    Args:
        n: number of operands and of classes.
        embed_dim: embedding width per operand.
        hidden_dim: hidden layer width.
    """

    def __init__(self, n: int, embed_dim: int = 128, hidden_dim: int = 256) -> None:
        super().__init__()
        self.n = n
        self.embedding = nn.Embedding(n, embed_dim)
        self.hidden = nn.Linear(2 * embed_dim, hidden_dim)
        self.readout = nn.Linear(hidden_dim, n)

    def _hidden_tables(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the hidden layer's two operand tables, each of shape (n, hidden).

        Row a of the first plus row b of the second is the hidden pre-activation of the pair
        (a, b). The bias is folded into the first table, so no per-pair pass adds it.
        """
        embed_dim = self.embedding.embedding_dim
        weight_a = self.hidden.weight[:, :embed_dim]
        weight_b = self.hidden.weight[:, embed_dim:]
        table_a = F.linear(self.embedding.weight, weight_a, self.hidden.bias)
        table_b = F.linear(self.embedding.weight, weight_b)
        return table_a, table_b

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Return logits (B, n) using per-operand tables of the hidden layer's two halves."""
        table_a, table_b = self._hidden_tables()
        hidden = F.relu(table_a.index_select(0, a) + table_b.index_select(0, b))
        return self.readout(hidden)

    def forward_reference(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Return logits (B, n) computed the plain way: embed, concatenate, MLP."""
        x = torch.cat([self.embedding(a), self.embedding(b)], dim=-1)
        return self.readout(F.relu(self.hidden(x)))

    def grid_logits(self) -> torch.Tensor:
        """Return logits for all n*n pairs in row-major order, shape (n*n, n)."""
        table_a, table_b = self._hidden_tables()
        hidden = F.relu(table_a[:, None, :] + table_b[None, :, :])
        return self.readout(hidden.reshape(self.n * self.n, -1))

    def operand_embedding(self) -> torch.Tensor:
        """Operand embedding, shape (n, embed_dim), one row per operand index."""
        return self.embedding.weight

    def unembedding(self) -> torch.Tensor:
        """Unembedding, shape (n, hidden_dim), one row per class index."""
        return self.readout.weight


class OneLayerTransformer(nn.Module):
    """The one-layer transformer of Nanda et al. (2023) on the sequence [a, b, =].

    No LayerNorm, ReLU MLP, attention without biases, causal mask, logits read at '='.
    Initialisation follows the paper's code: Gaussian weights scaled by 1/sqrt(d_model), the
    unembedding by 1/sqrt(n), zero MLP biases and no unembedding bias. Token index n is '='.

    Args:
        n: number of operands and of classes.
        d_model: residual stream width.
        num_heads: attention heads.
        d_head: width of each head.
        d_mlp: hidden width of the MLP.
    """

    SEQUENCE_LENGTH = 3

    def __init__(
        self, n: int, d_model: int = 128, num_heads: int = 4, d_head: int = 32, d_mlp: int = 512
    ) -> None:
        super().__init__()
        self.n = n
        self.num_heads = num_heads
        self.d_head = d_head
        self.token_embedding = nn.Parameter(torch.randn(n + 1, d_model) / math.sqrt(d_model))
        self.position_embedding = nn.Parameter(
            torch.randn(self.SEQUENCE_LENGTH, d_model) / math.sqrt(d_model)
        )
        head_shape = (num_heads, d_head, d_model)
        self.W_Q = nn.Parameter(torch.randn(head_shape) / math.sqrt(d_model))
        self.W_K = nn.Parameter(torch.randn(head_shape) / math.sqrt(d_model))
        self.W_V = nn.Parameter(torch.randn(head_shape) / math.sqrt(d_model))
        self.W_O = nn.Parameter(torch.randn(d_model, num_heads * d_head) / math.sqrt(d_model))
        self.W_in = nn.Parameter(torch.randn(d_mlp, d_model) / math.sqrt(d_model))
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.W_out = nn.Parameter(torch.randn(d_model, d_mlp) / math.sqrt(d_model))
        self.b_out = nn.Parameter(torch.zeros(d_model))
        self.W_U = nn.Parameter(torch.randn(d_model, n) / math.sqrt(n))

    def _mlp_and_unembed(self, residual: torch.Tensor) -> torch.Tensor:
        """Apply the ReLU MLP with its residual connection, then unembed: (..., d) -> (..., n)."""
        hidden = F.relu(residual @ self.W_in.T + self.b_in)
        residual = residual + hidden @ self.W_out.T + self.b_out
        return residual @ self.W_U

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Return logits (B, n) at '=' from per-token tables of keys and values.

        Only the '=' position feeds the logits, and its query is the same for every input, so
        attention needs the keys and values of the operand tokens (one table row per token),
        and the attention output, MLP and unembedding run at that one position.
        """
        operands = self.token_embedding[: self.n]
        equals = self.token_embedding[self.n] + self.position_embedding[2]

        # (n, d) residual stream of each operand token at positions 0 and 1
        stream_a = operands + self.position_embedding[0]
        stream_b = operands + self.position_embedding[1]

        # the query at '=', (H, d_head), and per-token keys (n, H, d_head) and attention scores
        query = torch.einsum("hkd,d->hk", self.W_Q, equals)
        scale = 1.0 / math.sqrt(self.d_head)
        score_a = torch.einsum("hkd,nd,hk->nh", self.W_K, stream_a, query) * scale
        score_b = torch.einsum("hkd,nd,hk->nh", self.W_K, stream_b, query) * scale
        score_eq = torch.einsum("hkd,d,hk->h", self.W_K, equals, query) * scale

        # per-token values, (n, H, d_head), and the value of '=', (H, d_head)
        value_a = torch.einsum("hkd,nd->nhk", self.W_V, stream_a)
        value_b = torch.einsum("hkd,nd->nhk", self.W_V, stream_b)
        value_eq = torch.einsum("hkd,d->hk", self.W_V, equals)

        # softmax over the three positions, per head, then the weighted sum of values
        scores = torch.stack(
            [score_a.index_select(0, a), score_b.index_select(0, b), score_eq.expand(len(a), -1)],
            dim=-1,
        )
        weights = torch.softmax(scores, dim=-1).unsqueeze(-1)
        heads = (
            weights[:, :, 0] * value_a.index_select(0, a)
            + weights[:, :, 1] * value_b.index_select(0, b)
            + weights[:, :, 2] * value_eq
        )
        attention = heads.reshape(len(a), -1) @ self.W_O.T
        return self._mlp_and_unembed(equals + attention)

    def forward_reference(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Return logits (B, n) computed the plain way: every position through every layer."""
        equals = torch.full_like(a, self.n)
        tokens = torch.stack([a, b, equals], dim=1)
        residual = self.token_embedding[tokens] + self.position_embedding

        queries = torch.einsum("hkd,bpd->bhpk", self.W_Q, residual)
        keys = torch.einsum("hkd,bpd->bhpk", self.W_K, residual)
        values = torch.einsum("hkd,bpd->bhpk", self.W_V, residual)
        scores = queries @ keys.transpose(-1, -2) / math.sqrt(self.d_head)
        causal = torch.ones(3, 3, dtype=torch.bool, device=a.device).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
        heads = torch.softmax(scores, dim=-1) @ values
        heads = heads.permute(0, 2, 1, 3).reshape(a.shape[0], 3, -1)
        residual = residual + heads @ self.W_O.T

        logits = self._mlp_and_unembed(residual)
        return logits[:, -1, :]

    def grid_logits(self) -> torch.Tensor:
        """Return logits for all n*n pairs in row-major order, shape (n*n, n)."""
        index = torch.arange(self.n, device=self.W_U.device)
        return self.forward(index.repeat_interleave(self.n), index.repeat(self.n))

    def operand_embedding(self) -> torch.Tensor:
        """Operand token embedding, shape (n, d_model), one row per operand index."""
        return self.token_embedding[: self.n]

    def unembedding(self) -> torch.Tensor:
        """Unembedding, shape (n, d_model), one row per class index."""
        return self.W_U.T


Model = EmbeddingMLP | OneLayerTransformer


def build_model(kind: str, n: int, width: dict[str, int] | None = None) -> Model:
    """Build a model of the given kind for a group of order n on the CPU.

    Args:
        kind: ``mlp`` or ``transformer``.
        n: number of operands and classes.
        width: constructor keyword arguments (embed_dim/hidden_dim, or d_model, num_heads,
            d_head, d_mlp); defaults when omitted.
    """
    if kind == "mlp":
        return EmbeddingMLP(n, **(width or {}))
    if kind == "transformer":
        return OneLayerTransformer(n, **(width or {}))
    raise ValueError(f"unknown model {kind!r}: use one of {', '.join(MODEL_KINDS)}")

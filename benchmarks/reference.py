"""The straightforward training loop that the benchmark compares grok-tui's engine against.

The models follow the published recipes written the plain way. The MLP embeds each operand
with ``nn.Embedding``, concatenates the two embeddings and applies ``nn.Linear``, ReLU and
``nn.Linear``. The one-layer transformer of Nanda et al. (2023, "Progress measures for
grokking via mechanistic interpretability") sends all three positions of [a, b, =] through
attention, the MLP and the unembedding, and reads the logits at the last position. The step
is that of the public grokking scripts: full-batch AdamW with a LambdaLR warmup, the train
loss read back every step and, optionally, a test-set evaluation under ``no_grad`` every step.

Parameter names, shapes and initialisation match ``engine.models``, so a reference model
can load an engine model's ``state_dict`` and both start from the same weights. The classes
repeat those parameter definitions on purpose: the baseline shares no code with the engine
that it measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class ReferenceMLP(nn.Module):
    """Embedding, concatenation of the two operands, one hidden ReLU layer, linear readout.

    Args:
        n: number of operands and of classes.
        embed_dim: embedding width per operand.
        hidden_dim: hidden layer width.
    """

    def __init__(self, n: int, embed_dim: int = 128, hidden_dim: int = 256) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n, embed_dim)
        self.hidden = nn.Linear(2 * embed_dim, hidden_dim)
        self.readout = nn.Linear(hidden_dim, n)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Map operand pairs (B, 2) to logits (B, n)."""
        x = self.embedding(tokens).reshape(tokens.shape[0], -1)
        return self.readout(F.relu(self.hidden(x)))


class ReferenceTransformer(nn.Module):
    """One-layer transformer without LayerNorm on [a, b, =], computed at every position.

    Args:
        n: number of operands and of classes; token n is '='.
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
        mask = torch.tril(torch.ones(self.SEQUENCE_LENGTH, self.SEQUENCE_LENGTH))
        self.register_buffer("causal_mask", mask.bool(), persistent=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Map token sequences (B, 3) to logits at every position, (B, 3, n)."""
        x = self.token_embedding[tokens] + self.position_embedding

        # attention: queries, keys and values per head, causal softmax over positions
        q = torch.einsum("hkd,bpd->bhpk", self.W_Q, x)
        k = torch.einsum("hkd,bpd->bhpk", self.W_K, x)
        v = torch.einsum("hkd,bpd->bhpk", self.W_V, x)
        scores = torch.einsum("bhqk,bhpk->bhqp", q, k) / math.sqrt(self.d_head)
        scores = scores.masked_fill(~self.causal_mask, float("-inf"))
        z = torch.einsum("bhqp,bhpk->bhqk", torch.softmax(scores, dim=-1), v)
        z = z.permute(0, 2, 1, 3).reshape(tokens.shape[0], self.SEQUENCE_LENGTH, -1)
        x = x + z @ self.W_O.T

        # ReLU MLP with its residual connection, then the unembedding
        hidden = F.relu(x @ self.W_in.T + self.b_in)
        x = x + hidden @ self.W_out.T + self.b_out
        return x @ self.W_U


def build_reference_model(kind: str, n: int, width: dict[str, int] | None = None) -> nn.Module:
    """Build the plain model for ``kind`` (``mlp`` or ``transformer``), like ``build_model``."""
    if kind == "mlp":
        return ReferenceMLP(n, **(width or {}))
    if kind == "transformer":
        return ReferenceTransformer(n, **(width or {}))
    raise ValueError(f"unknown model {kind!r}: use mlp or transformer")


def model_tokens(kind: str, pairs: torch.Tensor, n: int) -> torch.Tensor:
    """Return the model input for operand pairs (B, 2): the pairs, or [a, b, =] (B, 3)."""
    if kind == "mlp":
        return pairs
    equals = torch.full((pairs.shape[0], 1), n, dtype=pairs.dtype, device=pairs.device)
    return torch.cat([pairs, equals], dim=1)


def final_logits(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Return the logits (B, n) that the loss uses: those at the last position for a transformer."""
    logits = model(tokens)
    return logits[:, -1] if logits.dim() == 3 else logits


@dataclass
class ReferenceData:
    """Model inputs and labels of the train and test pairs, on the training device."""

    train_tokens: torch.Tensor
    train_labels: torch.Tensor
    test_tokens: torch.Tensor
    test_labels: torch.Tensor


class ReferenceLoop:
    """Full-batch AdamW on the train pairs, stepped the way the public grokking scripts do it.

    Args:
        model: a reference model on the training device.
        data: train and test inputs and labels.
        lr: peak learning rate.
        weight_decay: AdamW's decoupled weight decay.
        betas: AdamW's betas.
        eps: AdamW's eps.
        warmup_steps: linear warmup length in updates; the update after step s uses
            lr * min(1, (s + 1) / warmup_steps), as in ``engine.training``.
    """

    def __init__(
        self,
        model: nn.Module,
        data: ReferenceData,
        *,
        lr: float,
        weight_decay: float,
        betas: tuple[float, float],
        eps: float,
        warmup_steps: int,
    ) -> None:
        self.model = model
        self.data = data
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=lr, betas=betas, eps=eps, weight_decay=weight_decay
        )
        warmup = max(warmup_steps, 1)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: min(1.0, (step + 1) / warmup)
        )

    def step(self, evaluate_test: bool) -> tuple[float, float | None, float | None]:
        """Take one update and return the train loss, test loss and test accuracy before it.

        The test values are None unless ``evaluate_test`` is set, in which case the model's
        forward runs on every test pair under ``no_grad`` before the update.
        """
        data = self.data
        logits = final_logits(self.model, data.train_tokens)
        loss = F.cross_entropy(logits, data.train_labels)

        test_loss = test_acc = None
        if evaluate_test:
            with torch.no_grad():
                test_logits = final_logits(self.model, data.test_tokens)
                test_loss = F.cross_entropy(test_logits, data.test_labels).item()
                test_acc = (test_logits.argmax(dim=-1) == data.test_labels).float().mean().item()

        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return loss.item(), test_loss, test_acc

"""Named training recipes as plain data: every value here can be overridden per run."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # the embedding MLP groks p=113 addition in about 3000-4000 full-batch steps on a CPU
    "fast-mlp": {
        "model": "mlp",
        "width": {"embed_dim": 128, "hidden_dim": 256},
        "train_fraction": 0.3,
        "lr": 3e-3,
        "weight_decay": 1.0,
        "betas": (0.9, 0.98),
        "warmup_steps": 0,
        "steps": 5000,  # test accuracy reaches 0.99 by about step 3800, leaving room after it
        "eval_every": 100,  # 50 evaluations over the run keep the curves smooth
    },
    # the one-layer transformer of Nanda et al. (2023), which groks between about 8k and 14k steps
    "nanda": {
        "model": "transformer",
        "width": {"d_model": 128, "num_heads": 4, "d_head": 32, "d_mlp": 512},
        "train_fraction": 0.3,
        "lr": 1e-3,
        "weight_decay": 1.0,
        "betas": (0.9, 0.98),
        "warmup_steps": 10,
        "steps": 20000,
        "eval_every": 250,
    },
}

DEFAULT_PRESET = "fast-mlp"

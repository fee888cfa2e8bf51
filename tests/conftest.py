"""Shared fixtures: small real runs trained once per test session."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path

import pytest
import torch

from engine.config import TrainConfig, resolve_config
from engine.runs import Run
from engine.training import TrainResult, train

# pytest-xdist runs one worker per core, so more torch threads would only oversubscribe the CPU
torch.set_num_threads(1)

# p=41 addition with half the pairs for training groks at about step 600 in about 2 s on a CPU
SMALL_GROKKING = {"p": 41, "train_fraction": 0.5, "lr": 1e-2, "steps": 1000, "device": "cpu"}


def run_async(test: Callable[..., Coroutine]) -> Callable[..., None]:
    """Turn an async test into a sync one (no async pytest plugin is installed)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def small_config(**overrides) -> TrainConfig:
    """Return the small grokking config with ``overrides`` applied."""
    return resolve_config("fast-mlp", **{**SMALL_GROKKING, **overrides})


def train_run(folder: Path, name: str, **overrides) -> TrainResult:
    """Train the small config into ``folder/name`` and return the result."""
    config = small_config(**overrides)
    run = Run.create(folder, name, config, "cpu", force=False)
    return train(config, run)


@pytest.fixture(scope="session")
def grokked_run(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """A finished p=41 run that grokked, saved under a session temporary folder. Read only."""
    folder = tmp_path_factory.mktemp("runs")
    return train_run(folder, "grokked")

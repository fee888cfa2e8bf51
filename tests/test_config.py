"""Presets, overrides, validation and the evaluation and checkpoint schedules."""

import pytest

from engine.config import TrainConfig, resolve_config
from engine.schedule import is_checkpoint_step, is_eval_step


def test_fast_mlp_preset_values() -> None:
    config = resolve_config("fast-mlp", p=113)
    assert config.model == "mlp"
    assert config.width == {"embed_dim": 128, "hidden_dim": 256}
    assert config.train_fraction == 0.3
    assert config.lr == 3e-3
    assert config.weight_decay == 1.0
    assert config.betas == (0.9, 0.98)
    assert config.batch_size is None


def test_nanda_preset_values() -> None:
    config = resolve_config("nanda", p=113)
    assert config.model == "transformer"
    assert config.width == {"d_model": 128, "num_heads": 4, "d_head": 32, "d_mlp": 512}
    assert config.lr == 1e-3
    assert config.warmup_steps == 10


def test_override_replaces_preset_value() -> None:
    config = resolve_config("nanda", p=97, lr=5e-4, seed=3, weight_decay=None)
    assert config.lr == 5e-4
    assert config.seed == 3
    assert config.weight_decay == 1.0


def test_other_model_drops_preset_widths() -> None:
    config = resolve_config("nanda", p=97, model="mlp")
    assert config.width == {}


def test_config_round_trip() -> None:
    config = resolve_config("fast-mlp", p=59, reg_frequencies=(1, 5), betas=(0.8, 0.9))
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"preset": "huge"}, "unknown preset 'huge'"),
        ({"lr": 0.0}, "learning rate 0.0 must be positive"),
        ({"weight_decay": -1.0}, "weight decay -1.0"),
        ({"steps": 0}, "steps 0 must be at least 1"),
        ({"batch_size": 100000}, "batch size 100000"),
        ({"model": "rnn"}, "unknown model 'rnn'"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"reg_frequencies": (0, 99)}, r"regularizer frequencies \[0, 99\]"),
        ({"betas": (0.9, 1.0)}, "betas"),
    ],
)
def test_config_invalid_values(overrides: dict, fragment: str) -> None:
    preset = overrides.pop("preset", "fast-mlp")
    with pytest.raises(ValueError, match=fragment):
        resolve_config(preset, p=41, **overrides)


def test_eval_schedule_dense_then_spaced() -> None:
    steps = [s for s in range(0, 1201) if is_eval_step(s, eval_every=500, total_steps=1200)]
    assert steps == [0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700,
                     1000, 1200]


def test_checkpoint_schedule_log_spaced() -> None:
    steps = [s for s in range(0, 4322) if is_checkpoint_step(s, total_steps=4321)]
    assert steps == [0, 100, 150, 200, 250, 300, 400, 500, 700, 1000, 1500, 2000, 2500, 3000,
                     4000, 4321]

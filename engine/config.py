"""The resolved configuration of a training run: a preset plus the caller's overrides."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from engine.devices import DEVICE_CHOICES, MATMUL_PRECISIONS
from engine.models import MODEL_KINDS
from engine.presets import DEFAULT_PRESET, PRESETS
from engine.split import validate_train_fraction
from engine.tasks import Task


@dataclass(frozen=True)
class TrainConfig:
    """Every hyperparameter of a run. Units: steps are optimizer updates, lr is per update."""

    p: int = 113
    op: str = "add"
    preset: str = DEFAULT_PRESET
    model: str = "mlp"
    width: dict[str, int] = field(default_factory=dict)
    train_fraction: float = 0.3
    lr: float = 3e-3
    weight_decay: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    warmup_steps: int = 0
    steps: int = 5000
    seed: int = 0
    batch_size: int | None = None  # None trains on the full train split every step
    eval_every: int = 100
    device: str = "auto"
    matmul_precision: str = "highest"
    # regularizer toward the canonical geometry: weights of the unembedding and logit terms
    reg_unembedding: float = 0.0
    reg_logits: float = 0.0
    reg_frequencies: tuple[int, ...] | None = None  # None uses the greedy minimal set
    # number of top profile frequencies in the low-dimensional deviation; None uses m†
    top_m: int | None = None

    @property
    def task(self) -> Task:
        """The task (op, p) of this run."""
        return Task(self.op, self.p)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as JSON-ready plain data."""
        data = dataclasses.asdict(self)
        data["betas"] = list(self.betas)
        if self.reg_frequencies is not None:
            data["reg_frequencies"] = list(self.reg_frequencies)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build a config from ``to_dict`` output; unknown keys raise ValueError."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}: this run needs a newer grok-tui")
        values = dict(data)
        if "betas" in values:
            values["betas"] = tuple(values["betas"])
        if values.get("reg_frequencies") is not None:
            values["reg_frequencies"] = tuple(values["reg_frequencies"])
        return cls(**values)


def resolve_config(preset: str = DEFAULT_PRESET, **overrides: Any) -> TrainConfig:
    """Return the config of a preset with the given overrides applied and validated.

    Overrides whose value is None are ignored, so CLI flags left unset keep the preset value.

    Raises:
        ValueError: an unknown preset or key, or an invalid value (the message names it).
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: use one of {', '.join(PRESETS)}")
    values: dict[str, Any] = {"preset": preset, **PRESETS[preset]}
    values.update({key: value for key, value in overrides.items() if value is not None})
    other_model = overrides.get("model") not in (None, PRESETS[preset]["model"])
    if other_model and not overrides.get("width"):
        values["width"] = {}  # the preset's widths belong to the preset's own model
    config = TrainConfig.from_dict(values)
    validate_config(config)
    return config


def validate_config(config: TrainConfig) -> None:
    """Raise ValueError naming the first invalid value of the config and how to fix it."""
    task = config.task  # validates op and p
    validate_train_fraction(task, config.train_fraction)
    numbers = {
        "lr": config.lr, "weight decay": config.weight_decay, "beta1": config.betas[0],
        "beta2": config.betas[1], "eps": config.eps, "reg-unembedding": config.reg_unembedding,
        "reg-logits": config.reg_logits,
    }  # fmt: skip
    for name, value in numbers.items():
        if not math.isfinite(value):
            raise ValueError(f"{name} {value} is not a finite number: give a finite value")
    checks = [
        (config.model in MODEL_KINDS, f"unknown model {config.model!r}: use one of "
         f"{', '.join(MODEL_KINDS)}"),
        (config.lr > 0, f"learning rate {config.lr} must be positive, for example 1e-3"),
        (config.weight_decay >= 0, f"weight decay {config.weight_decay} must be >= 0"),
        (all(0 <= beta < 1 for beta in config.betas),
         f"betas {config.betas} must each lie in [0, 1), for example 0.9 0.98"),
        (config.eps > 0, f"eps {config.eps} must be positive, for example 1e-8"),
        (config.warmup_steps >= 0, f"warmup steps {config.warmup_steps} must be >= 0"),
        (config.steps >= 1, f"steps {config.steps} must be at least 1"),
        (config.eval_every >= 1, f"eval every {config.eval_every} must be at least 1 step"),
        (config.seed >= 0, f"seed {config.seed} must be >= 0"),
        (config.device.split(":")[0] in DEVICE_CHOICES,
         f"unknown device {config.device!r}: use one of {', '.join(DEVICE_CHOICES)}"),
        (config.matmul_precision in MATMUL_PRECISIONS,
         f"unknown matmul precision {config.matmul_precision!r}: use one of "
         f"{', '.join(MATMUL_PRECISIONS)}"),
        (config.reg_unembedding >= 0,
         f"reg-unembedding {config.reg_unembedding} must be >= 0, for example 0.01"),
        (config.reg_logits >= 0, f"reg-logits {config.reg_logits} must be >= 0, for example 0.01"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(message)

    train_pairs = int(config.train_fraction * task.num_pairs)
    if config.batch_size is not None and not 1 <= config.batch_size <= train_pairs:
        raise ValueError(
            f"batch size {config.batch_size} must lie between 1 and the {train_pairs} train "
            f"pairs: omit --batch-size for full-batch training"
        )
    if config.reg_frequencies is not None:
        bad = [k for k in config.reg_frequencies if not 1 <= k <= task.n // 2]
        if bad:
            raise ValueError(
                f"regularizer frequencies {bad} are out of range: use frequencies between 1 "
                f"and {task.n // 2} for n={task.n}"
            )
    if config.top_m is not None and not 1 <= config.top_m <= task.n // 2:
        raise ValueError(f"top m {config.top_m} must lie between 1 and {task.n // 2}")

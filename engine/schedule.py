"""When a run evaluates and when it saves a checkpoint: dense early, log-spaced later."""

from __future__ import annotations

# mantissas of the log-spaced steps: 1, 1.5, 2, 3, 5, 7 times each power of ten
_EVAL_MANTISSAS = (10, 15, 20, 30, 50, 70)
# checkpoints are sparser: 1, 1.5, 2, 2.5, 3, 4, 5, 7 times each power of ten, from step 100 on
_CHECKPOINT_MANTISSAS = (10, 15, 20, 25, 30, 40, 50, 70)
_FIRST_CHECKPOINT = 100


def _is_log_spaced(step: int, mantissas: tuple[int, ...]) -> bool:
    """Return whether step is m/10 times a power of ten for one of the mantissas m."""
    if step < 1:
        return False
    scale = 1
    while step >= scale * 10:
        scale *= 10
    return any(step * 10 == m * scale for m in mantissas)


def is_eval_step(step: int, eval_every: int, total_steps: int) -> bool:
    """Return whether the model is evaluated after ``step`` optimizer updates.

    Step 0 (the initialisation), steps 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, ... , every
    ``eval_every`` steps, and the final step.
    """
    assert eval_every >= 1, f"eval_every must be at least 1, got {eval_every}"
    return (
        step == 0
        or step == total_steps
        or step % eval_every == 0
        or _is_log_spaced(step, _EVAL_MANTISSAS)
    )


def is_checkpoint_step(step: int, total_steps: int) -> bool:
    """Return whether a checkpoint is saved after ``step`` updates: 0, 100, 150, 200, 250, ...

    Step 0 keeps the initial weights, so even a run that diverges at once has a finite
    checkpoint. The final step is always saved; callers also save when a run stops early.
    """
    if step in (0, total_steps):
        return True
    return step >= _FIRST_CHECKPOINT and _is_log_spaced(step, _CHECKPOINT_MANTISSAS)

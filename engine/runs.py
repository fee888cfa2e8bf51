"""The run folder: one training run on disk, readable without any training code.

Layout of ``runs/NAME/`` (format version ``FORMAT_VERSION``):

- ``config.json``: the resolved config, task, device, dtype, package versions, format version.
- ``status.json``: state (running, finished, stopped, diverged), step, pid and host, message.
- ``split.json``: the train pair indices (row-major pair index ``i * n + j``).
- ``metrics.jsonl``: one metrics record per evaluation, appended as training goes.
- ``checkpoints/step_SSSSSSSS.model.safetensors`` and ``...state.safetensors``: weights, and
  optimizer state with RNG states (see ``engine.checkpoints``).

Every file but the metrics log is replaced atomically; see ``engine.storage``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import shutil
import socket
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy
import torch

from engine import __version__
from engine.config import TrainConfig
from engine.storage import append_jsonl, read_jsonl, write_json_atomic, write_text_atomic

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
SPLIT_FILE = "split.json"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_DIR = "checkpoints"

STATES = ("running", "finished", "stopped", "diverged", "interrupted")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
_CHECKPOINT_PATTERN = re.compile(r"^step_(\d{8})\.model\.safetensors$")


class RunError(Exception):
    """A run folder or one of its files that cannot be read or written; the message names it."""


def validate_run_name(name: str) -> None:
    """Raise ValueError unless ``name`` is a safe folder name (letters, digits, . _ + -)."""
    if not _NAME_PATTERN.match(name):
        raise ValueError(
            f"invalid run name {name!r}: use 1-100 letters, digits, '.', '_', '+' or '-', "
            f"starting with a letter or digit and without path separators"
        )


def default_run_name(config: TrainConfig, now: datetime | None = None) -> str:
    """Return a name from task, model, seed and time, such as add-p113-mlp-s0-20261204-101500."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"{config.op}-p{config.p}-{config.model}-s{config.seed}-{stamp}"


@dataclass(frozen=True)
class RunStatus:
    """The status of a run: its state, the last step reached, and the process that writes it."""

    state: str
    step: int
    updated: float  # Unix time of the last write
    pid: int | None = None
    host: str | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the status as JSON-ready plain data."""
        return asdict(self)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Run:
    """A run folder. Create one with ``Run.create``, open an existing one with ``Run.open``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def name(self) -> str:
        """The folder name of the run."""
        return self.path.name

    @property
    def checkpoint_dir(self) -> Path:
        """The folder of the checkpoint files."""
        return self.path / CHECKPOINT_DIR

    # creating and opening

    @classmethod
    def create(cls, out: Path, name: str, config: TrainConfig, device: str, force: bool) -> Run:
        """Create a run folder ``out/name`` and write its config.

        Raises:
            ValueError: the name is unsafe.
            RunError: the folder exists and ``force`` is false, it is not a run, a live process
                trains it, or it cannot be created.
        """
        validate_run_name(name)
        path = Path(out) / name
        is_run = (path / CONFIG_FILE).exists()
        if path.exists() and not is_run and (not path.is_dir() or any(path.iterdir())):
            raise RunError(
                f"{path} exists and is not a run folder: choose another --name or --out"
            )
        if is_run:
            if not force:
                raise RunError(
                    f"run folder {path} already exists: pass --resume {path} to continue it, "
                    f"--force to replace it, or --name to choose another name"
                )
            cls(path).ensure_not_running()
            shutil.rmtree(path)
        try:
            (path / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
            run = cls(path)
            write_json_atomic(path / CONFIG_FILE, run_record(config, device))
        except OSError as error:
            raise RunError(
                f"cannot create run folder {path}: {error.strerror or error}; "
                f"choose a writable folder with --out"
            ) from error
        return run

    @classmethod
    def open(cls, path: Path | str) -> Run:
        """Open an existing run folder, checking that it is one and that its format is known.

        Raises:
            RunError: the path does not exist, is not a run, or has a newer or broken config.
        """
        run = cls(Path(path))
        if not run.path.exists():
            raise RunError(f"run folder {run.path} does not exist: check the path, or list runs "
                           f"with 'grok-tui runs'")
        if not run.path.is_dir():
            raise RunError(f"{run.path} is a file, not a run folder")
        if not (run.path / CONFIG_FILE).exists():
            raise RunError(f"{run.path} is not a run: it has no {CONFIG_FILE}")
        run.read_config()  # validates the format version
        return run

    # config

    def read_config(self) -> dict[str, Any]:
        """Return the run record of ``config.json`` (config, task, device, versions)."""
        path = self.path / CONFIG_FILE
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RunError(f"{path} is unreadable: {error}") from error
        if not isinstance(record, dict) or "config" not in record:
            raise RunError(f"{path} is not a grok-tui run config (no 'config' object)")
        version = record.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise RunError(
                f"{path} has format version {version!r}, but this grok-tui reads versions up "
                f"to {FORMAT_VERSION}: upgrade grok-tui to read this run"
            )
        return record

    def update_config(self, config: TrainConfig) -> None:
        """Replace the stored config (a resume with a new step budget) and keep the rest."""
        record = self.read_config()
        record["config"] = config.to_dict()
        write_json_atomic(self.path / CONFIG_FILE, record)

    def train_config(self) -> TrainConfig:
        """Return the run's TrainConfig."""
        try:
            return TrainConfig.from_dict(self.read_config()["config"])
        except (TypeError, ValueError) as error:
            raise RunError(f"{self.path / CONFIG_FILE} has an invalid config: {error}") from error

    # status

    def read_status(self) -> RunStatus | None:
        """Return the stored status, or None when the run has none or it is unreadable."""
        path = self.path / STATUS_FILE
        try:
            return RunStatus(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as error:
            logger.warning("%s is unreadable: %s", path, error)
            return None

    def write_status(self, state: str, step: int, message: str = "") -> None:
        """Record the run's state atomically, with this process as its writer."""
        assert state in STATES, f"unknown state {state!r}"
        status = RunStatus(state, step, time.time(), os.getpid(), socket.gethostname(), message)
        write_json_atomic(self.path / STATUS_FILE, status.to_dict())

    def ensure_not_running(self) -> None:
        """Raise RunError when a live process on this host is still training this run."""
        if self.state() != "running":
            return
        status = self.read_status()
        writer = f"process {status.pid} on {status.host}" if status else "another process"
        raise RunError(
            f"run {self.path} is still being trained by {writer}: stop that process first "
            f"(Ctrl+C or s in the app), then resume or replace the run"
        )

    def state(self) -> str:
        """Return the run's state, ``interrupted`` when its writer on this host has died."""
        status = self.read_status()
        if status is None:
            return "interrupted"
        if status.state != "running":
            return status.state
        if status.host == socket.gethostname() and status.pid and not _pid_alive(status.pid):
            return "interrupted"
        return "running"

    # split

    def write_split(self, train_mask: torch.Tensor, train_fraction: float, seed: int) -> None:
        """Store the train pair indices of a boolean mask over all pairs."""
        indices = torch.nonzero(train_mask).flatten().tolist()
        record = {
            "num_pairs": len(train_mask),
            "train_fraction": train_fraction,
            "seed": seed,
            "train_indices": indices,
        }
        write_json_atomic(self.path / SPLIT_FILE, record)

    def read_split(self) -> torch.Tensor:
        """Return the train mask over all pairs, shape (n*n,), bool."""
        path = self.path / SPLIT_FILE
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            mask = torch.zeros(record["num_pairs"], dtype=torch.bool)
            mask[torch.tensor(record["train_indices"], dtype=torch.int64)] = True
        except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
            raise RunError(f"{path} is unreadable: {error}") from error
        return mask

    # metrics

    def append_metrics(self, record: dict[str, Any]) -> None:
        """Append one metrics record to the log."""
        append_jsonl(self.path / METRICS_FILE, record)

    def read_metrics(self) -> list[dict[str, Any]]:
        """Return the metrics records, skipping (and logging) a cut-off or garbled line."""
        records, skipped = self.read_metrics_with_errors()
        if skipped:
            logger.warning("%s: skipped unreadable lines %s", self.path / METRICS_FILE, skipped)
        return records

    def read_metrics_with_errors(self) -> tuple[list[dict[str, Any]], list[int]]:
        """Return the metrics records and the numbers of the lines that could not be read."""
        path = self.path / METRICS_FILE
        if not path.exists():
            return [], []
        try:
            return read_jsonl(path)
        except OSError as error:
            raise RunError(f"{path} is unreadable: {error}") from error

    def truncate_metrics(self, last_step: int) -> None:
        """Rewrite the log atomically with only the readable records up to ``last_step``."""
        records = [r for r in self.read_metrics() if r.get("step", -1) <= last_step]
        path = self.path / METRICS_FILE
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        write_text_atomic(path, lines)

    # checkpoints

    def checkpoint_paths(self, step: int) -> tuple[Path, Path]:
        """Return the (weights, state) paths of the checkpoint at ``step``."""
        stem = self.checkpoint_dir / f"step_{step:08d}"
        return stem.with_suffix(".model.safetensors"), stem.with_suffix(".state.safetensors")

    def checkpoint_steps(self) -> list[int]:
        """Return the steps of the saved checkpoints whose two files both exist, ascending."""
        if not self.checkpoint_dir.is_dir():
            return []
        steps = []
        for entry in self.checkpoint_dir.iterdir():
            match = _CHECKPOINT_PATTERN.match(entry.name)
            if match and self.checkpoint_paths(int(match.group(1)))[1].exists():
                steps.append(int(match.group(1)))
        return sorted(steps)


def run_record(config: TrainConfig, device: str) -> dict[str, Any]:
    """Return the content of ``config.json`` for a config trained on ``device``."""
    task = config.task
    return {
        "format_version": FORMAT_VERSION,
        "created": _now_iso(),
        "config": config.to_dict(),
        "task": {"op": task.op, "p": task.p, "n": task.n, "generator": task.generator},
        "device": device,
        "dtype": "float32",
        "matmul_precision": config.matmul_precision,
        "versions": {
            "grok_tui": __version__,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": numpy.__version__,
        },
    }


def list_runs(folder: Path | str) -> list[Run]:
    """Return the runs directly inside ``folder`` (sub-folders with a config.json), by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"runs folder {folder} does not exist or is not a folder")
    return [Run(path) for path in sorted(folder.iterdir()) if (path / CONFIG_FILE).is_file()]

"""Snapshots of the training screen fed by the recorded p=41 run, so every render is the same.

Regenerate after an intended change with ``pytest tests/test_snapshots.py --snapshot-update``
and look at the SVG files under tests/__snapshots__ before committing them.
"""

from __future__ import annotations

from tests.test_app import replay_app


def test_replay_screen_100x30(snap_compare) -> None:
    assert snap_compare(replay_app(), terminal_size=(100, 30))


def test_replay_screen_80x24(snap_compare) -> None:
    assert snap_compare(replay_app(), terminal_size=(80, 24))


def test_replay_linear_unembedding(snap_compare) -> None:
    assert snap_compare(replay_app(), press=["l", "h"], terminal_size=(100, 30))


def test_replay_help_screen(snap_compare) -> None:
    assert snap_compare(replay_app(), press=["question_mark"], terminal_size=(100, 30))


def test_replay_too_small(snap_compare) -> None:
    assert snap_compare(replay_app(), terminal_size=(50, 16))

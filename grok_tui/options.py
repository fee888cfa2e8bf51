"""Choices shared by several commands, as enums so that Typer lists and checks them."""

from __future__ import annotations

from enum import Enum


class Operation(str, Enum):
    """Binary operation modulo p."""

    add = "add"
    sub = "sub"
    mul = "mul"
    div = "div"


class ModelKind(str, Enum):
    """Model architecture."""

    mlp = "mlp"
    transformer = "transformer"


class PresetName(str, Enum):
    """Named training recipe."""

    fast_mlp = "fast-mlp"
    nanda = "nanda"

"""The ``geometry`` command: the irreducible subspaces of a task's group and its m†."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from engine.geometry import irreducible_subspaces, min_irreps
from engine.tasks import Task
from grok_tui.options import Operation


def _group_name(task: Task) -> str:
    """Return Z_p for add and sub, Z_p^* for mul and div."""
    return f"Z_{task.p}^*" if task.multiplicative else f"Z_{task.p}"


def _subspace_table(subspaces: list[dict]) -> Table:
    table = Table(title="Irreducible subspaces V_k")
    table.add_column("frequency k", justify="right")
    table.add_column("dimension", justify="right")
    table.add_column("faithful")
    for subspace in subspaces:
        table.add_row(
            str(subspace["frequency"]),
            str(subspace["dimension"]),
            "yes" if subspace["faithful"] else "no",
        )
    return table


def geometry_command(
    p: Annotated[int, typer.Option("--p", help="Modulus p (prime for mul and div).")],
    op: Annotated[Operation, typer.Option("--op", help="Operation a op b mod p.")] = (
        Operation.add
    ),
    amplitude: Annotated[
        float,
        typer.Option("--amplitude", help="Profile amplitude α per frequency, in logits."),
    ] = 1.0,
    target_loss: Annotated[
        float,
        typer.Option("--target-loss", help="Cross-entropy that m† frequencies reach, in nats."),
    ] = 0.01,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of tables.")
    ] = False,
) -> None:
    """Show the task's group, its irreducible subspaces and the greedy frequency order.

    The order adds, each time, the frequency that lowers the cross-entropy of an
    equal-amplitude canonical logit profile the most. Its length m† is the number of
    frequencies the profile needs to reach the target loss.
    """
    try:
        task = Task(op.value, p)
        greedy_order = min_irreps(task.n, amplitude=amplitude, target_loss=target_loss)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error

    subspaces = [
        {
            "frequency": subspace.frequency,
            "dimension": subspace.dimension,
            "faithful": subspace.faithful,
        }
        for subspace in irreducible_subspaces(task.n)
    ]
    summary = {
        "op": task.op,
        "p": task.p,
        "group": _group_name(task),
        "order": task.n,
        "generator": task.generator,
        "subspaces": subspaces,
        "amplitude": amplitude,
        "target_loss": target_loss,
        "min_irreps": len(greedy_order),
        "greedy_order": greedy_order,
    }
    if json_output:
        typer.echo(json.dumps(summary))
        return

    console = Console()
    group = summary["group"]
    if task.generator is not None:
        group += f" (generator {task.generator})"
    console.print(f"task {task.describe()}: group {group}, order n = {task.n}")
    console.print(_subspace_table(subspaces))
    console.print(
        f"m† = {len(greedy_order)} frequencies at amplitude α = {amplitude} logits reach "
        f"the target loss {target_loss} nats"
    )
    console.print(f"greedy order: {', '.join(str(k) for k in greedy_order)}")

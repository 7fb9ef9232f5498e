"""`agentic-cli progression`: named orders over a pile (or over all elements)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agentic.cli._context import JsonOption, catalog, console, emit_json, wants_json
from agentic.cli._elements import print_positioned

__all__ = ["app"]

app = typer.Typer(
    help="Named orders of element ids, optionally bound to a pile.", no_args_is_help=True
)

Name = Annotated[str, typer.Argument(help="The progression's name.")]
Ids = Annotated[list[str], typer.Argument(help="Element ids (or 4+ of their first hex digits).")]
Id = Annotated[str, typer.Argument(help="An element id (or 4+ of its first hex digits).")]
Index = Annotated[int, typer.Argument(help="A position (0 first; negative counts from the end).")]


def _done(json_: bool, name: str, action: str, ids: list[Any], size: int) -> None:  # noqa: FBT001
    if wants_json(json_):
        emit_json({"progression": name, action: [str(i) for i in ids], "size": size})
    else:
        typer.echo(f"{action} {len(ids)} element(s) in progression {name!r} (now {size})")


@app.command("create")
def create(
    name: Name,
    pile: Annotated[
        str | None, typer.Option("--pile", "-p", help="Bind it to this pile: ids must be in it.")
    ] = None,
    *,
    json_: JsonOption = False,
) -> None:
    """Create an empty progression."""
    with catalog() as state:
        state.create_progression(name, pile)
    if wants_json(json_):
        emit_json({"name": name, "pile": pile})
    else:
        typer.echo(f"created progression {name!r}" + (f" over pile {pile!r}" if pile else ""))


@app.command("append")
def append(name: Name, ids: Ids, *, json_: JsonOption = False) -> None:
    """Append elements at the end (all or none)."""
    with catalog() as state:
        keys = state.progression_append(name, ids)
        size = len(state.progression(name))
    _done(json_, name, "appended", keys, size)


@app.command("insert")
def insert(name: Name, index: Index, element_id: Id, *, json_: JsonOption = False) -> None:
    """Insert an element before position INDEX."""
    with catalog() as state:
        key = state.progression_insert(name, index, element_id)
        size = len(state.progression(name))
    _done(json_, name, "inserted", [key], size)


@app.command("move")
def move(name: Name, element_id: Id, index: Index, *, json_: JsonOption = False) -> None:
    """Move an element to position INDEX."""
    with catalog() as state:
        key = state.progression_move(name, element_id, index)
        size = len(state.progression(name))
    _done(json_, name, "moved", [key], size)


@app.command("remove")
def remove(name: Name, ids: Ids, *, json_: JsonOption = False) -> None:
    """Remove elements (all or none)."""
    with catalog() as state:
        keys = state.progression_remove(name, ids)
        size = len(state.progression(name))
    _done(json_, name, "removed", keys, size)


@app.command("show")
def show(name: Name, *, json_: JsonOption = False) -> None:
    """Show the elements in the progression's order."""
    with catalog() as state:
        ids = list(state.progression(name))
        scope, _ = state.scope(name)
        items = [scope[key] for key in ids]
        bound = state.entry("progression", name).get("pile")
    if wants_json(json_):
        emit_json({"name": name, "pile": bound, "items": [i.to_dict() for i in items]})
        return
    where = f" over pile {bound!r}" if bound else ""
    print_positioned(f"progression {name!r}{where}: {len(items)} element(s)", items)


@app.command("list")
def list_(*, json_: JsonOption = False) -> None:
    """List the progressions."""
    with catalog() as state:
        rows = [
            {
                "name": n,
                "pile": state.entry("progression", n).get("pile"),
                "size": len(state.progression(n)),
            }
            for n in state.names("progression")
        ]
    if wants_json(json_):
        emit_json(rows)
        return
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"{len(rows)} progression(s)")
    for column in ("name", "pile", "ids"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["name"]), str(row["pile"] or "(all elements)"), str(row["size"]))
    console().print(table)

"""`agentic-cli pile`: named piles of elements, restricted to an item type."""

from __future__ import annotations

from typing import Annotated

import typer

from agentic.cli._context import JsonOption, catalog, console, emit_json, wants_json
from agentic.cli._elements import print_positioned

__all__ = ["app"]

app = typer.Typer(
    help="Named piles of elements (each restricted to an item type).", no_args_is_help=True
)

Name = Annotated[str, typer.Argument(help="The pile's name.")]
Ids = Annotated[list[str], typer.Argument(help="Element ids (or 4+ of their first hex digits).")]


@app.command("create")
def create(
    name: Name,
    type_name: Annotated[
        str | None, typer.Option("--type", "-t", help="Item type (default: any Element).")
    ] = None,
    *,
    json_: JsonOption = False,
) -> None:
    """Create an empty pile."""
    with catalog() as state:
        pile = state.create_pile(name, type_name)
        item_type = pile.item_type.type_name
    if wants_json(json_):
        emit_json({"name": name, "item_type": item_type})
    else:
        typer.echo(f"created pile {name!r} of {item_type}")


@app.command("add")
def add(name: Name, ids: Ids, *, json_: JsonOption = False) -> None:
    """Add elements to a pile (all or none; ones already in it are skipped)."""
    with catalog() as state:
        added = state.pile_add(name, ids)
        size = len(state.pile(name))
    if wants_json(json_):
        emit_json({"pile": name, "added": [str(item.id) for item in added], "size": size})
    else:
        typer.echo(f"added {len(added)} element(s) to pile {name!r} (now {size})")


@app.command("remove")
def remove(name: Name, ids: Ids, *, json_: JsonOption = False) -> None:
    """Remove elements from a pile (all or none)."""
    with catalog() as state:
        removed = state.pile_remove(name, ids)
        size = len(state.pile(name))
    if wants_json(json_):
        emit_json({"pile": name, "removed": [str(key) for key in removed], "size": size})
    else:
        typer.echo(f"removed {len(removed)} element(s) from pile {name!r} (now {size})")


@app.command("show")
def show(name: Name, *, json_: JsonOption = False) -> None:
    """Show a pile's items in order."""
    with catalog() as state:
        pile = state.pile(name)
        items = list(pile)
        item_type = pile.item_type.type_name
    if wants_json(json_):
        emit_json({"name": name, "item_type": item_type, "items": [i.to_dict() for i in items]})
        return
    print_positioned(f"pile {name!r}: {len(items)} {item_type} item(s)", items)


@app.command("list")
def list_(*, json_: JsonOption = False) -> None:
    """List the piles."""
    with catalog() as state:
        rows = [
            {
                "name": n,
                "item_type": state.entry("pile", n)["item_type"],
                "size": len(state.pile(n)),
            }
            for n in state.names("pile")
        ]
    if wants_json(json_):
        emit_json(rows)
        return
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"{len(rows)} pile(s)")
    for column in ("name", "item type", "items"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["item_type"], str(row["size"]))
    console().print(table)

"""`agentic-cli element`: create, show and list elements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentic.cli._context import (
    JsonOption,
    catalog,
    console,
    emit_json,
    parse_json,
    printable,
    read_input,
    wants_json,
)

if TYPE_CHECKING:
    from agentic.primitives import Element

__all__ = ["app", "element_row", "print_positioned", "summary"]

app = typer.Typer(help="Create, show and list elements.", no_args_is_help=True)

_BASE_FIELDS = {"id", "created_at", "metadata", "$type"}


def summary(element: Element, width: int = 60) -> str:
    """Return a one-line description of an element's own fields."""
    data = element.to_dict()
    parts = [f"{k}={data[k]!r}" for k in data if k not in _BASE_FIELDS]
    text = ", ".join(parts)
    return text if len(text) <= width else text[: width - 1] + "…"


def element_row(element: Element) -> list[str]:
    """Return the table cells of an element: id, type, fields."""
    return [str(element.id), type(element).type_name, summary(element)]


def print_positioned(title: str, items: list[Element]) -> None:
    """Print elements as a table with their positions (a pile's or a progression's order)."""
    from rich.table import Table  # noqa: PLC0415 - rich tables load only when drawn

    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("type", no_wrap=True)
    table.add_column("fields", overflow="fold")
    for index, item in enumerate(items):
        table.add_row(str(index), *element_row(item))
    console().print(table)


@app.command("create")
def create(
    type_name: Annotated[
        str,
        typer.Option(
            "--type", "-t", help="Element type (Note, Task, Document, or any registered name)."
        ),
    ],
    data: Annotated[
        str, typer.Option("--data", "-d", help="The fields as JSON, or @file, or @- for stdin.")
    ] = "{}",
    *,
    json_: JsonOption = False,
) -> None:
    """Create an element and print its id."""
    document = parse_json(read_input(data, what="--data"), what="--data")
    with catalog() as state:
        element = state.create_element(type_name, document)
    if wants_json(json_):
        emit_json(element.to_dict())
    else:
        typer.echo(str(element.id))


@app.command("show")
def show(
    element_id: Annotated[str, typer.Argument(help="The id (or 4+ of its first hex digits).")],
    *,
    json_: JsonOption = False,
) -> None:
    """Show one element with all its fields."""
    with catalog() as state:
        element = state.element(element_id)
    data = element.to_dict()
    if wants_json(json_):
        emit_json(data)
        return
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"{type(element).type_name} {element.id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in data.items():
        table.add_row(key, _text(value))
    console().print(table)


@app.command("list")
def list_(
    type_name: Annotated[
        str | None, typer.Option("--type", "-t", help="Only elements of this type.")
    ] = None,
    *,
    json_: JsonOption = False,
) -> None:
    """List the elements (oldest first)."""
    with catalog() as state:
        items = state.list_elements(type_name)
    if wants_json(json_):
        emit_json([item.to_dict() for item in items])
        return
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"{len(items)} element(s)")
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("type", no_wrap=True)
    table.add_column("fields", overflow="fold")
    for item in items:
        table.add_row(*element_row(item))
    console().print(table)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return printable(value)
    import orjson  # noqa: PLC0415

    return printable(orjson.dumps(value, default=str).decode())


@app.command("types")
def types(*, json_: JsonOption = False) -> None:
    """List the element types `--type` accepts, with their fields."""
    from agentic.kernel import element_type, element_type_names  # noqa: PLC0415

    rows = []
    for name in element_type_names():
        cls = element_type(name)
        own = [f for f in cls.model_fields if f not in _BASE_FIELDS]
        rows.append(
            {"type": name, "fields": own, "doc": (cls.__doc__ or "").strip().split("\n")[0]}
        )
    if wants_json(json_):
        emit_json(rows)
        return
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"{len(rows)} element type(s)")
    for column in ("type", "fields", "description"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["type"]), ", ".join(row["fields"]), str(row["doc"]))
    console().print(table)

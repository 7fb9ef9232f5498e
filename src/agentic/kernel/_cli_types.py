"""The Element types the CLI offers out of the box: Note, Task, Document."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from agentic.errors import UnknownElementTypeError
from agentic.primitives import Element, lookup_type, registered_types

__all__ = ["Document", "Note", "Task", "element_type", "element_type_names"]

_ALIAS_PREFIX = "agentic."


class Note(Element, type_name="agentic.Note"):
    """A short piece of text."""

    text: Annotated[str, Field(max_length=1_000_000)]
    """What the note says."""


class Task(Element, type_name="agentic.Task"):
    """A unit of work with a priority."""

    title: Annotated[str, Field(min_length=1, max_length=10_000)]
    """What to do."""
    priority: Annotated[int, Field(ge=-1_000_000, le=1_000_000)] = 0
    """Higher runs first."""
    done: bool = False
    """Whether it is finished."""


class Document(Element, type_name="agentic.Document"):
    """A titled body of text."""

    title: Annotated[str, Field(max_length=10_000)]
    """The document's title."""
    body: Annotated[str, Field(max_length=10_000_000)] = ""
    """Its text."""


def element_type(name: str) -> type[Element]:
    """Return the registered Element class named `name` (`Note` means `agentic.Note`).

    Only the type registry is consulted; no module is ever imported by name.

    Raises:
        UnknownElementTypeError: No class is registered under `name` or `agentic.<name>`.
    """
    known = registered_types()
    if name in known:
        return known[name]
    if _ALIAS_PREFIX + name in known:
        return known[_ALIAS_PREFIX + name]
    try:
        return lookup_type(name)
    except UnknownElementTypeError as exc:
        msg = f"{exc} (built in: Note, Task, Document; all: `agentic-cli element types`)"
        raise UnknownElementTypeError(msg, type_name=exc.type_name) from None


def element_type_names() -> list[str]:
    """Return every registered type name, sorted."""
    return sorted(registered_types())

"""The Element types the CLI offers out of the box (Note, Task, Document), and lookup by name.

Element classes register when their modules are imported. The library's own types
outside the primitives (the branch messages, `PlanStep`, `Call`) live in packages the
CLI does not import for state commands, so a lookup that misses imports those packages
once and looks again (`load_library_types()`): a stored `UserMessage` decodes in a
process that never ran a branch.
"""

from __future__ import annotations

import sys
from typing import Annotated

from pydantic import Field

from agentic.errors import UnknownElementTypeError
from agentic.primitives import Element, lookup_type, registered_types

__all__ = ["Document", "Note", "Task", "element_type", "element_type_names", "load_library_types"]

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

    Only the type registry is consulted, after `load_library_types()` on a miss; a
    type name is never turned into an import of the module it names.

    Raises:
        UnknownElementTypeError: No class is registered under `name` or `agentic.<name>`.
    """
    found = _registered(name)
    if found is None and load_library_types():
        found = _registered(name)
    if found is not None:
        return found
    try:
        return lookup_type(name)
    except UnknownElementTypeError as exc:
        msg = f"{exc} (built in: Note, Task, Document; all: `agentic-cli element types`)"
        raise UnknownElementTypeError(msg, type_name=exc.type_name) from None


def _registered(name: str) -> type[Element] | None:
    known = registered_types()
    return known.get(name) or known.get(_ALIAS_PREFIX + name)


def element_type_names() -> list[str]:
    """Return every registered type name, the library's own included, sorted."""
    load_library_types()
    return sorted(registered_types())


def load_library_types() -> bool:
    """Register the library's Element types by importing the packages that define them.

    Idempotent and cheap once done.

    Returns:
        Whether any type was newly registered (False: nothing changed, no use retrying).
    """
    # The packages that define the library's types beyond the primitives and this module.
    if "agentic.branches" in sys.modules and "agentic.execution" in sys.modules:
        return False
    before = len(registered_types())
    import agentic.branches  # noqa: PLC0415 - registers the messages and PlanStep
    import agentic.execution  # noqa: F401, PLC0415 - registers Call

    return len(registered_types()) > before

"""The registry of Element type names.

Every Element subclass registers here when its class statement runs, so a document
that names its type (`"$type": "Note"`) comes back as that class. Lookup only ever
consults this table: a type name is never turned into an import of an arbitrary module.

Global state department: this table is the one process-wide registry of the library.
Classes stay registered for the life of the process; redefining a class with the same
module and qualified name (a reloaded module, a notebook cell run twice) replaces it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from agentic.errors import ElementTypeConflictError, UnknownElementTypeError

if TYPE_CHECKING:
    from agentic.primitives.element import Element

__all__ = ["lookup_type", "register_type", "registered_types"]

_types: dict[str, type[Element]] = {}
_lock = threading.Lock()


def _origin(cls: type) -> tuple[str, str]:
    return (cls.__module__, cls.__qualname__)


def register_type(name: str, cls: type[Element]) -> None:
    """Register `cls` under `name`.

    Raises:
        ElementTypeConflictError: A different class (another module or qualified name)
            already holds `name`.
    """
    with _lock:
        current = _types.get(name)
        if current is not None and current is not cls and _origin(current) != _origin(cls):
            msg = (
                f"element type name {name!r} is already taken by "
                f"{current.__module__}.{current.__qualname__}; give "
                f"{cls.__module__}.{cls.__qualname__} its own with "
                f"`class {cls.__name__}(..., type_name='...')`"
            )
            raise ElementTypeConflictError(msg)
        _types[name] = cls


def lookup_type(name: str) -> type[Element]:
    """Return the class registered under `name`.

    Raises:
        UnknownElementTypeError: No class is registered under `name`.
    """
    if not isinstance(name, str):
        msg = f"element type name must be a string, not {type(name).__name__}"
        raise UnknownElementTypeError(msg, type_name=None)
    try:
        return _types[name]
    except KeyError:
        msg = f"unknown element type {name!r}: no Element subclass is registered under that name"
        raise UnknownElementTypeError(msg, type_name=name) from None


def registered_types() -> dict[str, type[Element]]:
    """Return a copy of the registry: type name to class."""
    with _lock:
        return dict(_types)

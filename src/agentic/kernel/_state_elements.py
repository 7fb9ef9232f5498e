"""Elements in and out of the catalog: user input checked into an Element, stored piles opened.

Decoding a stored element needs its class registered. The library's own types outside
the primitives register only when their packages load, which a state command does not
do up front; opening a pile that meets an unregistered type name therefore loads them
(`load_library_types()`) and opens it once more.
"""

from __future__ import annotations

from typing import Any

import orjson

from agentic.errors import AgenticError, UnknownElementTypeError
from agentic.kernel._cli_types import element_type, load_library_types
from agentic.kernel._state_errors import CatalogInputError
from agentic.kernel._state_names import first_line
from agentic.primitives import Element
from agentic.store import CorruptRecordError, PersistentPile, Repository

__all__ = ["MAX_DOCUMENT", "new_element", "open_pile"]

MAX_DOCUMENT = 16 * 1024 * 1024
"""The largest element document the catalog keeps, in bytes of JSON."""


def new_element(type_name: str, data: Any) -> Element:
    """Validate `data` as a new element of type `type_name`.

    Raises:
        UnknownElementTypeError: No Element type is registered under `type_name`.
        CatalogInputError: `data` is not a JSON object, not a valid element of that
            type, or larger than `MAX_DOCUMENT`.
    """
    cls = element_type(type_name)
    if not isinstance(data, dict):
        msg = f"element data must be a JSON object, not {type(data).__name__}"
        raise CatalogInputError(msg)
    document = {k: v for k, v in data.items() if k != "$type"}
    try:
        element = cls.model_validate(document)
        encoded = orjson.dumps(element.to_dict())
    except AgenticError:
        raise
    except (ValueError, TypeError, RecursionError) as exc:
        msg = f"invalid {cls.type_name} data: {first_line(exc)}"
        raise CatalogInputError(msg) from exc
    if len(encoded) > MAX_DOCUMENT:
        msg = f"element data is too large ({len(encoded)} bytes; limit {MAX_DOCUMENT})"
        raise CatalogInputError(msg)
    return element


def open_pile(
    repository: Repository,
    stream: str,
    *,
    item_type: type[Element],
    name: str,
    use_snapshot: bool,
) -> PersistentPile[Any]:
    """Open the pile stored in `stream`, registering the library's types if it needs them.

    Raises:
        CorruptRecordError: A record cannot be replayed (an unregistered type name that
            no library package defines included, with UnknownElementTypeError as cause).
        UnknownElementTypeError: A snapshot names such a type.
    """
    try:
        return PersistentPile.open(
            repository, stream, item_type=item_type, name=name, use_snapshot=use_snapshot
        )
    except (UnknownElementTypeError, CorruptRecordError) as exc:
        if not _unknown_type(exc) or not load_library_types():
            raise
    return PersistentPile.open(
        repository, stream, item_type=item_type, name=name, use_snapshot=use_snapshot
    )


def _unknown_type(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:  # noqa: PLR2004 - a cause chain is short
        if isinstance(exc, UnknownElementTypeError):
            return True
        exc, seen = exc.__cause__, seen + 1
    return False

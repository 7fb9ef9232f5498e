"""Names and ids in the CLI's state: what a name may be, and ids from prefixes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from uuid import UUID

from agentic.kernel._state_errors import CatalogInputError, EntryNotFoundError

__all__ = ["NAME_PATTERN", "check_index", "check_name", "first_line", "resolve_id", "short_id"]

NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
"""What a pile, progression or branch name may look like."""

_NAME = re.compile(NAME_PATTERN)
_HEX = re.compile(r"^[0-9a-fA-F-]{4,36}$")
_SHORT = 8


def short_id(key: UUID | str) -> str:
    """Return the first 8 hex digits of an id followed by an ellipsis, for messages."""
    return f"{str(key)[:8]}…"


def check_name(kind: str, name: str) -> None:
    """Check that `name` may name a pile, progression or branch.

    Raises:
        CatalogInputError: It may not.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        msg = (
            f"invalid {kind} name {name!r}: use 1-64 letters, digits, '_', '.', '-' "
            "(not starting with '.' or '-')"
        )
        raise CatalogInputError(msg)


def resolve_id(ref: str, candidates: Iterable[UUID], *, where: str) -> UUID:
    """Return the id in `candidates` that `ref` names (a full id or a unique prefix).

    Raises:
        CatalogInputError: `ref` is not an id or id prefix, or is ambiguous.
        EntryNotFoundError: No candidate matches.
    """
    text = ref.strip().lower() if isinstance(ref, str) else ""
    if not _HEX.match(text):
        msg = f"{ref!r} is not an element id (expected a UUID or 4+ of its hex digits)"
        raise CatalogInputError(msg)
    try:
        full: UUID | None = UUID(text)
    except ValueError:
        full = None
    pool = list(candidates)
    if full is not None:
        matches = [key for key in pool if key == full]
    else:
        matches = [key for key in pool if str(key).startswith(text)]
    if not matches:
        msg = f"element {short_id(text) if len(text) > _SHORT else text} not found in {where}"
        raise EntryNotFoundError(msg, kind="element", key=text)
    if len(matches) > 1:
        msg = f"id prefix {text!r} matches {len(matches)} elements in {where}; give more digits"
        raise CatalogInputError(msg)
    return matches[0]


def check_index(index: int, low: int, high: int, name: str) -> None:
    """Check that `low <= index <= high` for progression `name`.

    Raises:
        CatalogInputError: It is not.
    """
    if not low <= index <= high:
        msg = f"index {index} is out of range for progression {name!r} ({low}..{high})"
        raise CatalogInputError(msg)


def first_line(exc: BaseException) -> str:
    """Return the first line of an error, naming the field for a ValidationError."""
    from pydantic import ValidationError  # noqa: PLC0415 - only on the error path

    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        return f"{where}: {first['msg']}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

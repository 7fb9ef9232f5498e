"""Errors of the CLI's state model (the [`Catalog`][agentic.kernel.Catalog])."""

from __future__ import annotations

from agentic.errors import AgenticError

__all__ = ["CatalogError", "CatalogInputError", "EntryExistsError", "EntryNotFoundError"]


class CatalogError(AgenticError):
    """A problem with the state the CLI keeps: elements, piles, progressions, branches."""


class CatalogInputError(CatalogError, ValueError):
    """An argument or document is not acceptable (bad name, id, index or data)."""


class EntryNotFoundError(CatalogError, KeyError):
    """No element, pile, progression, branch or run by this name or id exists."""

    def __init__(self, message: str, *, kind: str, key: str) -> None:
        super().__init__(message)
        self.kind = kind
        """What was looked up: `element`, `pile`, `progression`, `branch`, `run`."""
        self.key = key
        """The name or id that was looked up."""


class EntryExistsError(CatalogError, ValueError):
    """A pile, progression or branch by this name exists already."""

    def __init__(self, message: str, *, kind: str, key: str) -> None:
        super().__init__(message)
        self.kind = kind
        """What was created."""
        self.key = key
        """The name that is taken."""

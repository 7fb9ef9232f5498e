"""The exception hierarchy of agentic.

Every error the library raises on purpose derives from
[`AgenticError`][agentic.errors.AgenticError].
Where a built-in exception already carries the meaning, the error subclasses it too, so
`except KeyError` keeps working around a lookup in a Pile.

```
AgenticError
  ElementError
    ElementNotFoundError(ElementError, KeyError)
    ElementExistsError(ElementError, ValueError)
    ItemTypeError(ElementError, TypeError)
    UnknownElementTypeError(ElementError, ValueError)
    ElementTypeConflictError(ElementError, TypeError)
  ProgressionError
    IdNotInProgressionError(ProgressionError, KeyError)
    IdInProgressionError(ProgressionError, ValueError)
    ProgressionIndexError(ProgressionError, IndexError)
  SerializationError(ValueError)
  InvalidTransitionError(ValueError)
  ImmutableError(TypeError)
  ConfigurationError(ValueError)
```

Later layers add their own branches (execution, actors, store, providers) under the
same root. Errors carry their context in attributes; the message names the object,
id, type or position at fault.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AgenticError",
    "ConfigurationError",
    "ElementError",
    "ElementExistsError",
    "ElementNotFoundError",
    "ElementTypeConflictError",
    "IdInProgressionError",
    "IdNotInProgressionError",
    "ImmutableError",
    "InvalidTransitionError",
    "ItemTypeError",
    "ProgressionError",
    "ProgressionIndexError",
    "SerializationError",
    "UnknownElementTypeError",
]


class AgenticError(Exception):
    """The root of every error agentic raises on purpose."""

    def __str__(self) -> str:
        """Return the message (without the quotes `KeyError` adds)."""
        # KeyError.__str__ quotes its argument; our messages are sentences, not keys.
        return str(self.args[0]) if self.args else ""


class ElementError(AgenticError):
    """A problem with an Element or with a Pile of them."""


class ElementNotFoundError(ElementError, KeyError):
    """No element with this id is in the container."""

    def __init__(self, message: str, *, key: Any = None) -> None:
        super().__init__(message)
        self.key = key
        """The id (or index) that was looked up."""


class ElementExistsError(ElementError, ValueError):
    """An element with this id is already in the container."""

    def __init__(self, message: str, *, key: Any = None) -> None:
        super().__init__(message)
        self.key = key
        """The id that is already present."""


class ItemTypeError(ElementError, TypeError):
    """The element's type is not allowed in this Pile."""

    def __init__(self, message: str, *, expected: Any = None, actual: Any = None) -> None:
        super().__init__(message)
        self.expected = expected
        """The item type the Pile accepts."""
        self.actual = actual
        """The type that was offered."""


class UnknownElementTypeError(ElementError, ValueError):
    """A serialized element names a type that is not registered."""

    def __init__(self, message: str, *, type_name: str | None = None) -> None:
        super().__init__(message)
        self.type_name = type_name
        """The unknown type name."""


class ElementTypeConflictError(ElementError, TypeError):
    """Two different classes claim the same registered type name."""


class ProgressionError(AgenticError):
    """A problem with the order kept by a Progression."""


class IdNotInProgressionError(ProgressionError, KeyError):
    """The id is not in the Progression."""

    def __init__(self, message: str, *, key: Any = None) -> None:
        super().__init__(message)
        self.key = key
        """The missing id."""


class IdInProgressionError(ProgressionError, ValueError):
    """The id is already in the Progression (ids are unique within one)."""

    def __init__(self, message: str, *, key: Any = None) -> None:
        super().__init__(message)
        self.key = key
        """The id that is already present."""


class ProgressionIndexError(ProgressionError, IndexError):
    """A position outside the Progression (or the Pile ordered by it)."""


class SerializationError(AgenticError, ValueError):
    """A document could not be turned into an object (or back): bad JSON, bad shape."""


class InvalidTransitionError(AgenticError, ValueError):
    """A status change that the state machine does not allow."""

    def __init__(self, message: str, *, source: Any = None, target: Any = None) -> None:
        super().__init__(message)
        self.source = source
        """The current status."""
        self.target = target
        """The status that was asked for."""


class ImmutableError(AgenticError, TypeError):
    """An attempt to change something that never changes (a Log, an id)."""


class ConfigurationError(AgenticError, ValueError):
    """A configuration value or file is invalid."""

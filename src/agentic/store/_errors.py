"""The errors of the event store.

```
AgenticError
  StoreError
    StoreOpenError(StoreError, OSError)       # cannot create or open the database
      NotAStoreError(StoreOpenError)          # the file is not an agentic event store
    SchemaVersionError(StoreError)            # newer or unknown schema version
    CorruptRecordError(StoreError, ValueError)  # a stored record cannot be read back
    ConcurrencyError(StoreError)              # expected sequence does not match
    IdempotencyConflictError(StoreError, ValueError)  # a key reused for other content
    StoreClosedError(StoreError)              # the store was closed
```
"""

from __future__ import annotations

from agentic.errors import AgenticError

__all__ = [
    "ConcurrencyError",
    "CorruptRecordError",
    "IdempotencyConflictError",
    "NotAStoreError",
    "SchemaVersionError",
    "StoreClosedError",
    "StoreError",
    "StoreOpenError",
]


class StoreError(AgenticError):
    """A problem with the event store."""


class StoreOpenError(StoreError, OSError):
    """The database cannot be created or opened (missing or read-only directory)."""

    def __init__(self, message: str, *, path: object = None) -> None:
        super().__init__(message)
        self.path = path
        """The path of the database (or its directory)."""


class NotAStoreError(StoreOpenError):
    """The file exists but is not an agentic event store (or not a database at all)."""


class SchemaVersionError(StoreError):
    """The database has a schema version this code does not know."""

    def __init__(self, message: str, *, found: object = None, supported: int = 0) -> None:
        super().__init__(message)
        self.found = found
        """The version recorded in the database."""
        self.supported = supported
        """The newest version this code reads."""


class CorruptRecordError(StoreError, ValueError):
    """A stored record cannot be read back: bad JSON, a bad field, a gap in the log."""

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position
        """The global position of the record at fault (None when unknown)."""


class ConcurrencyError(StoreError):
    """An append expected the stream at one sequence number, and it is at another."""

    def __init__(self, message: str, *, stream: str, expected: int, actual: int) -> None:
        super().__init__(message)
        self.stream = stream
        """The stream appended to."""
        self.expected = expected
        """The sequence number the caller expected the stream to be at."""
        self.actual = actual
        """The sequence number the stream is at (0: the stream is empty)."""


class IdempotencyConflictError(StoreError, ValueError):
    """An idempotency key was reused for a different record, or only part of a batch."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        """The idempotency key at fault."""


class StoreClosedError(StoreError):
    """The store was closed; open a new one."""

"""Where the CLI keeps its state: `./.agentic/` or `$AGENTIC_HOME`."""

from __future__ import annotations

import os
from pathlib import Path

from agentic.store._errors import StoreOpenError
from agentic.store._schema import Durability
from agentic.store._sqlite import SQLiteEventStore

__all__ = ["DATABASE_NAME", "HOME_ENV", "default_home", "open_store"]

HOME_ENV = "AGENTIC_HOME"
"""The environment variable that names the state directory."""

DATABASE_NAME = "events.db"
"""The event store's file name inside the state directory."""


def default_home(cwd: str | Path | None = None) -> Path:
    """Return the state directory: `$AGENTIC_HOME` if set, else `<cwd>/.agentic`.

    Args:
        cwd: The directory to resolve `.agentic` against (default: the current one).
    """
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path(cwd if cwd is not None else Path.cwd()) / ".agentic"


def open_store(
    home: str | Path | None = None,
    *,
    durability: Durability = "full",
    timeout: float = 30.0,
) -> SQLiteEventStore:
    """Create the state directory if needed and open `<home>/events.db`.

    Args:
        home: The state directory (default: [`default_home()`][agentic.store.default_home]).
        durability: As for [`SQLiteEventStore`][agentic.store.SQLiteEventStore].
        timeout: Seconds to wait for another process's write lock.

    Raises:
        StoreOpenError: The directory cannot be created or written (read-only).
        NotAStoreError: `events.db` is not an agentic event store (corrupt or foreign).
        SchemaVersionError: `events.db` was written by a newer agentic.
    """
    directory = Path(home) if home is not None else default_home()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the agentic state directory {str(directory)!r}: {exc.strerror}"
        raise StoreOpenError(msg, path=directory) from exc
    if not directory.is_dir():
        msg = f"the agentic state directory {str(directory)!r} is not a directory"
        raise StoreOpenError(msg, path=directory)
    if not os.access(directory, os.W_OK | os.X_OK):
        # SQLite needs to create events.db-wal and -shm next to the database.
        msg = f"the agentic state directory {str(directory)!r} is read-only"
        raise StoreOpenError(msg, path=directory)
    return SQLiteEventStore(directory / DATABASE_NAME, durability=durability, timeout=timeout)

"""The SQLite schema of the event store: creating it, checking its version, connecting."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Literal

from agentic.store._errors import NotAStoreError, SchemaVersionError, StoreError, StoreOpenError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "Durability", "connect", "ensure_schema"]

SCHEMA_VERSION = 1
"""The schema version this code writes and reads."""

APPLICATION_ID = 0x41474E54
"""`PRAGMA application_id` of an agentic store ("AGNT"), to tell it from other files."""

Durability = Literal["full", "normal", "off"]
"""How hard a commit tries to reach the disk (see docs/store.md):

* `"full"`: `synchronous=FULL`; a commit is on disk when `append` returns. Survives
  process crash and power loss.
* `"normal"`: `synchronous=NORMAL` in WAL mode; survives a process crash; a power loss
  may lose the last commits before a checkpoint (never corrupts).
* `"off"`: `synchronous=OFF`; survives a process crash; a power loss or OS crash may
  lose recent commits and may corrupt the database.
"""

_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL", "off": "OFF"}

_DDL = (
    "CREATE TABLE agentic_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
    """CREATE TABLE records (
        position INTEGER PRIMARY KEY CHECK (position > 0),
        stream TEXT NOT NULL CHECK (stream <> ''),
        sequence INTEGER NOT NULL CHECK (sequence > 0),
        type TEXT NOT NULL CHECK (type <> ''),
        payload BLOB NOT NULL,
        timestamp REAL NOT NULL,
        correlation_id TEXT,
        causation_id TEXT,
        idempotency_key TEXT,
        UNIQUE (stream, sequence)
    ) STRICT""",
    (
        "CREATE UNIQUE INDEX records_by_key ON records (idempotency_key) "
        "WHERE idempotency_key IS NOT NULL"
    ),
    (
        "CREATE INDEX records_by_correlation ON records (correlation_id) "
        "WHERE correlation_id IS NOT NULL"
    ),
    "CREATE TABLE streams (stream TEXT PRIMARY KEY, last_sequence INTEGER NOT NULL) STRICT",
    """CREATE TABLE snapshots (
        stream TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        position INTEGER NOT NULL,
        type TEXT NOT NULL,
        state BLOB NOT NULL,
        timestamp REAL NOT NULL,
        PRIMARY KEY (stream, sequence)
    ) STRICT""",
)


def connect(
    path: Path, *, durability: Durability, timeout: float, check: bool = False
) -> sqlite3.Connection:
    """Open a connection in autocommit mode with WAL, busy timeout and durability set.

    Args:
        path: The database file.
        durability: Sets `synchronous`.
        timeout: Seconds to wait for another connection's lock.
        check: Refuse a foreign or other-version file before anything is changed
            (switching to WAL rewrites the file's header, for good).

    Raises:
        StoreOpenError: The file cannot be opened or created.
        NotAStoreError: The file is not a SQLite database (or, with `check`, holds
            other tables).
        SchemaVersionError: With `check`, the store has another schema version.
    """
    if durability not in _SYNCHRONOUS:
        msg = f"durability must be one of {sorted(_SYNCHRONOUS)}, not {durability!r}"
        raise ValueError(msg)
    try:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so every write
        # transaction takes the write lock up front and never deadlocks on upgrade.
        conn = sqlite3.connect(
            str(path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        msg = f"cannot open event store {str(path)!r}: {exc}"
        raise StoreOpenError(msg, path=path) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        if check:
            _check_tables(conn, path)
        mode = _switch_to_wal(conn, timeout)
        conn.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[durability]}")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _open_error(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    if str(mode).lower() != "wal":
        conn.close()
        msg = f"cannot switch event store {str(path)!r} to WAL mode (got {mode!r})"
        raise StoreOpenError(msg, path=path)
    return conn


def _switch_to_wal(conn: sqlite3.Connection, timeout: float) -> str:
    # Switching a new database to WAL needs an exclusive lock, and SQLite answers
    # "database is locked" at once (without its busy handler) while another process
    # is doing the same: two processes opening a fresh store together. Retry until the
    # busy timeout is spent.
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _open_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        msg = f"{str(path)!r} is not an agentic event store (not a SQLite database: {text})"
        return NotAStoreError(msg, path=path)
    msg = f"cannot open event store {str(path)!r}: {text}"
    return StoreOpenError(msg, path=path)


def ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in an empty database, or check the version of an existing one.

    Raises:
        SchemaVersionError: The database records a newer or unknown schema version.
        NotAStoreError: The database holds other tables and none of ours.
        StoreOpenError: The database cannot be written (read-only file or directory).
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.DatabaseError as exc:
        raise _open_error(path, exc) from exc
    try:
        if not _check_tables(conn, path):
            _create(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a second ROLLBACK would fail and hide the error
            conn.execute("ROLLBACK")
        raise


def _check_tables(conn: sqlite3.Connection, path: Path) -> bool:
    """Return whether the database holds a store of our version (False: it is empty).

    Raises:
        NotAStoreError: It holds other tables and none of ours.
        SchemaVersionError: It holds a store of another schema version.
    """
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if "agentic_meta" not in tables:
        if tables:
            msg = (
                f"{str(path)!r} is a SQLite database but not an agentic event store "
                f"(it has tables {sorted(tables)[:5]} and no agentic_meta)"
            )
            raise NotAStoreError(msg, path=path)
        return False
    _check_version(conn, path)
    return True


def _create(conn: sqlite3.Connection) -> None:
    for statement in _DDL:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO agentic_meta (key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    row = conn.execute("SELECT value FROM agentic_meta WHERE key = 'schema_version'").fetchone()
    found = row[0] if row else None
    try:
        version = int(found) if found is not None else None
    except ValueError:
        version = None
    if version is None:
        msg = (
            f"event store {str(path)!r} has an unknown schema version {found!r}; "
            f"this agentic reads version {SCHEMA_VERSION}"
        )
        raise SchemaVersionError(msg, found=found, supported=SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        newer = "a newer" if version > SCHEMA_VERSION else "an older, unsupported"
        msg = (
            f"event store {str(path)!r} has {newer} schema version {version}; "
            f"this agentic reads version {SCHEMA_VERSION}"
        )
        raise SchemaVersionError(msg, found=version, supported=SCHEMA_VERSION)

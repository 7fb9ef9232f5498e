"""SQLiteEventStore: the embedded event store on the standard library's sqlite3."""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

import orjson

from agentic.store._commit import GroupCommitter, encode_part
from agentic.store._errors import (
    CorruptRecordError,
    IdempotencyConflictError,
    StoreClosedError,
    StoreError,
)
from agentic.store._pool import ReaderPool
from agentic.store._protocol import AppendRequest
from agentic.store._record import AppendResult, NewRecord, Record, Snapshot
from agentic.store._rows import COLUMNS, decode, missing
from agentic.store._schema import Durability, connect, ensure_schema
from agentic.store._subscription import Subscription

__all__ = ["SQLiteEventStore"]

_PAGE = 2000

_OPEN: weakref.WeakSet[SQLiteEventStore] = weakref.WeakSet()
"""The stores open in this process, so that a forked child can disown them."""


def _disown_after_fork() -> None:
    # A SQLite connection must not be used across fork(), and a lock another thread of
    # the parent held is held for good in the child: every inherited store refuses
    # work here (the child opens its own) instead of hanging or sharing handles.
    for store in list(_OPEN):
        store._disown()  # noqa: SLF001 - the store's own hook


os.register_at_fork(after_in_child=_disown_after_fork)


def _check_poll(poll: float) -> None:
    if not 0 < poll < math.inf:  # NaN compares false too
        msg = f"poll must be a positive number of seconds, not {poll!r}"
        raise ValueError(msg)


class SQLiteEventStore:
    """An append-only event store in one SQLite file (WAL mode).

    * **Atomic appends** with optimistic concurrency (`expected_sequence`) and
      idempotency keys: a re-send of a committed append returns the original positions.
    * **Group commit**: appends from many threads share one transaction and one sync.
      The first caller to find the writer idle commits everything queued; the store
      starts no thread of its own.
    * **Many threads, many processes**: every write transaction begins with
      `BEGIN IMMEDIATE` and waits up to `timeout` for another process's write lock;
      sequence numbers and positions are assigned inside it, so none is lost or
      repeated. Readers never block writers (WAL).
    * **Checked reads**: a payload that is not a JSON object, or a gap in positions or
      sequences, raises [`CorruptRecordError`][agentic.store.CorruptRecordError] naming
      the position; nothing is skipped.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.db"
        >>> with SQLiteEventStore(path) as store:
        ...     store.append("s", [NewRecord("hello", {"n": 1})], expected_sequence=0).positions
        (1,)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        durability: Durability = "full",
        timeout: float = 30.0,
        max_batch: int = 10_000,
    ) -> None:
        """Open (creating if needed) the store at `path`.

        Args:
            path: The database file; its directory must exist.
            durability: `"full"`, `"normal"` or `"off"` (see `Durability` and docs/store.md).
            timeout: Seconds to wait for another process's write lock.
            max_batch: The most appends one group commit takes.

        Raises:
            StoreOpenError: The file cannot be opened or created (read-only directory).
            NotAStoreError: The file is not an agentic event store.
            SchemaVersionError: The store has a newer or unknown schema version.
            ValueError: `durability`, `timeout` or `max_batch` is not one it can be.
        """
        if not 0 <= timeout < math.inf:  # NaN compares false too
            msg = f"timeout must be a finite number of seconds >= 0, not {timeout!r}"
            raise ValueError(msg)
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            msg = f"max_batch must be an int >= 1, not {max_batch!r}"
            raise ValueError(msg)
        self._path = Path(path)
        self._durability: Durability = durability
        self._timeout = timeout
        writer = connect(self._path, durability=durability, timeout=timeout, check=True)
        try:
            ensure_schema(writer, self._path)
        except BaseException:
            writer.close()
            raise
        self._writer = writer
        self._pool = ReaderPool(
            lambda: connect(self._path, durability=durability, timeout=timeout),
            self._closed_error,
            f"event store {str(self._path)!r}",
        )
        self._lock = threading.Lock()
        self._commits = threading.Condition(threading.Lock())
        self._committed_position = 0
        self._closed = False
        self._pid = os.getpid()
        self._forked = False
        self._committer = GroupCommitter(writer, self._notify, max_batch)
        _OPEN.add(self)

    # -- lifecycle -----------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def durability(self) -> Durability:
        """The durability setting the store was opened with."""
        return self._durability

    @property
    def closed(self) -> bool:
        """Whether the store is closed (or was inherited by a forked process)."""
        return self._closed

    def close(self) -> None:
        """Close every connection; later calls raise `StoreClosedError`. Idempotent.

        In a process forked from the one that opened the store, the store is closed
        already: it refuses work there (SQLite connections must not cross a fork), and
        the child opens a store of its own.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _OPEN.discard(self)
        with self._commits:
            self._commits.notify_all()
        self._pool.close()
        self._committer.close()  # waits for the group being written, refuses new ones
        self._writer.close()

    def _disown(self) -> None:
        """In a forked child: refuse all work, without touching the parent's handles."""
        self._lock = threading.Lock()
        self._commits = threading.Condition(threading.Lock())
        self._closed = self._forked = True
        self._pool.disown()
        self._committer.disown()

    def __enter__(self) -> Self:
        """Return the store itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    def __repr__(self) -> str:
        """Show the path and durability."""
        return f"SQLiteEventStore({str(self._path)!r}, durability={self._durability!r})"

    # -- appending -------------------------------------------------------------------

    def append(
        self,
        stream: str,
        records: Sequence[NewRecord],
        *,
        expected_sequence: int | None = None,
    ) -> AppendResult:
        """Append `records` to `stream` atomically; return their positions.

        Args:
            stream: The stream id.
            records: The records, in order.
            expected_sequence: The stream's last sequence number the caller has seen
                (0: the stream must be empty); None skips the check.

        Returns:
            The positions and sequence numbers given to the records. If every record
            carries an idempotency key that is already stored (a re-send), nothing is
            written and the original positions come back with `deduplicated=True`.

        Raises:
            ConcurrencyError: The stream is not at `expected_sequence`; nothing written.
            IdempotencyConflictError: A key is stored for a different record, or only
                some records of the append are stored.
            SerializationError: A payload is not JSON-serializable.
            StoreError: The transaction failed (nothing was written).
        """
        part = encode_part(stream, records, expected_sequence)
        self._check_open()
        return self._submit([part])[0]

    def append_many(self, requests: Iterable[AppendRequest]) -> list[AppendResult]:
        """Append to several streams in one transaction: all or nothing.

        Raises:
            ConcurrencyError: One stream is not at its expected sequence (nothing written).
            IdempotencyConflictError: As for `append`, or a key repeats across requests.
        """
        parts = [encode_part(*request) for request in requests]
        seen: set[str] = set()
        for part in parts:  # a key twice in one transaction: as within one append
            for key in part.keys:
                if key in seen:
                    msg = f"idempotency key {key!r} repeats within one append_many"
                    raise IdempotencyConflictError(msg, key=key)
                seen.add(key)
        self._check_open()
        if not parts:
            return []
        return self._submit(parts)

    def _submit(self, parts: list[Any]) -> list[AppendResult]:
        return self._committer.submit(parts, self._closed_error)

    def _notify(self, position: int) -> None:
        with self._commits:
            self._committed_position = max(self._committed_position, position)
            self._commits.notify_all()

    # -- reading ---------------------------------------------------------------------

    def read(
        self, stream: str, from_sequence: int = 1, *, to_sequence: int | None = None
    ) -> Iterator[Record]:
        """Iterate over `stream`'s records from `from_sequence` to `to_sequence` (inclusive).

        Raises:
            CorruptRecordError: A record cannot be decoded, or a sequence is missing.
        """
        expected = max(from_sequence, 1)
        # Read up to the head the stream had when the read began: every record up to it
        # must be there (a missing tail is corruption too, not a shorter stream), and
        # none past it (a head behind the records would silently shorten the stream).
        head, stored = self._pool.query(
            "SELECT coalesce((SELECT last_sequence FROM streams WHERE stream = ?), 0), "
            "coalesce((SELECT max(sequence) FROM records WHERE stream = ?), 0)",
            (stream, stream),
        )[0]
        if stored > head:
            rows = self._pool.query(
                "SELECT position FROM records WHERE stream = ? AND sequence > ? "
                "ORDER BY sequence LIMIT 1",
                (stream, head),
            )
            msg = (
                f"stream {stream!r} holds records up to sequence {stored}, past its "
                f"recorded head {head}"
            )
            raise CorruptRecordError(msg, position=rows[0][0] if rows else None)
        end = head if to_sequence is None else min(to_sequence, head)
        while expected <= end:
            rows = self._pool.query(
                f"SELECT {COLUMNS} FROM records WHERE stream = ? "  # noqa: S608 - constant columns
                "AND sequence BETWEEN ? AND ? ORDER BY sequence LIMIT ?",
                (stream, expected, end, _PAGE),
            )
            # Sequences are unique and sorted, so first and last tell whether any is missing.
            if not rows or rows[0][2] != expected or rows[-1][2] - expected != len(rows) - 1:
                missing(rows, 2, expected, f"stream {stream!r} (head {head}) is missing sequence")
            expected += len(rows)
            yield from decode(rows)

    def read_all(
        self,
        from_position: int = 1,
        to_position: int | None = None,
        *,
        stream: str | None = None,
        types: Iterable[str] | None = None,
        correlation_id: str | None = None,
    ) -> Iterator[Record]:
        """Iterate over the log from `from_position` to `to_position` (inclusive).

        Args:
            from_position: The first position to return (1 is the start).
            to_position: The last position to return (None: up to the newest record
                when each page is read).
            stream: Only records of this stream.
            types: Only records of these types (a list; a bare string is refused).
            correlation_id: Only records with this correlation id.

        Raises:
            TypeError: `types` is a string rather than a list of them.
            CorruptRecordError: A record cannot be decoded, or (unfiltered) a position
                is missing.
        """
        if isinstance(types, str):  # its letters would be the filter: matches nothing
            msg = f"types must be a list of record types, not the string {types!r}"
            raise TypeError(msg)
        wanted = None if types is None else list(types)
        where = ["position >= ?", "(? < 0 OR position <= ?)"]
        params: list[Any] = []
        if stream is not None:
            where.append("stream = ?")
            params.append(stream)
        if wanted is not None:
            where.append(f"type IN ({','.join('?' * len(wanted))})")
            params.extend(wanted)
        if correlation_id is not None:
            where.append("correlation_id = ?")
            params.append(correlation_id)
        filtered = len(where) > 2  # noqa: PLR2004
        clause = " AND ".join(where)
        query = f"SELECT {COLUMNS} FROM records WHERE {clause} ORDER BY position LIMIT ?"  # noqa: S608 - only placeholders
        position = max(from_position, 1)
        # -1 stands for "no bound" in the query, so a negative bound is taken as 0.
        last = -1 if to_position is None else max(to_position, 0)
        while True:
            rows = self._pool.query(query, (position, last, last, *params, _PAGE))
            if not rows:
                return
            if not filtered:
                if rows[0][0] != position or rows[-1][0] - position != len(rows) - 1:
                    missing(rows, 0, position, "the log is missing position")
                position += len(rows)
            else:
                position = rows[-1][0] + 1
            yield from decode(rows)
            if len(rows) < _PAGE:
                return

    def last_position(self) -> int:
        """Return the position of the newest record (0 when the store is empty)."""
        rows = self._pool.query("SELECT coalesce(max(position), 0) FROM records", ())
        result: int = rows[0][0]
        return result

    def stream_sequence(self, stream: str) -> int:
        """Return the last sequence number of `stream` (0 when it has no record)."""
        rows = self._pool.query("SELECT last_sequence FROM streams WHERE stream = ?", (stream,))
        return int(rows[0][0]) if rows else 0

    def streams(self) -> list[str]:
        """Return the ids of every stream that has a record, sorted."""
        return [
            row[0] for row in self._pool.query("SELECT stream FROM streams ORDER BY stream", ())
        ]

    # -- snapshots -----------------------------------------------------------------------

    def save_snapshot(
        self,
        stream: str,
        sequence: int,
        state: dict[str, Any],
        *,
        type: str,  # noqa: A002 - a record's type is called type everywhere
    ) -> Snapshot:
        """Store `state` as the state of `stream` after its record `sequence`.

        Raises:
            StoreError: `stream` has no record `sequence`.
            SerializationError: `state` is not JSON-serializable.
        """
        blob = encode_part(stream, [NewRecord(type, state)], None).rows[0][1]
        self._check_open()
        rows = self._pool.query(
            "SELECT position FROM records WHERE stream = ? AND sequence = ?", (stream, sequence)
        )
        if not rows:
            msg = f"cannot snapshot stream {stream!r} at sequence {sequence}: no such record"
            raise StoreError(msg)
        snapshot = Snapshot(stream, sequence, rows[0][0], type, state, time.time())
        try:
            self._pool.write(
                "INSERT OR REPLACE INTO snapshots (stream, sequence, position, type, state, "
                "timestamp) VALUES (?, ?, ?, ?, ?, ?)",
                (stream, sequence, snapshot.position, type, blob, snapshot.timestamp),
            )
        except sqlite3.Error as exc:
            msg = f"cannot save snapshot of stream {stream!r}: {exc}"
            raise StoreError(msg) from exc
        return snapshot

    def load_snapshot(self, stream: str, *, max_position: int | None = None) -> Snapshot | None:
        """Return the newest snapshot of `stream` taken at or before `max_position`.

        Raises:
            CorruptRecordError: The snapshot's state cannot be decoded.
        """
        limit = -1 if max_position is None else max(max_position, 0)  # -1: no bound
        rows = self._pool.query(
            "SELECT stream, sequence, position, type, state, timestamp FROM snapshots "
            "WHERE stream = ? AND (? < 0 OR position <= ?) ORDER BY sequence DESC LIMIT 1",
            (stream, limit, limit),
        )
        if not rows:
            return None
        name, sequence, position, kind, blob, stamp = rows[0]
        try:
            state = orjson.loads(blob)
        except orjson.JSONDecodeError as exc:
            msg = f"snapshot of stream {name!r} at position {position} is not valid JSON: {exc}"
            raise CorruptRecordError(msg, position=position) from exc
        if not isinstance(state, dict):
            msg = f"snapshot of stream {name!r} at position {position} is not a JSON object"
            raise CorruptRecordError(msg, position=position)
        return Snapshot(name, sequence, position, kind, state, stamp)

    # -- following --------------------------------------------------------------------------

    def wait_for(self, position: int, timeout: float | None, *, poll: float = 0.05) -> bool:
        """Wait until the log holds `position`; return whether it does.

        Commits in this process wake the waiter at once; commits by other processes are
        noticed within `poll` seconds.

        Raises:
            ValueError: `poll` is not a positive number of seconds.
        """
        _check_poll(poll)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._commits:
                if self._committed_position >= position:
                    return True
            self._check_open()
            last = self.last_position()
            if last >= position:
                with self._commits:
                    self._committed_position = max(self._committed_position, last)
                return True
            pause = poll if deadline is None else min(poll, deadline - time.monotonic())
            if pause <= 0:
                return False
            with self._commits:
                if self._committed_position < position and not self._closed:
                    self._commits.wait(pause)

    def subscribe(
        self,
        from_position: int = 1,
        *,
        stream: str | None = None,
        types: Iterable[str] | None = None,
        correlation_id: str | None = None,
        poll: float = 0.05,
    ) -> Subscription:
        """Follow the log from `from_position`: catch up, then wait for new records.

        Raises:
            ValueError: `poll` is not a positive number of seconds.
            TypeError: `types` is a string rather than a list of them.
        """
        _check_poll(poll)
        return Subscription(
            self,
            from_position,
            stream=stream,
            types=types,
            correlation_id=correlation_id,
            poll=poll,
        )

    def _check_open(self) -> None:
        if self._closed:
            raise self._closed_error()

    def _closed_error(self) -> StoreClosedError:
        if self._forked:
            return StoreClosedError(
                f"event store {str(self._path)!r} was opened by process {self._pid}; "
                f"this process ({os.getpid()}) was forked from it and must open its own"
            )
        return StoreClosedError(f"event store {str(self._path)!r} is closed")

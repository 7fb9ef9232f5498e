"""Group commit: concurrent appends share one transaction and one sync.

The transaction is written by whichever caller arrives first (leader/follower), so the
store starts no thread of its own.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import orjson

from agentic.store._errors import (
    ConcurrencyError,
    IdempotencyConflictError,
    StoreError,
)
from agentic.store._record import AppendResult, NewRecord

__all__ = ["GroupCommitter", "Part", "encode_part"]

_OPTIONS = orjson.OPT_NON_STR_KEYS

_INSERT = (
    "INSERT INTO records (position, stream, sequence, type, payload, timestamp, "
    "correlation_id, causation_id, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_STREAM = (
    "INSERT INTO streams (stream, last_sequence) VALUES (?, ?) "
    "ON CONFLICT (stream) DO UPDATE SET last_sequence = excluded.last_sequence"
)
_KEY_CHUNK = 500

_log = logging.getLogger("agentic.store")


class Part:
    """One stream's records, already validated and encoded by the calling thread."""

    __slots__ = ("expected", "keys", "rows", "stream")

    def __init__(
        self,
        stream: str,
        rows: list[tuple[str, bytes, str | None, str | None, str | None]],
        expected: int | None,
    ) -> None:
        self.stream = stream
        self.rows = rows
        self.expected = expected
        self.keys = [row[4] for row in rows if row[4] is not None]


def encode_part(stream: str, records: Sequence[NewRecord], expected: int | None) -> Part:
    """Check and encode one stream's records (in the caller's thread, outside any lock).

    Raises:
        TypeError: A record is not a NewRecord-shaped tuple or a field has a wrong type.
        ValueError: The stream or a type is empty, or a key repeats within the records.
        SerializationError: A payload is not JSON-serializable.
    """
    if not isinstance(stream, str) or not stream:
        msg = f"a stream id must be a non-empty string, not {stream!r}"
        raise ValueError(msg)
    if not _utf8(stream):
        msg = f"stream id {stream!r} is not valid UTF-8 text (it holds a lone surrogate)"
        raise ValueError(msg)
    if expected is not None and (not isinstance(expected, int) or expected < 0):
        msg = f"expected_sequence must be None or an int >= 0, not {expected!r}"
        raise ValueError(msg)
    rows: list[tuple[str, bytes, str | None, str | None, str | None]] = []
    seen: set[str] = set()
    dumps = orjson.dumps
    for index, record in enumerate(records):
        # Fast path: a NewRecord with a str type, dict payload and no ids needs no more
        # checks (appends of many small records spend most of their time here).
        if (
            type(record) is NewRecord
            and type(record[0]) is str
            and record[0]
            and record[0].isascii()
            and type(record[1]) is dict
            and record[2] is None
            and record[3] is None
            and record[4] is None
        ):
            try:
                blob = dumps(record[1], option=_OPTIONS)
            except TypeError:
                blob = _dumps(record[1], stream, index)
            if b"null" in blob and not _finite(record[1]):  # orjson writes NaN as null
                _not_finite(stream, index)
            rows.append((record[0], blob, None, None, None))
            continue
        record_type, payload, correlation, causation, key = _fields(record, stream, index)
        if key is not None:
            if key in seen:
                msg = f"idempotency key {key!r} repeats within one append to {stream!r}"
                raise IdempotencyConflictError(msg, key=key)
            seen.add(key)
        rows.append((record_type, _dumps(payload, stream, index), correlation, causation, key))
    return Part(stream, rows, expected)


def _fields(
    record: Any, stream: str, index: int
) -> tuple[str, dict[str, Any], str | None, str | None, str | None]:
    if not isinstance(record, tuple) or not 2 <= len(record) <= 5:  # noqa: PLR2004
        msg = f"record {index} for {stream!r} must be a NewRecord, not {type(record).__name__}"
        raise TypeError(msg)
    record_type, payload, correlation, causation, key = (*record, None, None, None)[:5]
    if not isinstance(record_type, str) or not record_type:
        msg = f"record {index} for {stream!r} needs a non-empty string type, not {record_type!r}"
        raise ValueError(msg)
    if not _utf8(record_type):
        msg = f"record {index} for {stream!r} has a type that is not valid UTF-8: {record_type!r}"
        raise ValueError(msg)
    if not isinstance(payload, dict):
        msg = f"record {index} ({record_type}) payload must be a dict, not {type(payload).__name__}"
        raise TypeError(msg)
    for name, value in (("correlation_id", correlation), ("causation_id", causation)):
        if value is not None and not isinstance(value, str):
            msg = f"record {index} ({record_type}) {name} must be a string or None"
            raise TypeError(msg)
    if key is not None and (not isinstance(key, str) or not key):
        msg = f"record {index} ({record_type}) idempotency_key must be a non-empty string"
        raise TypeError(msg)
    for name, value in (
        ("correlation_id", correlation),
        ("causation_id", causation),
        ("idempotency_key", key),
    ):
        if value is not None and not _utf8(value):
            msg = f"record {index} ({record_type}) {name} is not valid UTF-8 text: {value!r}"
            raise ValueError(msg)
    return record_type, payload, correlation, causation, key


def _utf8(text: str) -> bool:
    # SQLite stores text as UTF-8: a lone surrogate (a path decoded with
    # surrogateescape) would fail only when the group is written, failing every
    # append of the group, so it is refused here, in the caller's thread.
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _dumps(payload: dict[str, Any], stream: str, index: int) -> bytes:
    try:
        blob = orjson.dumps(payload, option=_OPTIONS)
    except TypeError as exc:
        from agentic.errors import SerializationError  # noqa: PLC0415 - error path only

        msg = f"record {index} payload for {stream!r} is not JSON-serializable: {exc}"
        raise SerializationError(msg) from exc
    # JSON has no NaN or infinity and orjson writes them as null: the record would
    # read back changed (and replay differently from the live state), so refuse it.
    if b"null" in blob and not _finite(payload):
        _not_finite(stream, index)
    return blob


def _not_finite(stream: str, index: int) -> NoReturn:
    from agentic.errors import SerializationError  # noqa: PLC0415 - error path only

    msg = (
        f"record {index} payload for {stream!r} is not JSON-serializable: it holds "
        "a float that is not finite (NaN or infinity)"
    )
    raise SerializationError(msg)


def _finite(value: Any) -> bool:
    """Return whether no float in `value` (dicts, lists, tuples, deeply) is NaN or infinite.

    Only called for a payload whose encoding holds a null. Recursion is bounded: orjson
    has already refused anything nested deeper than 255.
    """
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str and not _finite(key):
                return False
            if type(item) not in _LEAVES and not _finite(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(type(item) in _LEAVES or _finite(item) for item in value)
    return not isinstance(value, float) or math.isfinite(value)


_LEAVES = frozenset({str, int, bool, type(None)})


class _Request:
    __slots__ = ("done", "error", "parts", "promoted", "results", "wake")

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts
        self.done = False
        self.promoted = False  # handed the writer's role (set under the committer's lock)
        self.results: list[AppendResult] = []
        self.error: BaseException | None = None
        # A lock held from birth: releasing it wakes the one thread waiting on it (a
        # lock per request wakes exactly that caller, not every waiter).
        self.wake = threading.Lock()
        self.wake.acquire()


class _Txn:
    """The state of one write transaction: next position, stream heads, keys used."""

    __slots__ = ("conn", "heads", "keys", "position", "rows", "touched")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        row = conn.execute("SELECT coalesce(max(position), 0) FROM records").fetchone()
        self.position: int = row[0]
        self.heads: dict[str, int] = {}
        self.keys: dict[str, tuple[str, int, int, str, bytes]] = {}
        self.rows: list[tuple[Any, ...]] = []
        self.touched: dict[str, int] = {}

    def head(self, stream: str) -> int:
        head = self.heads.get(stream)
        if head is None:
            row = self.conn.execute(
                "SELECT last_sequence FROM streams WHERE stream = ?", (stream,)
            ).fetchone()
            head = self.heads[stream] = row[0] if row else 0
        return head

    def stored_keys(self, keys: list[str]) -> dict[str, tuple[str, int, int, str, bytes]]:
        found = {key: self.keys[key] for key in keys if key in self.keys}
        missing = [key for key in keys if key not in found]
        for start in range(0, len(missing), _KEY_CHUNK):
            chunk = missing[start : start + _KEY_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT idempotency_key, stream, sequence, position, type, payload "  # noqa: S608 - only placeholders
                f"FROM records WHERE idempotency_key IN ({marks})"
            )
            for key, *rest in self.conn.execute(query, chunk):
                found[key] = (rest[0], rest[1], rest[2], rest[3], rest[4])
        return found


class GroupCommitter:
    """Write appends in shared transactions on one connection.

    A caller queues its request; if no one is writing, it becomes the leader, takes
    every queued request and commits them in one transaction (one sync). Callers that
    arrive meanwhile wait on their own request; when the leader is done it wakes the
    callers it served and hands the role to the oldest waiter, which commits
    everything queued since as the next group. Each request is checked on its own (a
    conflict fails that request only); the group commits together.
    """

    def __init__(
        self, conn: sqlite3.Connection, on_commit: Callable[[int], None], max_batch: int
    ) -> None:
        """Write through `conn`; call `on_commit(last_position)` after each commit."""
        self._conn = conn
        self._on_commit = on_commit
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: list[_Request] = []
        self._writing = False
        self._closed = False

    def close(self) -> None:
        """Refuse new appends and wait until the queued ones are committed."""
        with self._lock:
            self._closed = True
            while self._writing:
                self._idle.wait()

    def disown(self) -> None:
        """In a forked child: refuse appends; the parent's writer and queue are not ours."""
        self._lock = threading.Lock()  # the parent's may have been held at the fork
        self._idle = threading.Condition(self._lock)
        self._queue = []
        self._writing = False
        self._closed = True

    def submit(self, parts: list[Part], closed: Callable[[], BaseException]) -> list[AppendResult]:
        """Commit `parts` atomically (possibly together with other callers' requests).

        Raises:
            ConcurrencyError: An expected sequence did not match (nothing written).
            IdempotencyConflictError: A key was stored for other content.
            StoreError: The transaction failed.
            BaseException: `closed()`, if the committer was closed.
        """
        request = _Request(parts)
        with self._lock:
            if self._closed:
                raise closed()
            self._queue.append(request)
            lead = not self._writing
            self._writing = True
        if not lead:
            # Woken either with the request done, or to lead the next group.
            try:
                request.wake.acquire()
            except BaseException:
                self._withdraw(request)  # e.g. Ctrl-C: the queue must not wait for us
                raise
            if request.done:
                return _outcome(request)
        # The leader's own request is first in the queue: a new leader found the queue
        # empty, a promoted one was its oldest entry, and only the leader takes from it.
        with self._lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            self._write(batch)
        finally:
            for other in batch:
                if other is not request:
                    if not other.done:  # interrupted past _write's own bookkeeping
                        _fail([other], _interrupted(None, written=None))
                    other.wake.release()
            with self._lock:
                self._hand_over()
        return _outcome(request)

    def _hand_over(self) -> None:
        # Called with the lock held by the writer giving up its role: hand it to the
        # oldest waiter, which commits everything queued meanwhile as the next group.
        if self._queue:
            self._queue[0].promoted = True
            self._queue[0].wake.release()
        else:
            self._writing = False
            self._idle.notify_all()

    def _withdraw(self, request: _Request) -> None:
        """Take back a request whose caller stopped waiting (interrupted, e.g. Ctrl-C).

        A request still queued is dropped, so nothing of it is written; if it had just
        been handed the writer's role, the role goes on to the next waiter. A request
        already taken into a group is being written by that group's writer (its caller
        cannot know the outcome; a re-send with the same idempotency keys is safe).
        """
        with self._lock:
            if not any(queued is request for queued in self._queue):
                return
            self._queue = [queued for queued in self._queue if queued is not request]
            if request.promoted:
                self._hand_over()

    def _write(self, batch: list[_Request]) -> None:
        conn = self._conn
        try:
            # One try around the whole transaction: an interrupt (Ctrl-C) landing just
            # after BEGIN returned must roll back too, or the connection would stay in
            # its transaction, holding the write lock against every process for good.
            conn.execute("BEGIN IMMEDIATE")
            txn = _Txn(conn)
            now = time.time()
            for request in batch:
                _plan(txn, request, now)
            if txn.rows:
                conn.executemany(_INSERT, txn.rows)
                conn.executemany(_UPSERT_STREAM, txn.touched.items())
            conn.execute("COMMIT")
        except BaseException as exc:
            rolled_back = _roll_back(conn)
            if isinstance(exc, Exception):
                _fail(batch, _store_error(exc))
                return
            # Interrupted (Ctrl-C, SystemExit): the writer's own thread re-raises it;
            # the other callers of the group, in their own threads, get a StoreError,
            # not someone else's KeyboardInterrupt.
            _fail(batch, _interrupted(exc, written=False if rolled_back else None))
            raise
        for request in batch:
            request.done = True
        if txn.rows:
            self._on_commit(txn.position)


def _roll_back(conn: sqlite3.Connection) -> bool:
    """Roll back the open transaction, if any; return whether there was one."""
    if not conn.in_transaction:
        # SQLite may have rolled back already (RAISE(ROLLBACK), a full disk): a second
        # ROLLBACK would fail and hide the error that matters.
        return False
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        _log.warning("rollback of a failed append failed", exc_info=True)
    return True


def _fail(batch: list[_Request], error: BaseException) -> None:
    for request in batch:
        request.results = []
        request.error = error
        request.done = True


def _interrupted(exc: BaseException | None, *, written: bool | None) -> StoreError:
    outcome = (
        "nothing of the group was written"
        if written is False
        else "the group may have been committed (a re-send with the same idempotency keys is safe)"
    )
    cause = "" if exc is None else f" ({type(exc).__name__})"
    msg = f"append interrupted: the thread writing its group was interrupted{cause}; {outcome}"
    error = StoreError(msg)
    error.__cause__ = exc
    return error


def _plan(txn: _Txn, request: _Request, now: float) -> None:
    """Check one request against the transaction and queue its rows; all or nothing."""
    position, row_count = txn.position, len(txn.rows)
    # Undo only what this request touches (copying every head per request would make
    # a group of many requests over many streams quadratic).
    before: dict[str, tuple[int | None, int | None]] = {}
    new_keys: dict[str, tuple[str, int, int, str, bytes]] = {}
    try:
        for part in request.parts:
            if part.stream not in before:
                before[part.stream] = (txn.heads.get(part.stream), txn.touched.get(part.stream))
            request.results.append(_plan_part(txn, part, now, new_keys))
    except StoreError as exc:
        txn.position = position
        del txn.rows[row_count:]
        for stream, (head, touched) in before.items():
            _restore(txn.heads, stream, head)
            _restore(txn.touched, stream, touched)
        request.results = []
        request.error = exc
        return
    txn.keys.update(new_keys)


def _restore(table: dict[str, int], key: str, value: int | None) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value


def _plan_part(
    txn: _Txn, part: Part, now: float, new_keys: dict[str, tuple[str, int, int, str, bytes]]
) -> AppendResult:
    stream = part.stream
    if part.keys:
        found = txn.stored_keys(part.keys)
        found.update({key: new_keys[key] for key in part.keys if key in new_keys})
        if found:
            return _deduplicated(part, found)
    head = txn.head(stream)
    if part.expected is not None and part.expected != head:
        msg = (
            f"stream {stream!r} is at sequence {head}, "
            f"but the append expected {part.expected}; nothing was written"
        )
        raise ConcurrencyError(msg, stream=stream, expected=part.expected, actual=head)
    positions: list[int] = []
    sequences: list[int] = []
    position = txn.position
    rows = txn.rows
    for record_type, payload, correlation, causation, key in part.rows:
        position += 1
        head += 1
        rows.append(
            (position, stream, head, record_type, payload, now, correlation, causation, key)
        )
        positions.append(position)
        sequences.append(head)
        if key is not None:
            new_keys[key] = (stream, head, position, record_type, payload)
    txn.position = position
    txn.heads[stream] = head
    if part.rows:
        txn.touched[stream] = head
    return AppendResult(stream, tuple(positions), tuple(sequences))


def _deduplicated(part: Part, found: dict[str, tuple[str, int, int, str, bytes]]) -> AppendResult:
    stream = part.stream
    if len(found) != len(part.rows):
        stored = next(iter(found))
        msg = (
            f"idempotency key {stored!r} is already stored, but not every record of this "
            f"append to {stream!r} is: a re-send must repeat the original append exactly"
        )
        raise IdempotencyConflictError(msg, key=stored)
    positions: list[int] = []
    sequences: list[int] = []
    for record_type, payload, _, _, key in part.rows:
        stored_stream, sequence, position, stored_type, stored_payload = found[key or ""]
        if (
            stored_stream != stream
            or stored_type != record_type
            or (stored_payload != payload and orjson.loads(stored_payload) != orjson.loads(payload))
        ):
            msg = (
                f"idempotency key {key!r} is already stored for a different record "
                f"({stored_type!r} at {stored_stream!r} sequence {sequence})"
            )
            raise IdempotencyConflictError(msg, key=key)
        positions.append(position)
        sequences.append(sequence)
    return AppendResult(stream, tuple(positions), tuple(sequences), deduplicated=True)


def _store_error(exc: BaseException) -> BaseException:
    if isinstance(exc, StoreError) or not isinstance(exc, sqlite3.Error):
        return exc
    msg = f"append failed (a re-send with the same idempotency keys is safe): {exc}"
    error = StoreError(msg)
    error.__cause__ = exc
    return error


def _outcome(request: _Request) -> list[AppendResult]:
    if request.error is not None:
        raise request.error
    return request.results

"""A small pool of read connections, shared by every thread of one store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

from agentic.store._errors import CorruptRecordError

__all__ = ["ReaderPool"]

_INHERITED: list[sqlite3.Connection] = []
"""Connections a forked child inherited: kept, never used or closed by the child."""


class ReaderPool:
    """Hand out read connections for one query at a time.

    A pool rather than a connection per thread: threads come and go, and each query is
    one short read (`fetchall`, no cursor held across a `yield`), so a few
    connections serve them all and none is left behind by a thread that ended.
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        closed_error: Callable[[], Exception],
        what: str,
        size: int = 8,
    ) -> None:
        """Open connections with `connect`; raise `closed_error()` once closed."""
        self._connect = connect
        self._closed_error = closed_error
        self._what = what
        self._size = size
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close the idle connections; those in use close when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def disown(self) -> None:
        """In a forked child: refuse every query, leaving the parent's connections be."""
        _INHERITED.extend(self._idle)  # closing them here could disturb the parent's
        self._idle = []
        self._lock = threading.Lock()  # the parent's may have been held at the fork
        self._closed = True

    def query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run one read and return all its rows.

        Raises:
            CorruptRecordError: SQLite reports the database damaged (or unreadable).
        """
        conn = self._take()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            msg = f"cannot read {self._what}: {exc}"
            raise CorruptRecordError(msg) from exc
        finally:
            self._give_back(conn)

    def write(self, sql: str, params: Sequence[Any]) -> None:
        """Run one statement in a transaction of its own (`BEGIN IMMEDIATE`)."""
        conn = self._take()
        try:
            # BEGIN inside the try: an interrupt (Ctrl-C) landing just after it returned
            # must roll back too, or the pooled connection would keep its transaction
            # and the write lock, blocking every writer in every process.
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(sql, params)
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (RAISE(ROLLBACK), a full disk): a
            # second ROLLBACK would fail and hide the error that matters.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._give_back(conn)

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise self._closed_error()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _give_back(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            # A connection still in a transaction (its ROLLBACK failed) is not reused:
            # closing it ends the transaction and frees the lock.
            if not self._closed and len(self._idle) < self._size and not conn.in_transaction:
                self._idle.append(conn)
                return
        conn.close()

"""Subscription: follow the log from a position, catching up and then waiting."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator

from agentic.store._protocol import EventStore
from agentic.store._record import Record

__all__ = ["Subscription"]

_CHUNK = 5000
_WAKE = 0.5


class Subscription:
    """An iterator over the log from a position: first what is stored, then what comes.

    It reads pages of at most a few thousand records, remembers the next position it
    owes, and waits for the store to reach it. Positions are assigned under the write
    lock and committed in order, so the switch from catching up to following live
    neither skips nor repeats a record. With filters, the cursor still advances over
    the records that do not match.

    Iterating blocks until a record arrives (or the subscription is closed);
    [`poll()`][agentic.store.Subscription.poll] and
    [`follow()`][agentic.store.Subscription.follow] take timeouts.

    Example:
        >>> sub = store.subscribe(from_position=1)  # doctest: +SKIP
        >>> for record in sub.follow(idle_timeout=1.0):  # doctest: +SKIP
        ...     print(record.position, record.type)
    """

    def __init__(
        self,
        store: EventStore,
        from_position: int = 1,
        *,
        stream: str | None = None,
        types: Iterable[str] | None = None,
        correlation_id: str | None = None,
        poll: float = 0.05,
    ) -> None:
        """Follow `store` from `from_position` (inclusive), with optional filters.

        Raises:
            TypeError: `types` is a string rather than a list of them.
        """
        if isinstance(types, str):  # its letters would be the filter: matches nothing
            msg = f"types must be a list of record types, not the string {types!r}"
            raise TypeError(msg)
        self._store = store
        self._next = max(from_position, 1)
        self._stream = stream
        self._types = None if types is None else tuple(types)
        self._correlation_id = correlation_id
        self._poll = poll
        self._buffer: deque[Record] = deque()
        self._closed = False

    @property
    def next_position(self) -> int:
        """The first position not yet handed out (delivered or skipped by the filter)."""
        return self._buffer[0].position if self._buffer else self._next

    def poll(self, timeout: float | None = 0.0) -> list[Record]:
        """Return the records available now, waiting up to `timeout` s for the first.

        Returns:
            The next records in order (at most a few thousand); empty on timeout.
        """
        if not self._buffer:
            self._fill(timeout)
        records = list(self._buffer)
        self._buffer.clear()
        return records

    def follow(self, *, idle_timeout: float | None = None) -> Iterator[Record]:
        """Yield records as they come; stop after `idle_timeout` s without one (None: never)."""
        while not self._closed:
            if not self._buffer and not self._fill(idle_timeout):
                return
            while self._buffer:
                yield self._buffer.popleft()

    def __iter__(self) -> Iterator[Record]:
        """Return the subscription itself."""
        return self

    def __next__(self) -> Record:
        """Return the next record, waiting for it; stop when the subscription closes."""
        while not self._buffer:
            if self._closed:
                raise StopIteration
            self._fill(self._poll)
        return self._buffer.popleft()

    def close(self) -> None:
        """Stop following; iteration ends at the next wake-up."""
        self._closed = True

    def _fill(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed:
            last = self._store.last_position()
            if last >= self._next:
                upper = min(last, self._next + _CHUNK - 1)
                try:
                    self._buffer.extend(
                        self._store.read_all(
                            self._next,
                            upper,
                            stream=self._stream,
                            types=self._types,
                            correlation_id=self._correlation_id,
                        )
                    )
                except BaseException:
                    # A bad record (or a closed store) past what was read: keep what
                    # came before it, and resume after that, not from the chunk's start
                    # (which would hand those records out a second time).
                    if self._buffer:
                        self._next = self._buffer[-1].position + 1
                    raise
                self._next = upper + 1
                if self._buffer:
                    return True
                continue
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            # Bounded waits, so a close() from another thread is noticed soon.
            self._store.wait_for(self._next, _WAKE if remaining is None else min(remaining, _WAKE))
        return False

"""A read-only view of an event store as of one position, for consistent reads under writers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from agentic.kernel._state_errors import CatalogError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from agentic.store import (
        AppendRequest,
        AppendResult,
        EventStore,
        NewRecord,
        Record,
        Snapshot,
        Subscription,
    )

__all__ = ["StoreAsOf"]


class StoreAsOf:
    """The records of `store` up to `position`, and nothing after it.

    Positions are assigned in commit order without gaps, so every record up to the
    store's last position is there to read, whatever other writers append meanwhile:
    everything read through this view belongs to one state of the log. Writing is
    refused.

    Args:
        store: The store to read.
        position: The last position to see (the store's last position if None).
    """

    def __init__(self, store: EventStore, position: int | None = None) -> None:
        self.store = store
        """The store read."""
        last = store.last_position()
        self.position = last if position is None else max(0, min(position, last))
        """The last position seen."""
        self._sequences: dict[str, int] = {}

    def read(
        self, stream: str, from_sequence: int = 1, *, to_sequence: int | None = None
    ) -> Iterator[Record]:
        """Iterate over one stream's records from `from_sequence`, up to the position."""
        for record in self.store.read(stream, from_sequence, to_sequence=to_sequence):
            if record.position > self.position:
                return
            yield record

    def read_all(
        self,
        from_position: int = 1,
        to_position: int | None = None,
        *,
        stream: str | None = None,
        types: Iterable[str] | None = None,
        correlation_id: str | None = None,
    ) -> Iterator[Record]:
        """Iterate over the log between two positions (inclusive), up to the position."""
        end = self.position if to_position is None else min(to_position, self.position)
        if end < from_position:
            return iter(())
        return self.store.read_all(
            from_position, end, stream=stream, types=types, correlation_id=correlation_id
        )

    def last_position(self) -> int:
        """Return the view's position."""
        return self.position

    def stream_sequence(self, stream: str) -> int:
        """Return the last sequence number of `stream` as of the position (0: none)."""
        if stream not in self._sequences:
            head = self.store.stream_sequence(stream)
            last = (
                next(iter(self.store.read(stream, head, to_sequence=head)), None) if head else None
            )
            if last is None or last.position <= self.position:
                sequence = head  # the usual case: nothing appended to it since
            else:
                sequence = 0
                for record in self.read(stream):
                    sequence = record.sequence
            self._sequences[stream] = sequence
        return self._sequences[stream]

    def streams(self) -> list[str]:
        """Return the ids of every stream with a record as of the position, sorted."""
        return [stream for stream in self.store.streams() if self._first_seen(stream)]

    def _first_seen(self, stream: str) -> bool:
        first = next(iter(self.store.read(stream, 1, to_sequence=1)), None)
        return first is not None and first.position <= self.position

    def load_snapshot(self, stream: str, *, max_position: int | None = None) -> Snapshot | None:
        """Return the newest snapshot of `stream` at or before the position."""
        bound = self.position if max_position is None else min(max_position, self.position)
        return self.store.load_snapshot(stream, max_position=bound)

    def append(
        self,
        stream: str,
        records: Sequence[NewRecord],  # noqa: ARG002 - the EventStore signature
        *,
        expected_sequence: int | None = None,  # noqa: ARG002
    ) -> AppendResult:
        """Refuse: the view is read-only."""
        self._refuse(stream)

    def append_many(self, requests: Iterable[AppendRequest]) -> list[AppendResult]:
        """Refuse: the view is read-only."""
        self._refuse(", ".join(request.stream for request in requests))

    def save_snapshot(
        self,
        stream: str,
        sequence: int,  # noqa: ARG002 - the EventStore signature
        state: dict[str, Any],  # noqa: ARG002
        *,
        type: str,  # noqa: A002, ARG002
    ) -> Snapshot:
        """Refuse: the view is read-only."""
        self._refuse(stream)

    def subscribe(
        self,
        from_position: int = 1,
        *,
        stream: str | None = None,
        types: Iterable[str] | None = None,
        correlation_id: str | None = None,
        poll: float = 0.05,
    ) -> Subscription:
        """Refuse: a view as of one position has nothing to follow."""
        del from_position, types, correlation_id, poll
        self._refuse(stream or "the log")

    def wait_for(self, position: int, timeout: float | None) -> bool:  # noqa: ARG002
        """Return whether the view reaches `position` (it never moves)."""
        return position <= self.position

    def close(self) -> None:
        """Do nothing: the store belongs to the caller."""

    def _refuse(self, stream: str) -> NoReturn:
        msg = f"a read-only view of the store as of position {self.position} cannot write {stream}"
        raise CatalogError(msg)

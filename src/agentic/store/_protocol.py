"""The EventStore protocol: what every store (SQLite today, others later) offers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from agentic.store._record import AppendResult, NewRecord, Record, Snapshot

if TYPE_CHECKING:
    from agentic.store._subscription import Subscription

__all__ = ["AppendRequest", "EventStore"]


class AppendRequest(NamedTuple):
    """One stream's part of [`append_many()`][agentic.store.EventStore.append_many]."""

    stream: str
    """The stream to append to."""
    records: Sequence[NewRecord]
    """The records, in order."""
    expected_sequence: int | None = None
    """The stream's last sequence number the caller expects (0: empty); None: any."""


@runtime_checkable
class EventStore(Protocol):
    """An append-only log of records, grouped in streams, with snapshots.

    Positions are global, 1-based and gap-free; sequences are per stream, 1-based and
    gap-free. Reads never skip or half-load a record: a record that cannot be read
    back raises [`CorruptRecordError`][agentic.store.CorruptRecordError].
    """

    def append(
        self,
        stream: str,
        records: Sequence[NewRecord],
        *,
        expected_sequence: int | None = None,
    ) -> AppendResult:
        """Append `records` to `stream` atomically; see the SQLite store for details."""
        ...

    def append_many(self, requests: Iterable[AppendRequest]) -> list[AppendResult]:
        """Append to several streams in one transaction: all or nothing."""
        ...

    def read(
        self, stream: str, from_sequence: int = 1, *, to_sequence: int | None = None
    ) -> Iterator[Record]:
        """Iterate over one stream's records from `from_sequence` (inclusive)."""
        ...

    def read_all(
        self,
        from_position: int = 1,
        to_position: int | None = None,
        *,
        stream: str | None = None,
        types: Iterable[str] | None = None,
        correlation_id: str | None = None,
    ) -> Iterator[Record]:
        """Iterate over the whole log between two positions (inclusive), filtered."""
        ...

    def last_position(self) -> int:
        """Return the position of the newest record (0 when the store is empty)."""
        ...

    def stream_sequence(self, stream: str) -> int:
        """Return the last sequence number of `stream` (0 when it has no record)."""
        ...

    def streams(self) -> list[str]:
        """Return the ids of every stream, sorted."""
        ...

    def save_snapshot(
        self,
        stream: str,
        sequence: int,
        state: dict[str, Any],
        *,
        type: str,  # noqa: A002
    ) -> Snapshot:
        """Store `state` as the state of `stream` after record `sequence`."""
        ...

    def load_snapshot(self, stream: str, *, max_position: int | None = None) -> Snapshot | None:
        """Return the newest snapshot of `stream` (at or before `max_position`)."""
        ...

    def subscribe(
        self,
        from_position: int = 1,
        *,
        stream: str | None = None,
        types: Iterable[str] | None = None,
        correlation_id: str | None = None,
        poll: float = 0.05,
    ) -> Subscription:
        """Follow the log from `from_position`: catch up, then wait for new records."""
        ...

    def wait_for(self, position: int, timeout: float | None) -> bool:
        """Wait until the log reaches `position`; return whether it did in time."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...

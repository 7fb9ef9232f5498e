"""Records: what the store keeps, what callers append, what an append returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

__all__ = ["AppendResult", "NewRecord", "Record", "Snapshot"]


class NewRecord(NamedTuple):
    """A record to append: its type and payload, and optional ids.

    Example:
        >>> NewRecord("note.added", {"text": "hi"}, idempotency_key="req-1:0").type
        'note.added'
    """

    type: str
    """What happened, e.g. `"pile.include"`."""
    payload: dict[str, Any]
    """The facts, a JSON object (encoded with orjson)."""
    correlation_id: str | None = None
    """The id shared by every record of one piece of work (a request, a workflow run)."""
    causation_id: str | None = None
    """The id of the message or record that caused this one."""
    idempotency_key: str | None = None
    """A key unique to this record in the whole store: appending it again (a re-send
    after an unknown outcome) returns the original position instead of a duplicate."""


class Record(NamedTuple):
    """A record as stored: a NewRecord plus its place in the log and its time.

    A NamedTuple rather than a pydantic model: replay builds hundreds of thousands of
    these per second, and the store has validated every field when it wrote them.
    """

    position: int
    """The global position in the store, 1-based, gap-free across all streams."""
    stream: str
    """The stream (one aggregate, e.g. one Pile) the record belongs to."""
    sequence: int
    """The position within the stream, 1-based and gap-free."""
    type: str
    """What happened."""
    payload: dict[str, Any]
    """The facts, a JSON object."""
    timestamp: float
    """When the record was committed, in seconds since the Unix epoch (UTC)."""
    correlation_id: str | None = None
    """The id shared by every record of one piece of work."""
    causation_id: str | None = None
    """The id of what caused this record."""
    idempotency_key: str | None = None
    """The key the record was appended with, if any."""

    @property
    def recorded_at(self) -> datetime:
        """The commit time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp, UTC)


class AppendResult(NamedTuple):
    """Where an append put its records."""

    stream: str
    """The stream appended to."""
    positions: tuple[int, ...]
    """The global position of each record, in the order given."""
    sequences: tuple[int, ...]
    """The stream sequence number of each record, in the order given."""
    deduplicated: bool = False
    """True when every record was already stored under its idempotency key: nothing was
    written and the positions are the original ones."""

    @property
    def last_sequence(self) -> int:
        """The stream's sequence number after this append (0 if nothing was appended)."""
        return self.sequences[-1] if self.sequences else 0

    @property
    def last_position(self) -> int:
        """The global position of the last record (0 if nothing was appended)."""
        return self.positions[-1] if self.positions else 0


class Snapshot(NamedTuple):
    """The state of an aggregate as of one sequence number of its stream."""

    stream: str
    """The stream the state was built from."""
    sequence: int
    """The last stream sequence number folded into the state."""
    position: int
    """The global position of that record."""
    type: str
    """What kind of state this is (e.g. `"pile"`), so a reader can refuse a mismatch."""
    state: dict[str, Any]
    """The state, a JSON object."""
    timestamp: float
    """When the snapshot was saved, in seconds since the Unix epoch (UTC)."""

"""Aggregates and the Repository: state rebuilt from a stream, kept in step with it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from agentic.store._errors import CorruptRecordError, StoreClosedError
from agentic.store._protocol import AppendRequest, EventStore
from agentic.store._record import AppendResult, NewRecord, Snapshot

__all__ = ["Aggregate", "Persisted", "Repository"]

_log = logging.getLogger("agentic.store")
_log.addHandler(logging.NullHandler())


@runtime_checkable
class Aggregate(Protocol):
    """State that changes only by records of its own stream.

    `apply` must be deterministic and all-or-nothing: given the same records in the
    same order, it builds the same state; if it raises, nothing changed. A Branch, a
    Pile or anything else that exports its state as JSON and changes by named
    operations fits.
    """

    @property
    def stream_id(self) -> str:
        """The stream that holds this aggregate's records."""
        ...

    def apply(self, record_type: str, payload: dict[str, Any]) -> None:
        """Change the state as the record says (raise, changing nothing, if invalid)."""
        ...

    def snapshot_state(self) -> dict[str, Any]:
        """Return the whole state as a JSON object."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the whole state by one that `snapshot_state()` returned."""
        ...


A = TypeVar("A", bound=Aggregate)


def _kind(aggregate: Aggregate) -> str:
    return type(aggregate).__qualname__


class Repository:
    """Load aggregates from an [`EventStore`][agentic.store.EventStore] and keep them in step.

    Example:
        >>> repo = Repository(store, snapshot_every=500)  # doctest: +SKIP
        >>> persisted = repo.load(Counter("counter-1"))  # doctest: +SKIP
        >>> persisted.record("added", {"n": 2})  # applies, then appends  # doctest: +SKIP
    """

    def __init__(self, store: EventStore, *, snapshot_every: int | None = None) -> None:
        """Use `store`; snapshot an aggregate after every `snapshot_every` records it appends."""
        if snapshot_every is not None and snapshot_every < 1:
            msg = f"snapshot_every must be None or >= 1, not {snapshot_every!r}"
            raise ValueError(msg)
        self.store = store
        """The event store."""
        self.snapshot_every = snapshot_every
        """Snapshot after this many appended records (None: only on request)."""

    def load(self, aggregate: A, *, use_snapshot: bool = True) -> Persisted[A]:
        """Bring a fresh `aggregate` up to date: latest snapshot, then the records after it.

        Args:
            aggregate: An aggregate in its initial state.
            use_snapshot: Start from the latest snapshot (else replay the whole stream).

        Returns:
            A handle that appends the aggregate's further changes.

        Raises:
            CorruptRecordError: A record or the snapshot cannot be read back.
        """
        persisted = Persisted(self, aggregate)
        persisted.refresh(use_snapshot=use_snapshot)
        return persisted

    def replay(
        self, aggregate: A, *, up_to_position: int | None = None, use_snapshot: bool = False
    ) -> A:
        """Rebuild a fresh `aggregate` as it was at `up_to_position` (inspection).

        Args:
            aggregate: An aggregate in its initial state.
            up_to_position: The last global position to apply (None: everything).
            use_snapshot: Start from the latest snapshot at or before that position.

        Returns:
            The same aggregate, rebuilt.
        """
        _fold(self.store, aggregate, 0, up_to_position, use_snapshot=use_snapshot)
        return aggregate


def _fold(
    store: EventStore,
    aggregate: Aggregate,
    after_sequence: int,
    up_to_position: int | None,
    *,
    use_snapshot: bool,
) -> tuple[int, int]:
    """Apply the stream's records after `after_sequence`; return (sequence, position)."""
    sequence, position = after_sequence, 0
    if use_snapshot:
        snapshot = store.load_snapshot(aggregate.stream_id, max_position=up_to_position)
        if snapshot is not None and snapshot.sequence > after_sequence:
            try:
                aggregate.restore(snapshot.state)
            except Exception as exc:
                if _positioned(exc):
                    raise
                msg = (
                    f"snapshot of stream {snapshot.stream!r} at position {snapshot.position} "
                    f"(#{snapshot.sequence}, {snapshot.type!r}) cannot be restored: {exc}"
                )
                raise CorruptRecordError(msg, position=snapshot.position) from exc
            sequence, position = snapshot.sequence, snapshot.position
    apply = aggregate.apply
    for record in store.read(aggregate.stream_id, sequence + 1):
        if up_to_position is not None and record.position > up_to_position:
            break
        try:
            apply(record.type, record.payload)
        except Exception as exc:
            if _positioned(exc):
                raise
            msg = (
                f"record at position {record.position} ({record.type!r}, "
                f"{record.stream!r} #{record.sequence}) cannot be replayed: {exc}"
            )
            raise CorruptRecordError(msg, position=record.position) from exc
        sequence, position = record.sequence, record.position
    return sequence, position


def _positioned(exc: Exception) -> bool:
    # An aggregate's own CorruptRecordError (an unknown record type) rarely knows the
    # position, so it is wrapped to name it; one that already names it passes unchanged.
    return isinstance(exc, CorruptRecordError) and exc.position is not None


class Persisted(Generic[A]):
    """An aggregate bound to its stream: records its changes, knows its version.

    Changes are serialized by [`lock`][agentic.store.Persisted.lock]. A change is
    applied to the aggregate first (so the aggregate's own checks run), then appended
    with the version as the expected sequence. If the append fails (another writer
    got there first, or the disk failed), the aggregate is rebuilt from the store and
    the error raised: the in-memory state never stays ahead of the log.
    """

    def __init__(self, repository: Repository, aggregate: A) -> None:
        """Bind `aggregate` (in its initial state) to `repository`; call `refresh()` next."""
        self.repository = repository
        """The repository that loaded the aggregate."""
        self.aggregate = aggregate
        """The aggregate."""
        self.version = 0
        """The last stream sequence number folded into the aggregate."""
        self.position = 0
        """The global position of that record."""
        self.lock = threading.RLock()
        """Held while a change is applied and appended."""
        self._initial = aggregate.snapshot_state()
        self._since_snapshot = 0

    @property
    def stream_id(self) -> str:
        """The aggregate's stream."""
        return self.aggregate.stream_id

    def record(
        self,
        record_type: str,
        payload: dict[str, Any],
        *,
        applied: bool = False,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        """Apply one change and append it.

        Args:
            record_type: The change's name.
            payload: Its facts.
            applied: The caller has already made the change (holding `lock`), so do
                not apply it again.
            correlation_id: Passed to the record.
            causation_id: Passed to the record.
            idempotency_key: Passed to the record.

        Raises:
            ConcurrencyError: Another writer appended to the stream first (the
                aggregate is reloaded with their records).
        """
        new = NewRecord(record_type, payload, correlation_id, causation_id, idempotency_key)
        return self.record_many([new], applied=applied)

    def record_many(
        self,
        records: Sequence[NewRecord],
        *,
        applied: bool = False,
        guards: Iterable[Persisted[Any]] = (),
    ) -> AppendResult:
        """Apply several changes and append them in one atomic append.

        If every record carries an idempotency key already stored (a re-send, e.g. of a
        redelivered message), nothing is appended and the aggregate is rebuilt from the
        store, so it holds each change once; the result has `deduplicated=True`.

        Args:
            records: The changes.
            applied: The caller has already made them (holding `lock`).
            guards: Other aggregates the change was checked against: in the same
                transaction, each stream must still be at the version its aggregate
                holds, or nothing is written (`ConcurrencyError`).
        """
        store = self.repository.store
        checks = [
            AppendRequest(guard.stream_id, [], expected_sequence=guard.version)
            for guard in guards
            if guard is not self
        ]
        with self.changing():
            done = 0
            try:
                if not applied:
                    for record in records:
                        self.aggregate.apply(record.type, record.payload)
                        done += 1
                if checks:
                    own = AppendRequest(self.stream_id, records, expected_sequence=self.version)
                    result = store.append_many([own, *checks])[0]
                else:
                    result = store.append(self.stream_id, records, expected_sequence=self.version)
            except BaseException:
                if applied or done:
                    self.reload()  # the aggregate got ahead of the log: take it back
                raise
            if result.deduplicated:
                # A re-send: the log holds these changes already, and the aggregate now
                # holds them once more (and its version would go back to theirs). Take
                # it back to the log; no snapshot, no count towards the next one.
                self.reload()
                return result
            if result.sequences:
                self.version, self.position = result.last_sequence, result.last_position
                self._since_snapshot += len(result.sequences)
                every = self.repository.snapshot_every
                if every is not None and self._since_snapshot >= every:
                    self._auto_snapshot()
            return result

    @contextmanager
    def changing(self) -> Iterator[None]:
        """Hold `lock` for one change; refuse it at once if the store is closed.

        A change made in memory and then refused by a closed store could not be taken
        back (the store cannot be read to rebuild the aggregate), so it is refused
        before anything changes.

        Raises:
            StoreClosedError: The store is closed.
        """
        with self.lock:
            if getattr(self.repository.store, "closed", False):
                msg = (
                    f"cannot change {self.stream_id!r}: its event store is closed "
                    "(nothing was changed)"
                )
                raise StoreClosedError(msg)
            yield

    def _auto_snapshot(self) -> None:
        # The change is committed by now: a snapshot that cannot be saved only costs a
        # longer replay later, so it is logged, never raised as if the change had failed
        # (a caller would then retry a change that is already in the log).
        # Not only StoreError: state that is not JSON (SerializationError) or a failing
        # snapshot_state() leaves the committed change just as committed.
        try:
            self.snapshot()
        except Exception:  # noqa: BLE001 - logged with its traceback; the change stands
            _log.warning(
                "automatic snapshot of stream %r at version %d failed; the change is committed",
                self.stream_id,
                self.version,
                exc_info=True,
            )

    def snapshot(self) -> Snapshot | None:
        """Save the aggregate's state as of its version (None if the stream is empty)."""
        with self.lock:
            self._since_snapshot = 0
            if self.version == 0:
                return None
            return self.repository.store.save_snapshot(
                self.stream_id,
                self.version,
                self.aggregate.snapshot_state(),
                type=_kind(self.aggregate),
            )

    def refresh(self, *, use_snapshot: bool = False) -> int:
        """Apply records other writers appended since the last one folded in.

        Returns:
            How many records were applied (a snapshot counts as its records).
        """
        with self.lock:
            before = self.version
            sequence, position = _fold(
                self.repository.store,
                self.aggregate,
                self.version,
                None,
                use_snapshot=use_snapshot,
            )
            if sequence != before:
                self.version, self.position = sequence, position
            return self.version - before

    def reload(self) -> None:
        """Rebuild the aggregate from the store: latest snapshot, then the tail.

        If the store cannot be read (closed, failing), the aggregate is put back as it
        was and the error raised: a failed rebuild never leaves it empty.
        """
        with self.lock:
            version, position = self.version, self.position
            try:
                before: dict[str, Any] | None = self.aggregate.snapshot_state()
            except Exception:  # noqa: BLE001 - no way back then, but the rebuild still runs
                before = None
            try:
                self.aggregate.restore(self._initial)
                self.version = self.position = 0
                self.refresh(use_snapshot=True)
            except BaseException:
                if before is not None:
                    self.aggregate.restore(before)
                    self.version, self.position = version, position
                raise

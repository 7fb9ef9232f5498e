"""PersistentProgression: a Progression whose every change is a record in its stream."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID, uuid4

from agentic.primitives import Progression, to_id
from agentic.store._aggregate import Persisted, Repository
from agentic.store._errors import ConcurrencyError, CorruptRecordError
from agentic.store._protocol import EventStore
from agentic.store._record import NewRecord, Snapshot

__all__ = ["PersistentProgression"]

CREATED = "progression.created"


class PersistentProgression(Progression):
    """A [`Progression`][agentic.primitives.Progression] kept in an event store.

    Every change (`append`, `extend`, `include`, `insert`, `remove`, `exclude`, `pop`,
    `popleft`, `clear`, `move`, `swap`, `reverse`) is appended to the progression's
    stream before the method returns; reopening replays it into an equal
    progression. Unlike a plain Progression, changes are serialized by a lock, so
    several threads may change one; reads are not locked (take `persisted.lock`
    to read a consistent view while others write).
    """

    __slots__ = ("_persisted", "_stream_id")

    def __init__(
        self,
        stream_id: str,
        *,
        name: str | None = None,
        id: UUID | None = None,  # noqa: A002 - the field is called id everywhere
    ) -> None:
        """Create the in-memory side only; use `open()`."""
        self._persisted: Persisted[PersistentProgression] | None = None
        self._stream_id = stream_id
        super().__init__(name=name, id=id)

    @classmethod
    def open(
        cls,
        store: EventStore | Repository,
        stream_id: str,
        *,
        name: str | None = None,
        use_snapshot: bool = True,
    ) -> PersistentProgression:
        """Open the progression kept in `stream_id`, creating it (named `name`) if new.

        Raises:
            CorruptRecordError: The stream does not hold a progression, or cannot be read.
        """
        repository = store if isinstance(store, Repository) else Repository(store)
        created = next(iter(repository.store.read(stream_id, 1, to_sequence=1)), None)
        if created is None:
            config = {"id": str(uuid4()), "name": name}
            # Another writer may create it first: then use theirs.
            with contextlib.suppress(ConcurrencyError):
                repository.store.append(
                    stream_id, [NewRecord(CREATED, config)], expected_sequence=0
                )
            created = next(iter(repository.store.read(stream_id, 1, to_sequence=1)))
        if created.type != CREATED:
            msg = (
                f"stream {stream_id!r} does not hold a progression "
                f"(it starts with {created.type!r})"
            )
            raise CorruptRecordError(msg, position=created.position)
        try:
            name, ident = created.payload["name"], UUID(created.payload["id"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = f"progression stream {stream_id!r} has a malformed {CREATED!r} record: {exc!r}"
            raise CorruptRecordError(msg, position=created.position) from exc
        progression = cls(stream_id, name=name, id=ident)
        progression._persisted = repository.load(progression, use_snapshot=use_snapshot)
        return progression

    # -- the Aggregate protocol ---------------------------------------------------------

    @property
    def stream_id(self) -> str:
        """The stream that holds the progression's records."""
        return self._stream_id

    @property
    def persisted(self) -> Persisted[PersistentProgression]:
        """The handle that records changes (version, snapshot, refresh)."""
        if self._persisted is None:
            msg = f"progression {self._stream_id!r} is not open; use PersistentProgression.open()"
            raise RuntimeError(msg)
        return self._persisted

    def apply(self, record_type: str, payload: dict[str, Any]) -> None:
        """Replay one record (called by the Repository; does not append)."""
        base = Progression
        if record_type == "progression.extend":
            base.extend(self, [UUID(key) for key in payload["ids"]])
        elif record_type == "progression.remove":
            base.remove(self, UUID(payload["id"]))
        elif record_type == "progression.insert":
            base.insert(self, payload["index"], UUID(payload["id"]))
        elif record_type == "progression.move":
            base.move(self, UUID(payload["id"]), payload["index"])
        elif record_type == "progression.swap":
            base.swap(self, payload["i"], payload["j"])
        elif record_type == "progression.reverse":
            base.reverse(self)
        elif record_type == "progression.clear":
            base.clear(self)
        elif record_type == CREATED:
            if payload.get("id") != str(self.id):
                msg = f"stream {self._stream_id!r} was created for progression {payload.get('id')}"
                raise CorruptRecordError(msg)
        else:
            msg = (
                f"progression stream {self._stream_id!r} holds an unknown record type "
                f"{record_type!r}"
            )
            raise CorruptRecordError(msg)

    def snapshot_state(self) -> dict[str, Any]:
        """Return the progression as a JSON object (`Progression.to_dict()`)."""
        return self.to_dict()

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the order by that of a `snapshot_state()` document."""
        if state.get("id") != str(self.id):
            msg = f"snapshot of {self._stream_id!r} is of progression {state.get('id')}"
            raise CorruptRecordError(msg)
        Progression.clear(self)
        Progression.extend(self, [UUID(key) for key in state["order"]])

    def snapshot(self) -> Snapshot | None:
        """Save a snapshot now, so the next open replays only what comes after."""
        return self.persisted.snapshot()

    # -- recorded changes ---------------------------------------------------------------

    def _lock(self) -> AbstractContextManager[None]:
        return self.persisted.changing()

    def append(self, item: Any) -> None:
        """Add `item` at the end; see `Progression.append`."""
        with self._lock():
            key = to_id(item)
            super().append(key)
            self._record("progression.extend", {"ids": [str(key)]})

    def extend(self, items: Iterable[Any]) -> None:
        """Add ids at the end, all or nothing; see `Progression.extend`."""
        if self._persisted is None:
            super().extend(items)  # the constructor's call
            return
        with self._lock():
            keys = [to_id(item) for item in items]
            super().extend(keys)
            if keys:
                self._record("progression.extend", {"ids": [str(key) for key in keys]})

    def include(self, item: Any) -> bool:
        """Add `item` at the end unless present; see `Progression.include`."""
        with self._lock():
            key = to_id(item)
            added = super().include(key)
            if added:
                self._record("progression.extend", {"ids": [str(key)]})
            return added

    def insert(self, index: int, item: Any) -> None:
        """Insert `item` before position `index`; see `Progression.insert`."""
        with self._lock():
            key = to_id(item)
            super().insert(index, key)
            self._record("progression.insert", {"index": index, "id": str(key)})

    def remove(self, item: Any) -> None:
        """Remove `item`; see `Progression.remove`."""
        with self._lock():
            key = to_id(item)
            super().remove(key)
            self._record("progression.remove", {"id": str(key)})

    def exclude(self, item: Any) -> bool:
        """Remove `item` if present; see `Progression.exclude`."""
        with self._lock():
            try:
                key = to_id(item)
            except KeyError:
                return False
            removed = super().exclude(key)
            if removed:
                self._record("progression.remove", {"id": str(key)})
            return removed

    def pop(self, index: int = -1) -> UUID:
        """Remove and return the id at `index`; see `Progression.pop`."""
        with self._lock():
            key = super().pop(index)
            self._record("progression.remove", {"id": str(key)})
            return key

    def popleft(self) -> UUID:
        """Remove and return the first id; see `Progression.popleft`."""
        return self.pop(0)

    def clear(self) -> None:
        """Remove every id; see `Progression.clear`."""
        with self._lock():
            if len(self):
                super().clear()
                self._record("progression.clear", {})

    def move(self, item: Any, index: int) -> None:
        """Move `item` to position `index`; see `Progression.move`."""
        with self._lock():
            key = to_id(item)
            super().move(key, index)
            self._record("progression.move", {"id": str(key), "index": index})

    def swap(self, i: int, j: int) -> None:
        """Exchange the ids at positions `i` and `j`; see `Progression.swap`."""
        with self._lock():
            super().swap(i, j)
            self._record("progression.swap", {"i": i, "j": j})

    def reverse(self) -> None:
        """Reverse the order; see `Progression.reverse`."""
        with self._lock():
            super().reverse()
            if len(self) > 1:
                self._record("progression.reverse", {})

    def _record(self, record_type: str, payload: dict[str, Any]) -> None:
        self.persisted.record(record_type, payload, applied=True)

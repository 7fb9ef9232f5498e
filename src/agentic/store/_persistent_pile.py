"""PersistentPile: a Pile whose every change is a record in its own stream."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, TypeVar, overload
from uuid import UUID, uuid4

from agentic.errors import AgenticError, ItemTypeError
from agentic.primitives import Element, Pile, lookup_type, to_id
from agentic.store._aggregate import Persisted, Repository
from agentic.store._errors import ConcurrencyError, CorruptRecordError
from agentic.store._protocol import EventStore
from agentic.store._record import NewRecord, Snapshot

__all__ = ["PersistentPile"]

E = TypeVar("E", bound=Element)
F = TypeVar("F", bound=Element)
T = TypeVar("T")

_NO_DEFAULT: Any = object()

CREATED = "pile.created"


def _repository(store: EventStore | Repository) -> Repository:
    return store if isinstance(store, Repository) else Repository(store)


class PersistentPile(Pile[E]):
    """A [`Pile`][agentic.primitives.Pile] kept in an event store.

    Every change (`include`, `insert`, `update`, `remove`, `exclude`, `pop`, `move`,
    `clear`) is appended to the pile's stream before the method returns; reopening
    the stream replays them (from the latest snapshot) into an equal pile, with each
    item's Element subclass intact. A change that changes nothing appends nothing.

    Changes are serialized by the pile's persistence lock. The change is made first
    (so the Pile's own checks run) and then appended; readers in this process may see
    it a moment before it is durable. If the append fails, the pile is rebuilt from
    the store and the error raised. Change items through `update()`: mutating an item
    in place is not recorded.

    Example:
        >>> pile = PersistentPile.open(store, "inbox", item_type=Note)  # doctest: +SKIP
        >>> pile.include(Note(text="hi"))  # one record, committed on return  # doctest: +SKIP
    """

    __slots__ = ("_persisted", "_stream_id")

    def __init__(
        self,
        stream_id: str,
        *,
        item_type: type[E],
        strict: bool = False,
        name: str | None = None,
        id: UUID | None = None,  # noqa: A002 - the field is called id everywhere
    ) -> None:
        """Create the in-memory side only; use [`open()`][agentic.store.PersistentPile.open]."""
        self._persisted: Persisted[PersistentPile[E]] | None = None
        self._stream_id = stream_id
        super().__init__(item_type=item_type, strict=strict, name=name, id=id)

    @overload
    @classmethod
    def open(
        cls,
        store: EventStore | Repository,
        stream_id: str,
        *,
        item_type: None = None,
        strict: bool = False,
        name: str | None = None,
        use_snapshot: bool = True,
    ) -> PersistentPile[Element]: ...
    @overload
    @classmethod
    def open(
        cls,
        store: EventStore | Repository,
        stream_id: str,
        *,
        item_type: type[F],
        strict: bool = False,
        name: str | None = None,
        use_snapshot: bool = True,
    ) -> PersistentPile[F]: ...
    @classmethod
    def open(
        cls,
        store: EventStore | Repository,
        stream_id: str,
        *,
        item_type: type[Any] | None = None,
        strict: bool = False,
        name: str | None = None,
        use_snapshot: bool = True,
    ) -> PersistentPile[Any]:
        """Open the pile kept in `stream_id`, creating it (with these settings) if new.

        Args:
            store: The event store, or a Repository (for its snapshot policy).
            stream_id: The pile's stream.
            item_type: The item type of a new pile; for an existing one, if given,
                it must match the stored one.
            strict: Strictness of a new pile.
            name: Name of a new pile.
            use_snapshot: Load from the latest snapshot (else replay everything).

        Raises:
            ItemTypeError: `item_type` differs from the stored pile's.
            CorruptRecordError: The stream does not hold a pile, or cannot be read.
        """
        repository = _repository(store)
        created = next(iter(repository.store.read(stream_id, 1, to_sequence=1)), None)
        if created is None:
            config = {
                "id": str(uuid4()),
                "item_type": (item_type or Element).type_name,
                "strict": strict,
                "name": name,
            }
            # Another writer may create it first: then use theirs.
            with contextlib.suppress(ConcurrencyError):
                repository.store.append(
                    stream_id, [NewRecord(CREATED, config)], expected_sequence=0
                )
            created = next(iter(repository.store.read(stream_id, 1, to_sequence=1)))
        if created.type != CREATED:
            msg = f"stream {stream_id!r} does not hold a pile (it starts with {created.type!r})"
            raise CorruptRecordError(msg, position=created.position)
        try:
            config = created.payload
            stored = lookup_type(config["item_type"])
            strict, name, ident = bool(config["strict"]), config["name"], UUID(config["id"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, AgenticError):
                raise
            msg = f"pile stream {stream_id!r} has a malformed {CREATED!r} record: {exc!r}"
            raise CorruptRecordError(msg, position=created.position) from exc
        if item_type is not None and item_type is not stored:
            msg = (
                f"pile stream {stream_id!r} holds {stored.type_name!r} items, "
                f"not {item_type.type_name!r}"
            )
            raise ItemTypeError(msg, expected=stored, actual=item_type)
        pile: PersistentPile[Any] = cls(
            stream_id,
            item_type=stored,  # type: ignore[arg-type]
            strict=strict,
            name=name,
            id=ident,
        )
        pile._persisted = repository.load(pile, use_snapshot=use_snapshot)
        return pile

    # -- the Aggregate protocol -----------------------------------------------------

    @property
    def stream_id(self) -> str:
        """The stream that holds the pile's records."""
        return self._stream_id

    @property
    def persisted(self) -> Persisted[PersistentPile[E]]:
        """The handle that records changes (version, snapshot, refresh)."""
        if self._persisted is None:
            msg = f"pile {self._stream_id!r} is not open; use PersistentPile.open()"
            raise RuntimeError(msg)
        return self._persisted

    def apply(self, record_type: str, payload: dict[str, Any]) -> None:
        """Replay one record (called by the Repository; does not append)."""
        if record_type == "pile.include":
            Pile.include(self, self._items_of(payload))
        elif record_type == "pile.remove":
            Pile.remove(self, [UUID(key) for key in payload["ids"]])
        elif record_type == "pile.insert":
            Pile.insert(self, payload["index"], self._items_of(payload))
        elif record_type == "pile.update":
            Pile.update(self, self._items_of(payload))
        elif record_type == "pile.move":
            Pile.move(self, UUID(payload["id"]), payload["index"])
        elif record_type == "pile.clear":
            Pile.clear(self)
        elif record_type == CREATED:
            if payload.get("id") != str(self.id):
                msg = f"stream {self._stream_id!r} was created for pile {payload.get('id')}"
                raise CorruptRecordError(msg)
        else:
            msg = f"pile stream {self._stream_id!r} holds an unknown record type {record_type!r}"
            raise CorruptRecordError(msg)

    def snapshot_state(self) -> dict[str, Any]:
        """Return the pile as a JSON object (`Pile.to_dict()`)."""
        return self.to_dict()

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the items by those of a `snapshot_state()` document."""
        if state.get("id") != str(self.id):
            msg = f"snapshot of {self._stream_id!r} is of pile {state.get('id')}, not {self.id}"
            raise CorruptRecordError(msg)
        items = self._items_of(state)
        Pile.clear(self)
        Pile.include(self, items)

    def snapshot(self) -> Snapshot | None:
        """Save a snapshot now, so the next open replays only what comes after."""
        return self.persisted.snapshot()

    # -- recorded changes -----------------------------------------------------------

    def include(self, items: E | Iterable[E]) -> None:
        """Add items at the end, skipping ids already present; see `Pile.include`."""
        persisted = self._persisted
        if persisted is None:
            super().include(items)
            return
        with persisted.changing():
            batch = self._batch(items)
            new: dict[UUID, Any] = {}
            for item in batch:
                if isinstance(item, Element) and item.id not in self:
                    new.setdefault(item.id, item)
            super().include(batch)
            if new:
                payload = {"items": _dicts(list(new.values()))}
                persisted.record("pile.include", payload, applied=True)

    def insert(self, index: int, items: E | Iterable[E]) -> None:
        """Insert items before position `index`; see `Pile.insert`."""
        with self.persisted.changing():
            batch = self._batch(items)
            super().insert(index, batch)
            if batch:
                payload = {"index": index, "items": _dicts(batch)}
                self.persisted.record("pile.insert", payload, applied=True)

    def update(self, items: E | Iterable[E]) -> None:
        """Replace items by id (keeping their place), adding the rest; see `Pile.update`."""
        with self.persisted.changing():
            batch = self._batch(items)
            super().update(batch)
            if batch:
                self.persisted.record("pile.update", {"items": _dicts(batch)}, applied=True)

    def remove(self, items: Any) -> None:
        """Remove items, all or none; see `Pile.remove`."""
        with self.persisted.changing():
            keys = _keys(items, skip_invalid=False)
            super().remove(keys)
            if keys:
                self._record_removal(keys)

    def exclude(self, items: Any) -> int:
        """Remove the items present, ignoring the rest; see `Pile.exclude`."""
        with self.persisted.changing():
            keys = [key for key in _keys(items, skip_invalid=True) if key in self]
            removed = super().exclude(keys)
            if removed:
                self._record_removal(keys)
            return removed

    def pop(self, key: Any = -1, default: Any = _NO_DEFAULT) -> Any:
        """Remove and return an item by position or id; see `Pile.pop`."""
        with self.persisted.changing():
            size = len(self)
            item = super().pop(key) if default is _NO_DEFAULT else super().pop(key, default)
            if len(self) < size:
                self._record_removal([item.id])
            return item

    def clear(self) -> None:
        """Remove every item; see `Pile.clear`."""
        with self.persisted.changing():
            if len(self):
                super().clear()
                self.persisted.record("pile.clear", {}, applied=True)

    def move(self, key: Any, index: int) -> None:
        """Move an item to position `index`; see `Pile.move`."""
        with self.persisted.changing():
            ident = to_id(key)
            super().move(ident, index)
            payload = {"id": str(ident), "index": index}
            self.persisted.record("pile.move", payload, applied=True)

    # -- internals --------------------------------------------------------------------

    def _batch(self, items: Any) -> list[Any]:
        if isinstance(items, Element):
            return [items]
        if not isinstance(items, Iterable):
            Pile.include(self, items)  # raises the Pile's own error for a non-item
        return list(items)

    def _record_removal(self, keys: list[UUID]) -> None:
        payload = {"ids": [str(key) for key in keys]}
        self.persisted.record("pile.remove", payload, applied=True)

    def _items_of(self, payload: dict[str, Any]) -> list[E]:
        item_type = self.item_type
        return [item_type.from_dict(data) for data in payload["items"]]


def _dicts(items: list[Any]) -> list[dict[str, Any]]:
    return [item.to_dict() for item in items]


def _keys(items: Any, *, skip_invalid: bool) -> list[UUID]:
    if isinstance(items, (Element, UUID, str)):
        items = [items]
    elif isinstance(items, Pile):
        return items.keys()
    keys: dict[UUID, None] = {}
    for item in items:
        try:
            keys[to_id(item)] = None
        except KeyError:
            if not skip_invalid:
                raise
    return list(keys)

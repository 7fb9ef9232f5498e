"""Pile: a thread-safe, ordered, typed collection of Elements keyed by id."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any, Generic, TypeVar, cast, get_args, overload
from uuid import UUID, uuid4

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from agentic.errors import (
    ElementExistsError,
    ElementNotFoundError,
    ItemTypeError,
    ProgressionIndexError,
    SerializationError,
)
from agentic.primitives import _codec
from agentic.primitives._registry import lookup_type
from agentic.primitives.element import TYPE_KEY, Element, to_id
from agentic.primitives.progression import Progression

__all__ = ["Pile"]

E = TypeVar("E", bound=Element)
F = TypeVar("F", bound=Element)
T = TypeVar("T")

_MISSING: Any = object()
_INT = attrgetter("int")


def _int_key(value: Any) -> int:
    """Return the 128-bit int of the id that `value` names.

    A canonical UUID string (36 characters, dashes at 8, 13, 18, 23) is read
    directly, without building a UUID; anything else goes through `to_id()`.

    Raises:
        ElementNotFoundError: `value` names no id.
    """
    if (
        value.__class__ is str
        and len(value) == 36  # noqa: PLR2004 - the length of a canonical UUID string
        and value[8] == value[13] == value[18] == value[23] == "-"
    ):
        digits = value.replace("-", "")
        # isalnum() rules out what int() would forgive: signs, "_", spaces, "0x".
        if len(digits) == 32 and digits.isascii() and digits.isalnum():  # noqa: PLR2004
            try:
                return int(digits, 16)
            except ValueError:
                pass
    return to_id(value).int


class Pile(Generic[E]):
    """Elements keyed by id, kept in an order of their own, restricted to one item type.

    * **Typed**: every item is an instance of `item_type` (or exactly that type when
      `strict`); anything else raises [`ItemTypeError`][agentic.errors.ItemTypeError].
    * **Ordered**: the pile keeps a [`Progression`][agentic.primitives.Progression] of
      its ids. `pile[0]` is the first item, `pile[progression]` the items in another
      progression's order.
    * **Thread-safe**: every operation holds the pile's lock for a short, bounded
      stretch (no I/O, no callbacks but the `filter` predicate, which runs on a
      snapshot); a lookup by id takes no lock at all. Iteration walks a snapshot
      taken at its start, so it is consistent while other threads write; readers
      share that snapshot until the next write. The same lock serves asyncio code:
      critical sections are short enough not to hold up an event loop.
    * **All or nothing**: a bulk operation checks everything before it changes
      anything.

    Example:
        >>> pile = Pile(item_type=Element)
        >>> a, b = Element(), Element()
        >>> pile.include([a, b])
        >>> pile[0] is a, pile[b.id] is b, str(a.id) in pile
        (True, True, True)
    """

    __slots__ = (
        "_by_rank",
        "_id",
        "_item_type",
        "_items",
        "_lock",
        "_order",
        "_snapshot",
        "_strict",
        "name",
    )

    @overload
    def __init__(
        self: Pile[Element],
        items: Iterable[Element] = (),
        *,
        item_type: None = None,
        strict: bool = False,
        name: str | None = None,
        id: UUID | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        items: Iterable[E] = (),
        *,
        item_type: type[E],
        strict: bool = False,
        name: str | None = None,
        id: UUID | None = None,
    ) -> None: ...
    def __init__(
        self,
        items: Iterable[Any] = (),
        *,
        item_type: type[Any] | None = None,
        strict: bool = False,
        name: str | None = None,
        id: UUID | None = None,  # noqa: A002 - the field is called id everywhere
    ) -> None:
        """Create a pile.

        Args:
            items: Initial items, in order.
            item_type: The Element class the pile holds (default: `Element`).
            strict: Accept only `item_type` itself, not its subclasses.
            name: An optional label.
            id: The pile's identity (new by default).

        Raises:
            ItemTypeError: An item is not of the item type, or `item_type` is not an
                Element class.
            ElementExistsError: Two items share an id.
        """
        item_type = Element if item_type is None else item_type
        if not (isinstance(item_type, type) and issubclass(item_type, Element)):
            msg = f"a pile's item type must be an Element subclass, not {item_type!r}"
            raise ItemTypeError(msg, expected=Element, actual=item_type)
        self._id = id or uuid4()
        self.name = name
        """An optional label for the pile."""
        self._item_type: type[E] = cast("type[E]", item_type)
        self._strict = strict
        self._lock = threading.RLock()
        # Keyed by the id's 128-bit int, not the UUID: an int hashes in C, while
        # UUID.__hash__ is a Python call, and every lookup, include and iteration
        # step hashes a key (this halves the cost of a lookup by id).
        self._items: dict[int, E] = {}
        self._order = Progression(name=name)
        # The items again, keyed by their rank in `_order`: walking the order's sorted
        # ranks through this dict builds a snapshot about 5x faster than going through
        # the ids (the ranks are small floats laid out together; the ids are scattered).
        self._by_rank: dict[float, E] = {}
        # The items in order, built on the first read after a write and shared by every
        # reader until the next write; never mutated, so iterations can hold on to it.
        self._snapshot: list[E] | None = None
        self.include(self._checked_new(items))

    # -- identity and configuration ---------------------------------------------

    @property
    def id(self) -> UUID:
        """The identity of the pile."""
        return self._id

    @property
    def item_type(self) -> type[E]:
        """The Element class the pile accepts."""
        return self._item_type

    @property
    def strict(self) -> bool:
        """Whether only `item_type` itself (no subclass) is accepted."""
        return self._strict

    @property
    def order(self) -> Progression:
        """A copy of the pile's order (changing it does not change the pile)."""
        with self._lock:
            return Progression(self._order, name=self._order.name, id=self._order.id)

    # -- reading ------------------------------------------------------------------

    def __len__(self) -> int:
        """Return the number of items."""
        return len(self._items)

    def __bool__(self) -> bool:
        """Return whether the pile holds anything."""
        return bool(self._items)

    def __contains__(self, item: object) -> bool:
        """Return whether an Element, UUID or UUID string names an item of the pile."""
        if item.__class__ is UUID:
            return item.int in self._items
        try:
            return _int_key(item) in self._items
        except KeyError:
            return False

    def __iter__(self) -> Iterator[E]:
        """Iterate, in order, over a snapshot taken now."""
        return iter(self._view())

    def keys(self) -> list[UUID]:
        """Return the ids in order (a snapshot)."""
        with self._lock:
            return self._order.ids()

    def values(self) -> list[E]:
        """Return the items in order (a snapshot)."""
        return list(self._view())

    def _view(self) -> list[E]:
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                snapshot = self._snapshot
                if snapshot is None:
                    ranks = self._order._by_rank  # noqa: SLF001
                    snapshot = self._snapshot = list(map(self._by_rank.__getitem__, ranks))
        return snapshot

    def items(self) -> list[tuple[UUID, E]]:
        """Return `(id, item)` pairs in order (a snapshot)."""
        with self._lock:
            keys = self._order.ids()
            values = map(self._items.__getitem__, map(_INT, keys))
            return list(zip(keys, values, strict=True))

    @overload
    def __getitem__(self, key: int) -> E: ...
    @overload
    def __getitem__(self, key: slice) -> list[E]: ...
    @overload
    def __getitem__(self, key: Progression) -> list[E]: ...
    @overload
    def __getitem__(self, key: UUID | str | Element) -> E: ...
    def __getitem__(self, key: int | slice | Progression | UUID | str | Element) -> E | list[E]:
        """Look up by id (Element, UUID or string), position, slice, or Progression.

        A lookup by id reads one dict entry and takes no lock (the read is atomic);
        the others hold the pile's lock while they read.

        Raises:
            ElementNotFoundError: No item has this id (a `KeyError`).
            ProgressionIndexError: The position is out of range (an `IndexError`).
        """
        kind = key.__class__
        if kind is UUID:
            try:
                return self._items[key.int]  # type: ignore[union-attr]
            except KeyError:
                raise self._not_found(key) from None  # type: ignore[arg-type]
        if kind is str:
            try:
                return self._items[_int_key(key)]
            except KeyError:
                raise self._not_found(to_id(key)) from None
        with self._lock:
            if isinstance(key, int):
                try:
                    return self._items[self._order[key].int]
                except ProgressionIndexError:
                    msg = f"position {key} is out of range for {self._describe()}"
                    raise ProgressionIndexError(msg) from None
            if isinstance(key, slice):
                keys = map(_INT, self._order._slice(key))  # noqa: SLF001
                return list(map(self._items.__getitem__, keys))
            if isinstance(key, Progression):
                return [self._get(k) for k in key]
            return self._get(to_id(key))

    @overload
    def get(self, key: Any) -> E | None: ...
    @overload
    def get(self, key: Any, default: T) -> E | T: ...
    def get(self, key: Any, default: Any = None) -> Any:
        """Return the item with this id (or at this position), else `default`."""
        try:
            found: E = self[key]
        except (KeyError, IndexError):
            return default
        return found

    def index(self, key: Any) -> int:
        """Return the position of the item with this id.

        Raises:
            ElementNotFoundError: No item has this id.
        """
        with self._lock:
            ident = to_id(key)
            if ident.int not in self._items:
                raise self._not_found(ident)
            return self._order.index(ident)

    def filter(self, predicate: Callable[[E], bool]) -> Pile[E]:
        """Return a new pile of the items for which `predicate` is true, in order.

        The predicate runs on a snapshot, outside the lock.
        """
        return self._derive(item for item in self.values() if predicate(item))

    def of_type(self, item_type: type[F], *, strict: bool = False) -> Pile[F]:
        """Return a new pile of the items that are instances of `item_type`, in order."""
        chosen = [
            cast("F", item)
            for item in self.values()
            if (type(item) is item_type if strict else isinstance(item, item_type))
        ]
        return Pile(chosen, item_type=item_type, strict=strict)

    # -- writing ------------------------------------------------------------------

    def include(self, items: E | Iterable[E]) -> None:
        """Add one item or many at the end, skipping ids already present.

        All or nothing: if any item has the wrong type, nothing is added.

        Raises:
            ItemTypeError: An item is not of the pile's item type.
        """
        if isinstance(items, Element):
            self._check_type(items)
            ident = items.id
            key = ident.int
            with self._lock:
                if key not in self._items:
                    self._items[key] = items
                    self._by_rank[self._order._push(ident)] = items  # noqa: SLF001 - owns it
                    self._snapshot = None
            return
        batch = self._checked(items)
        with self._lock:
            self._snapshot = None
            for item in batch:
                ident = item.id
                if ident.int not in self._items:
                    self._items[ident.int] = item
                    self._by_rank[self._order._push(ident)] = item  # noqa: SLF001

    def insert(self, index: int, items: E | Iterable[E]) -> None:
        """Insert one item or many before position `index`.

        Raises:
            ItemTypeError: An item is not of the pile's item type.
            ElementExistsError: An item's id is already present (or repeated).
        """
        batch = self._checked_new([items] if isinstance(items, Element) else items)
        with self._lock:
            for item in batch:
                if item.id.int in self._items:
                    raise self._exists(item.id)
            # Resolve the position once, as list slice assignment does, so a batch keeps
            # its own order wherever it goes (a clamped negative index included).
            self._snapshot = None
            size = len(self._items)
            start = max(0, index + size) if index < 0 else min(index, size)
            order = self._order
            ranks = order._by_rank  # noqa: SLF001
            for offset, item in enumerate(batch):
                order.insert(start + offset, item.id)
                self._items[item.id.int] = item
                self._by_rank[order._rank(item.id)] = item  # noqa: SLF001
            if order._by_rank is not ranks:  # noqa: SLF001 - the order renumbered its ranks
                self._reindex()

    def update(self, items: E | Iterable[E]) -> None:
        """Replace items whose id is present (keeping their position); add the rest.

        Raises:
            ItemTypeError: An item is not of the pile's item type.
        """
        batch = self._checked([items] if isinstance(items, Element) else items)
        with self._lock:
            self._snapshot = None
            for item in batch:
                ident = item.id
                if ident.int not in self._items:
                    self._by_rank[self._order._push(ident)] = item  # noqa: SLF001
                else:
                    self._by_rank[self._order._rank(ident)] = item  # noqa: SLF001
                self._items[ident.int] = item

    def remove(self, items: Any) -> None:
        """Remove one item or many, by Element, UUID or UUID string.

        Raises:
            ElementNotFoundError: One of them is not in the pile (nothing is removed).
        """
        keys = self._keys_of(items)
        with self._lock:
            for key in keys:
                if key.int not in self._items:
                    raise self._not_found(key)
            self._snapshot = None
            for key in keys:
                del self._items[key.int]
                del self._by_rank[self._order._drop(key)]  # noqa: SLF001

    def exclude(self, items: Any) -> int:
        """Remove the items named, ignoring those not present.

        Returns:
            How many were removed.
        """
        keys = self._keys_of(items, skip_invalid=True)
        removed = 0
        with self._lock:
            for key in keys:
                if self._items.pop(key.int, None) is not None:
                    del self._by_rank[self._order._drop(key)]  # noqa: SLF001
                    self._snapshot = None
                    removed += 1
        return removed

    @overload
    def pop(self, key: Any = -1) -> E: ...
    @overload
    def pop(self, key: Any, default: T) -> E | T: ...
    def pop(self, key: Any = -1, default: Any = _MISSING) -> Any:
        """Remove and return the item at a position or with an id (the last by default).

        Raises:
            ElementNotFoundError: No such item and no default given.
            ProgressionIndexError: No such position and no default given.
        """
        with self._lock:
            try:
                if isinstance(key, int):
                    try:
                        rank, ident = self._order._pop_ranked(key)  # noqa: SLF001
                    except ProgressionIndexError:
                        msg = f"cannot pop position {key} from {self._describe()}"
                        raise ProgressionIndexError(msg) from None
                else:
                    ident = to_id(key)
                    if ident.int not in self._items:
                        raise self._not_found(ident)
                    rank = self._order._drop(ident)  # noqa: SLF001
            except (KeyError, IndexError):
                if default is _MISSING:
                    raise
                return default
            self._snapshot = None
            del self._by_rank[rank]
            return self._items.pop(ident.int)

    def clear(self) -> None:
        """Remove every item."""
        with self._lock:
            self._snapshot = None
            self._items.clear()
            self._by_rank.clear()
            self._order.clear()

    def move(self, key: Any, index: int) -> None:
        """Move an item to position `index`.

        Raises:
            ElementNotFoundError: No item has this id.
            ProgressionIndexError: `index` is out of range.
        """
        with self._lock:
            ident = to_id(key)
            if ident.int not in self._items:
                raise self._not_found(ident)
            order = self._order
            ranks = order._by_rank  # noqa: SLF001
            old = order._rank(ident)  # noqa: SLF001
            order.move(ident, index)
            self._snapshot = None
            if order._by_rank is not ranks:  # noqa: SLF001 - the order renumbered its ranks
                self._reindex()
            else:
                self._by_rank[order._rank(ident)] = self._by_rank.pop(old)  # noqa: SLF001

    # -- set operators ------------------------------------------------------------

    def __or__(self, other: Pile[E]) -> Pile[E]:
        """Return a new pile: these items, then those of `other` not already here."""
        result = self._derive(self.values())
        result.include(other.values())
        return result

    def __and__(self, other: Pile[Any]) -> Pile[E]:
        """Return a new pile of the items also in `other`, in this pile's order."""
        keep = set(other.keys())
        return self._derive(item for item in self.values() if item.id in keep)

    def __sub__(self, other: Pile[Any]) -> Pile[E]:
        """Return a new pile of the items not in `other`, in this pile's order."""
        drop = set(other.keys())
        return self._derive(item for item in self.values() if item.id not in drop)

    def __eq__(self, other: object) -> bool:
        """Piles are equal when id, item type, strictness and ordered items match."""
        if not isinstance(other, Pile):
            return NotImplemented
        return (
            self._id == other._id
            and self._item_type is other._item_type
            and self._strict == other._strict
            and self.values() == other.values()
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle and copy as the items, item type, strictness, name and id (not the lock)."""
        return (_rebuild, (self.values(), self._item_type, self._strict, self.name, self._id))

    def __repr__(self) -> str:
        """Show the item type, size and name."""
        return f"Pile[{self._item_type.type_name}](len={len(self)}, name={self.name!r})"

    # -- serialization ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict: ordered items with their types, item type, strictness."""
        # Take the snapshot under the lock, serialize outside it: writers wait only for
        # the copy of the order, not for every item's model_dump.
        items = [item.to_dict() for item in self.values()]
        return {
            TYPE_KEY: "Pile",
            "id": str(self._id),
            "name": self.name,
            "item_type": self._item_type.type_name,
            "strict": self._strict,
            "items": items,
        }

    def to_json(self) -> bytes:
        """Return the pile as a JSON document."""
        return _codec.dumps(self.to_dict(), what=self._describe())

    @classmethod
    def from_dict(cls, data: Any, *, item_type: type[Element] | None = None) -> Pile[Any]:
        """Rebuild a pile from [`to_dict()`][agentic.primitives.Pile.to_dict].

        The item type and strictness come from the document, so the reloaded pile
        rejects what the original rejected.

        Args:
            data: The document.
            item_type: The item type to expect when the document names none.

        Raises:
            SerializationError: Malformed document, or an id that appears twice.
            UnknownElementTypeError: An item or the item type names no registered class.
            ItemTypeError: An item does not fit the pile's item type.
        """
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            msg = "a pile document must be an object with an 'items' list"
            raise SerializationError(msg)
        type_name = data.get("item_type")
        resolved = lookup_type(type_name) if type_name is not None else (item_type or Element)
        strict = data.get("strict", False)
        if not isinstance(strict, bool):
            msg = f"pile 'strict' must be true or false, not {strict!r}"
            raise SerializationError(msg)
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            msg = f"pile name must be a string, not {type(name).__name__}"
            raise SerializationError(msg)
        try:
            ident = UUID(data["id"]) if data.get("id") is not None else None
        except (ValueError, TypeError, AttributeError) as exc:
            msg = f"invalid pile id {data.get('id')!r}"
            raise SerializationError(msg) from exc
        items = [resolved.from_dict(item) for item in data["items"]]
        try:
            return Pile(items, item_type=resolved, strict=strict, name=name, id=ident)
        except ElementExistsError as exc:
            msg = f"invalid pile document: {exc}"
            raise SerializationError(msg) from exc

    @classmethod
    def from_json(cls, data: bytes | str) -> Pile[Any]:
        """Rebuild a pile from [`to_json()`][agentic.primitives.Pile.to_json]."""
        return cls.from_dict(_codec.loads(data, what="pile document"))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Let a Pile (or `Pile[Message]`) be a field of an Element."""
        args = get_args(source)
        expected: type[Element] = args[0] if args and isinstance(args[0], type) else Element

        def validate(value: Any) -> Pile[Any]:
            pile = value if isinstance(value, Pile) else cls.from_dict(value, item_type=expected)
            if not issubclass(pile.item_type, expected):
                got = pile.item_type.type_name
                msg = f"expected a pile of {expected.type_name!r}, got one of {got!r}"
                raise ItemTypeError(msg, expected=expected, actual=pile.item_type)
            return pile

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.to_dict()
            ),
        )

    # -- internals ----------------------------------------------------------------

    def _describe(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        size = len(self)
        return f"pile{label} of {self._item_type.type_name} ({size} item{'' if size == 1 else 's'})"

    def _reindex(self) -> None:
        items = self._items
        ranks = self._order._by_rank.items()  # noqa: SLF001
        self._by_rank = {rank: items[key.int] for rank, key in ranks}

    def _get(self, key: UUID) -> E:
        try:
            return self._items[key.int]
        except KeyError:
            raise self._not_found(key) from None

    def _not_found(self, key: UUID) -> ElementNotFoundError:
        msg = f"no element with id {key} in {self._describe()}"
        return ElementNotFoundError(msg, key=key)

    def _exists(self, key: UUID) -> ElementExistsError:
        msg = f"an element with id {key} is already in {self._describe()}"
        return ElementExistsError(msg, key=key)

    def _check_type(self, item: Any) -> None:
        expected = self._item_type
        ok = type(item) is expected if self._strict else isinstance(item, expected)
        if not ok:
            kind = "exactly " if self._strict else ""
            got = item.type_name if isinstance(item, Element) else type(item).__name__
            msg = f"{self._describe()} accepts {kind}{expected.type_name!r}, not {got!r}"
            raise ItemTypeError(msg, expected=expected, actual=type(item))

    def _checked(self, items: Iterable[Any]) -> list[E]:
        if not isinstance(items, Iterable):
            self._check_type(items)  # raises: neither an item nor an iterable of items
        batch = list(items)
        for item in batch:
            self._check_type(item)
        return batch

    def _checked_new(self, items: Iterable[Any]) -> list[E]:
        batch = self._checked(items)
        seen: set[UUID] = set()
        for item in batch:
            if item.id in seen:
                raise self._exists(item.id)
            seen.add(item.id)
        return batch

    def _keys_of(self, items: Any, *, skip_invalid: bool = False) -> list[UUID]:
        if isinstance(items, (Element, UUID, str)):
            items = [items]
        elif isinstance(items, Pile):
            return items.keys()
        elif not isinstance(items, Iterable):
            msg = (
                f"{self._describe()} expects an id (Element, UUID or UUID string) "
                f"or an iterable of them, not {type(items).__name__}"
            )
            raise ElementNotFoundError(msg, key=items)
        keys: dict[UUID, None] = {}
        for item in items:
            try:
                keys[to_id(item)] = None
            except KeyError:
                if not skip_invalid:
                    raise
        return list(keys)

    def _derive(self, items: Iterable[E]) -> Pile[E]:
        return Pile(items, item_type=self._item_type, strict=self._strict, name=self.name)


def _rebuild(
    items: list[Any],
    item_type: type[Element],
    strict: bool,  # noqa: FBT001 - pickle passes arguments by position
    name: str | None,
    ident: UUID,
) -> Pile[Any]:
    """Rebuild a pickled (or copied) Pile: a new lock, the same items in the same order."""
    return Pile(items, item_type=item_type, strict=strict, name=name, id=ident)

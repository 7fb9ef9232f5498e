"""Pile: a thread-safe, ordered, typed collection of Elements keyed by id.

This module holds the public operations. Pile's slots, ordered snapshots and checks
live in `_pile_index`, its documents and pydantic hook in `_pile_codec`, its filters
and set operators in `_pile_algebra`; all are Pile's own methods to a caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import Any, TypeVar, cast, overload
from uuid import UUID, uuid4

from agentic.errors import ItemTypeError, ProgressionIndexError
from agentic.primitives._pile_algebra import PileAlgebra
from agentic.primitives._pile_codec import PileCodec
from agentic.primitives._pile_index import int_key
from agentic.primitives.element import Element, to_id
from agentic.primitives.progression import Progression

__all__ = ["Pile"]

E = TypeVar("E", bound=Element)
T = TypeVar("T")

_MISSING: Any = object()
_INT = attrgetter("int")


class Pile(PileAlgebra[E], PileCodec[E]):
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

    __slots__ = ()

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
        self._item_type = cast("type[E]", item_type)
        self._strict = strict
        self._setup()
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
            return int_key(item) in self._items
        except KeyError:
            return False

    def __iter__(self) -> Iterator[E]:
        """Iterate, in order, over a snapshot taken now."""
        return iter(self._view())

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
                return self._items[int_key(key)]
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
            size = len(self._items)
            self._place(max(0, index + size) if index < 0 else min(index, size), batch)

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
            self._relocate(ident, index)

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


def _rebuild(
    items: list[Any],
    item_type: type[Element],
    strict: bool,  # noqa: FBT001 - pickle passes arguments by position
    name: str | None,
    ident: UUID,
) -> Pile[Any]:
    """Rebuild a pickled (or copied) Pile: a new lock, the same items in the same order."""
    return Pile(items, item_type=item_type, strict=strict, name=name, id=ident)

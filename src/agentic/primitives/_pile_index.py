"""The state under every Pile: its id index, its order, its shared snapshot, its checks.

`PileIndex` holds the slots a [`Pile`][agentic.primitives.Pile] keeps its items in and
the helpers that read and check them; `Pile` itself holds the public operations. The
split is for the reader: a Pile is one object, and nothing here is public API.

The index keeps the same items three ways, all changed together under the pile's lock:

* `_items`: by the id's 128-bit int (an int hashes in C; `UUID.__hash__` is a Python
  call, and every lookup, include and iteration step hashes a key);
* `_order`: a [`Progression`][agentic.primitives.Progression] of the ids, which gives
  each id a rank;
* `_by_rank`: by that rank, so that walking the order's sorted ranks builds the ordered
  snapshot at C speed (the ranks are small floats laid out together; the ids are not).

`_snapshot` is the ordered list of items, built on the first read after a write and
shared by every reader until the next write; it is never mutated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from operator import attrgetter
from typing import Any, Generic, TypeVar, get_args
from uuid import UUID

from agentic.errors import ElementExistsError, ElementNotFoundError, ItemTypeError
from agentic.primitives.element import Element, to_id
from agentic.primitives.progression import Progression

__all__ = ["PileIndex", "int_key"]

E = TypeVar("E", bound=Element)

_INT = attrgetter("int")


def int_key(value: Any) -> int:
    """Return the 128-bit int of the id that `value` names.

    A canonical UUID string (36 characters, dashes at 8, 13, 18, 23) is read
    directly, without building a UUID; anything else goes through `to_id()`.

    Raises:
        ElementNotFoundError: `value` names no id.

    Example:
        >>> int_key("00000000-0000-0000-0000-00000000002a")
        42
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


class PileIndex(Generic[E]):
    """The slots of a Pile, its ordered snapshots (`keys()`, `values()`, `items()`), its helpers.

    Only [`Pile`][agentic.primitives.Pile] derives from it (through its mixins); its
    `__init__` fills the slots. Callers hold the pile's lock around anything that
    reads more than one slot.
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

    _by_rank: dict[float, E]
    _id: UUID
    _item_type: type[E]
    _items: dict[int, E]
    _lock: threading.RLock
    _order: Progression
    _snapshot: list[E] | None
    _strict: bool
    name: str | None

    def _setup(self) -> None:
        # Create the lock and the empty index (Pile.__init__ sets the other slots first).
        self._lock = threading.RLock()
        self._items = {}
        self._order = Progression(name=self.name)
        self._by_rank = {}
        self._snapshot = None

    # -- changes of order (under the lock) ----------------------------------------

    def _place(self, start: int, batch: list[E]) -> None:
        # Insert new items at positions start, start + 1, ... (start already clamped).
        self._snapshot = None
        order = self._order
        ranks = order._by_rank  # noqa: SLF001
        for offset, item in enumerate(batch):
            order.insert(start + offset, item.id)
            self._items[item.id.int] = item
            self._by_rank[order._rank(item.id)] = item  # noqa: SLF001
        if order._by_rank is not ranks:  # noqa: SLF001 - the order renumbered its ranks
            self._reindex()

    def _relocate(self, ident: UUID, index: int) -> None:
        # Move a present id to position `index` (raises ProgressionIndexError first).
        order = self._order
        ranks = order._by_rank  # noqa: SLF001
        old = order._rank(ident)  # noqa: SLF001
        order.move(ident, index)
        self._snapshot = None
        if order._by_rank is not ranks:  # noqa: SLF001 - the order renumbered its ranks
            self._reindex()
        else:
            self._by_rank[order._rank(ident)] = self._by_rank.pop(old)  # noqa: SLF001

    def _reindex(self) -> None:
        # Rebuild `_by_rank` after the order renumbered its ranks (under the lock).
        items = self._items
        ranks = self._order._by_rank.items()  # noqa: SLF001
        self._by_rank = {rank: items[key.int] for rank, key in ranks}

    # -- the ordered snapshot -----------------------------------------------------

    def keys(self) -> list[UUID]:
        """Return the ids in order (a snapshot)."""
        with self._lock:
            return self._order.ids()

    def values(self) -> list[E]:
        """Return the items in order (a snapshot)."""
        return list(self._view())

    def items(self) -> list[tuple[UUID, E]]:
        """Return `(id, item)` pairs in order (a snapshot)."""
        with self._lock:
            keys = self._order.ids()
            values = map(self._items.__getitem__, map(_INT, keys))
            return list(zip(keys, values, strict=True))

    def _view(self) -> list[E]:
        # The items in order: the shared snapshot, built here after a write.
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                snapshot = self._snapshot
                if snapshot is None:
                    ranks = self._order._by_rank  # noqa: SLF001
                    snapshot = self._snapshot = list(map(self._by_rank.__getitem__, ranks))
        return snapshot

    def _get(self, key: UUID) -> E:
        try:
            return self._items[key.int]
        except KeyError:
            raise self._not_found(key) from None

    # -- errors -------------------------------------------------------------------

    @property
    def __orig_class__(self) -> Any:
        """The parametrized class `Pile[<item type>]`."""
        parametrized: Any = type(self)
        return parametrized[self._item_type]

    @__orig_class__.setter
    def __orig_class__(self, alias: Any) -> None:
        # `Pile[Note](...)`: typing sets this right after __init__, so the argument
        # becomes the item type of a pile made without one (items already in it must fit).
        args = get_args(alias)
        wanted = args[0] if args else None
        if not (isinstance(wanted, type) and issubclass(wanted, Element)):
            return  # Pile[Any], a TypeVar...: nothing to narrow to
        with self._lock:
            current = self._item_type
            if issubclass(current, wanted):
                return  # as narrow already (an `item_type=` within it)
            if current is not Element:
                msg = f"{self._describe()} cannot be a Pile[{wanted.__name__}]"
                raise ItemTypeError(msg, expected=wanted, actual=current)
            for item in self._items.values():
                if not (type(item) is wanted if self._strict else isinstance(item, wanted)):
                    msg = (
                        f"a Pile[{wanted.__name__}] cannot hold {item.type_name!r} {item.id} "
                        f"(it accepts {'exactly ' if self._strict else ''}{wanted.type_name!r})"
                    )
                    raise ItemTypeError(msg, expected=wanted, actual=type(item))
            self._item_type = wanted  # type: ignore[assignment]  # E is wanted: Pile[wanted]

    def _describe(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        size = len(self._items)
        return f"pile{label} of {self._item_type.type_name} ({size} item{'' if size == 1 else 's'})"

    def _not_found(self, key: UUID) -> ElementNotFoundError:
        msg = f"no element with id {key} in {self._describe()}"
        return ElementNotFoundError(msg, key=key)

    def _exists(self, key: UUID) -> ElementExistsError:
        msg = f"an element with id {key} is already in {self._describe()}"
        return ElementExistsError(msg, key=key)

    # -- checks -------------------------------------------------------------------

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
        elif isinstance(items, PileIndex):  # a Pile: its ids, in order
            return items.keys()
        elif not isinstance(items, Iterable):
            msg = (
                f"{self._describe()} expects an id (Element, UUID or UUID string) "
                f"or an iterable of them, not {type(items).__name__}"
            )
            raise ElementNotFoundError(msg, key=items)
        named: dict[UUID, None] = {}
        for item in items:
            try:
                named[to_id(item)] = None
            except KeyError:
                if not skip_invalid:
                    raise
        return list(named)

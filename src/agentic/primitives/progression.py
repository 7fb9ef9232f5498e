"""Progression: an ordered sequence of unique element ids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Self, overload
from uuid import UUID, uuid4

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema
from sortedcontainers import SortedDict

from agentic.errors import (
    IdInProgressionError,
    IdNotInProgressionError,
    ProgressionIndexError,
    SerializationError,
)
from agentic.primitives import _codec
from agentic.primitives.element import TYPE_KEY, Element, to_id

__all__ = ["Progression"]

_GAP = 1.0


class Progression:
    """An ordered sequence of unique element ids, with a name.

    Semantics:

    * An id appears at most once. [`append()`][agentic.primitives.Progression.append],
      [`insert()`][agentic.primitives.Progression.insert] and
      [`extend()`][agentic.primitives.Progression.extend] refuse an id that is already
      present; [`include()`][agentic.primitives.Progression.include] and
      [`exclude()`][agentic.primitives.Progression.exclude] are idempotent.
    * Positions are 0-based and negative positions count from the end, as in a list.
    * Anything that names an element may be passed as an id: an Element, a UUID or a
      UUID string.
    * A bulk operation that fails changes nothing.

    Membership is O(1); append, insert, removal, `index()` and access by position are
    O(log n), so removing from the middle of a long progression stays cheap. Each id
    holds a rank (a float) in a sorted index; an insertion between two neighbours takes
    the midpoint of their ranks and, in the rare case that floats run out of room, all
    ranks are renumbered once.

    A Progression is not locked: a [`Pile`][agentic.primitives.Pile] guards its own,
    and a Progression shared between threads needs the caller's lock.

    Example:
        >>> from uuid import uuid4
        >>> a, b, c = uuid4(), uuid4(), uuid4()
        >>> p = Progression([a, b], name="plan")
        >>> p.insert(1, c)
        >>> p.index(c), len(p), p[-1] == b
        (1, 3, True)
        >>> p.include(a)  # already present: nothing changes
        False
    """

    __slots__ = ("_by_rank", "_id", "_next", "_rank_of", "name")

    def __init__(
        self,
        ids: Iterable[Any] = (),
        *,
        name: str | None = None,
        id: UUID | None = None,  # noqa: A002 - the field is called id everywhere
    ) -> None:
        """Create a progression holding `ids` in order.

        Raises:
            IdInProgressionError: An id appears twice in `ids`.
        """
        self._id = id or uuid4()
        self.name = name
        """A label for the order this progression keeps (a conversation, a plan)."""
        # Keyed by the id's int (hashed in C; UUID.__hash__ is a Python call).
        self._rank_of: dict[int, float] = {}
        self._by_rank: Any = SortedDict()
        # Above every rank in use, so an append needs no look at the current last one.
        self._next = 0.0
        self.extend(ids)

    # -- identity ---------------------------------------------------------------

    @property
    def id(self) -> UUID:
        """The identity of the progression."""
        return self._id

    # -- reading ------------------------------------------------------------------

    def __len__(self) -> int:
        """Return the number of ids."""
        return len(self._rank_of)

    def __bool__(self) -> bool:
        """Return whether the progression holds any id."""
        return bool(self._rank_of)

    def __contains__(self, item: object) -> bool:
        """Return whether `item` (an Element, UUID or UUID string) is in the progression."""
        if isinstance(item, UUID):
            return item.int in self._rank_of
        try:
            return to_id(item).int in self._rank_of
        except KeyError:
            return False

    def __iter__(self) -> Iterator[UUID]:
        """Iterate over the ids in order."""
        return self._ordered()

    def __reversed__(self) -> Iterator[UUID]:
        """Iterate over the ids from last to first."""
        backwards: Iterator[UUID] = reversed(self._by_rank.values())
        return backwards

    @overload
    def __getitem__(self, index: int) -> UUID: ...
    @overload
    def __getitem__(self, index: slice) -> Progression: ...
    def __getitem__(self, index: int | slice) -> UUID | Progression:
        """Return the id at a position, or a new Progression for a slice."""
        if isinstance(index, slice):
            return Progression(self._slice(index), name=self.name)
        if not isinstance(index, int):
            msg = f"{self._describe()} is indexed by int or slice, not {type(index).__name__}"
            raise TypeError(msg)
        try:
            result: UUID = self._by_rank.peekitem(index)[1]
        except IndexError:
            msg = f"position {index} is out of range for {self._describe()}"
            raise ProgressionIndexError(msg) from None
        return result

    def index(self, item: Any) -> int:
        """Return the position of `item`.

        Raises:
            IdNotInProgressionError: `item` is not in the progression.
        """
        key = self._require(item)
        result: int = self._by_rank.index(self._rank_of[key.int])
        return result

    def ids(self) -> list[UUID]:
        """Return the ids in order, as a new list."""
        return list(self._ordered())

    # -- adding -------------------------------------------------------------------

    def append(self, item: Any) -> None:
        """Add `item` at the end.

        Raises:
            IdInProgressionError: `item` is already present.
        """
        key = to_id(item)
        if key.int in self._rank_of:
            raise self._exists(key)
        self._push(key)

    def extend(self, items: Iterable[Any]) -> None:
        """Add every id of `items` at the end, in order; all or nothing.

        Raises:
            IdInProgressionError: One of them is present already, or appears twice.
        """
        keys = self._new_keys(items)
        for key in keys:
            self._push(key)

    def include(self, item: Any) -> bool:
        """Add `item` at the end unless it is present.

        Returns:
            Whether it was added.
        """
        key = to_id(item)
        if key.int in self._rank_of:
            return False
        self._push(key)
        return True

    def insert(self, index: int, item: Any) -> None:
        """Insert `item` before position `index` (as `list.insert` does).

        Raises:
            IdInProgressionError: `item` is already present.
        """
        key = to_id(item)
        if key.int in self._rank_of:
            raise self._exists(key)
        self._place(key, index)

    # -- removing -----------------------------------------------------------------

    def remove(self, item: Any) -> None:
        """Remove `item`.

        Raises:
            IdNotInProgressionError: `item` is not present.
        """
        key = self._require(item)
        del self._by_rank[self._rank_of.pop(key.int)]

    def exclude(self, item: Any) -> bool:
        """Remove `item` if present.

        Returns:
            Whether it was removed.
        """
        try:
            key = to_id(item)
        except KeyError:
            return False
        rank = self._rank_of.pop(key.int, None)
        if rank is None:
            return False
        del self._by_rank[rank]
        return True

    def pop(self, index: int = -1) -> UUID:
        """Remove and return the id at `index` (the last by default).

        Raises:
            ProgressionIndexError: The progression is empty or `index` is out of range.
        """
        try:
            _, key = self._by_rank.popitem(index)
        except (IndexError, KeyError):
            msg = f"cannot pop position {index} from {self._describe()}"
            raise ProgressionIndexError(msg) from None
        del self._rank_of[key.int]
        result: UUID = key
        return result

    def popleft(self) -> UUID:
        """Remove and return the first id.

        Raises:
            ProgressionIndexError: The progression is empty.
        """
        return self.pop(0)

    def clear(self) -> None:
        """Remove every id."""
        self._rank_of.clear()
        self._by_rank.clear()
        self._next = 0.0

    # -- reordering ---------------------------------------------------------------

    def move(self, item: Any, index: int) -> None:
        """Move `item` so that it ends up at position `index`.

        Raises:
            IdNotInProgressionError: `item` is not present.
            ProgressionIndexError: `index` is outside the progression.
        """
        key = self._require(item)
        size = len(self)
        target = index + size if index < 0 else index
        if not 0 <= target < size:
            msg = f"cannot move to position {index} in {self._describe()}"
            raise ProgressionIndexError(msg)
        del self._by_rank[self._rank_of.pop(key.int)]
        self._place(key, target)

    def swap(self, i: int, j: int) -> None:
        """Exchange the ids at positions `i` and `j`.

        Raises:
            ProgressionIndexError: A position is out of range.
        """
        a, b = self[i], self[j]
        rank_a, rank_b = self._rank_of[a.int], self._rank_of[b.int]
        self._rank_of[a.int], self._rank_of[b.int] = rank_b, rank_a
        self._by_rank[rank_a], self._by_rank[rank_b] = b, a

    def reverse(self) -> None:
        """Reverse the order in place."""
        keys = self.ids()
        keys.reverse()
        self._renumber(keys)

    # -- operators ----------------------------------------------------------------

    def __add__(self, other: Any) -> Progression:
        """Return a new progression: these ids, then those of `other` not already here.

        `other` is one id (an Element, UUID or UUID string) or an iterable of them.
        """
        result = self.copy()
        for key in _keys(other):
            result.include(key)
        return result

    def __sub__(self, other: Any) -> Progression:
        """Return a new progression of these ids that are not in `other` (one id or many)."""
        drop = set(_keys(other))
        return Progression((k for k in self if k not in drop), name=self.name)

    def __eq__(self, other: object) -> bool:
        """Progressions are equal when they hold the same ids in the same order."""
        if isinstance(other, Progression):
            return len(self) == len(other) and self.ids() == other.ids()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable

    def copy(self) -> Progression:
        """Return a copy with a new id and the same name and order."""
        return Progression(self._ordered(), name=self.name)

    def __repr__(self) -> str:
        """Show the name and size."""
        return f"Progression(name={self.name!r}, len={len(self)})"

    # -- serialization ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict: id, name and the ids in order."""
        return {
            TYPE_KEY: "Progression",
            "id": str(self._id),
            "name": self.name,
            "order": list(map(str, self._ordered())),
        }

    def to_json(self) -> bytes:
        """Return the progression as a JSON document."""
        return _codec.dumps(self.to_dict(), what=self._describe())

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Rebuild a progression from [`to_dict()`][agentic.primitives.Progression.to_dict].

        Raises:
            SerializationError: The document has the wrong shape or repeats an id.
        """
        if not isinstance(data, dict) or not isinstance(data.get("order"), list):
            msg = "a progression document must be an object with an 'order' list"
            raise SerializationError(msg)
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            msg = f"progression name must be a string, not {type(name).__name__}"
            raise SerializationError(msg)
        try:
            ident = UUID(data["id"]) if data.get("id") is not None else None
            ids = [UUID(item) if isinstance(item, str) else to_id(item) for item in data["order"]]
            return cls(ids, name=name, id=ident)
        except (ValueError, TypeError, KeyError) as exc:
            msg = f"invalid progression document: {exc}"
            raise SerializationError(msg) from exc

    @classmethod
    def from_json(cls, data: bytes | str) -> Self:
        """Rebuild a progression from [`to_json()`][agentic.primitives.Progression.to_json]."""
        return cls.from_dict(_codec.loads(data, what="progression document"))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Let a Progression be a field of an Element."""

        def validate(value: Any) -> Progression:
            return value if isinstance(value, Progression) else cls.from_dict(value)

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
        return f"progression{label} ({size} id{'' if size == 1 else 's'})"

    def _exists(self, key: UUID) -> IdInProgressionError:
        msg = f"id {key} is already in {self._describe()}"
        return IdInProgressionError(msg, key=key)

    def _require(self, item: Any) -> UUID:
        key = to_id(item)
        if key.int not in self._rank_of:
            msg = f"id {key} is not in {self._describe()}"
            raise IdNotInProgressionError(msg, key=key)
        return key

    def _new_keys(self, items: Iterable[Any]) -> list[UUID]:
        keys = [to_id(item) for item in items]
        seen: set[int] = set()
        for key in keys:
            number = key.int
            if number in self._rank_of or number in seen:
                raise self._exists(key)
            seen.add(number)
        return keys

    def _slice(self, index: slice) -> list[UUID]:
        ids: list[UUID] = self._by_rank.values()[index]
        return ids

    def _ordered(self) -> Iterator[UUID]:
        # Walks the sorted ranks and maps each through the dict, both at C speed
        # (iterating `SortedDict.values()` runs a Python generator per id).
        by_rank = self._by_rank
        return map(by_rank.__getitem__, by_rank)

    def _push(self, key: UUID) -> float:
        rank = self._next
        self._next = rank + _GAP
        self._by_rank[rank] = key
        self._rank_of[key.int] = rank
        return rank

    def _rank(self, key: UUID) -> float:
        # For the Pile that owns this order: the rank of a present id.
        return self._rank_of[key.int]

    def _drop(self, key: UUID) -> float:
        # For the Pile: remove a present id, return the rank it had.
        rank = self._rank_of.pop(key.int)
        del self._by_rank[rank]
        return rank

    def _pop_ranked(self, index: int) -> tuple[float, UUID]:
        # For the Pile: pop by position, with the rank (raises like pop()).
        try:
            rank, key = self._by_rank.popitem(index)
        except (IndexError, KeyError):
            msg = f"cannot pop position {index} from {self._describe()}"
            raise ProgressionIndexError(msg) from None
        del self._rank_of[key.int]
        return rank, key

    def _place(self, key: UUID, index: int) -> None:
        size = len(self._by_rank)
        if index < 0:
            index = max(0, index + size)
        if index >= size:
            self._push(key)
            return
        after = self._by_rank.peekitem(index)[0]
        before = self._by_rank.peekitem(index - 1)[0] if index > 0 else after - 2 * _GAP
        rank = (before + after) / 2
        if not before < rank < after:
            # The floats between the neighbours are used up: spread the ranks out again.
            keys = self.ids()
            keys.insert(index, key)
            self._renumber(keys)
            return
        self._by_rank[rank] = key
        self._rank_of[key.int] = rank

    def _renumber(self, keys: list[UUID]) -> None:
        self._rank_of = {key.int: float(i) for i, key in enumerate(keys)}
        self._by_rank = SortedDict({float(i): key for i, key in enumerate(keys)})
        self._next = float(len(keys))


def _keys(items: Any) -> list[UUID]:
    """Return the ids named by one id-like value or an iterable of them."""
    if isinstance(items, (UUID, str, Element)):
        return [to_id(items)]
    return [to_id(item) for item in items]

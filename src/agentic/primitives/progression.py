"""Progression: an ordered sequence of unique element ids.

This module holds the public operations; the rank index they are built on (and the
Pile uses directly) lives in `_rank_index`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Self, overload
from uuid import UUID, uuid4

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema
from sortedcontainers import SortedDict

from agentic.errors import ProgressionIndexError, SerializationError
from agentic.primitives import _codec
from agentic.primitives._rank_index import RankIndex
from agentic.primitives.element import TYPE_KEY, Element, to_id

__all__ = ["Progression"]


class Progression(RankIndex):
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

    __slots__ = ("_id", "name")

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
        self._rank_of = {}
        self._by_rank = SortedDict()
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
        return self._pop_ranked(index)[1]

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
        """Let a Progression be a field of an Element (its JSON Schema: the document's)."""

        def validate(value: Any) -> Progression:
            return value if isinstance(value, Progression) else cls.from_dict(value)

        field = core_schema.typed_dict_field
        document = core_schema.typed_dict_schema(
            {
                TYPE_KEY: field(core_schema.literal_schema(["Progression"]), required=False),
                "id": field(core_schema.uuid_schema(), required=False),
                "name": field(
                    core_schema.nullable_schema(core_schema.str_schema()), required=False
                ),
                "order": field(core_schema.list_schema(core_schema.uuid_schema()), required=True),
            }
        )
        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=document,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.to_dict()
            ),
        )


def _keys(items: Any) -> list[UUID]:
    """Return the ids named by one id-like value or an iterable of them."""
    if isinstance(items, (UUID, str, Element)):
        return [to_id(items)]
    return [to_id(item) for item in items]

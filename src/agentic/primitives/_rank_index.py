"""The rank index under a Progression: ids kept in order by float ranks.

Each id holds a rank (a float) in a `SortedDict` from rank to id, and a plain dict maps
the id's 128-bit int back to its rank (an int hashes in C; `UUID.__hash__` is a Python
call). Membership is then O(1), and append, insertion, removal, `index()` and access by
position are O(log n). An append takes the next rank above every rank in use; an
insertion between two neighbours takes the midpoint of their ranks and, in the rare case
that floats run out of room between them, every rank is renumbered once.

[`Progression`][agentic.primitives.Progression] builds its public operations on
`RankIndex`; a [`Pile`][agentic.primitives.Pile] uses `_push`, `_rank`, `_drop` and
`_pop_ranked` of its own order to keep its rank-keyed items in step. Nothing here is
public API.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from sortedcontainers import SortedDict

from agentic.errors import IdInProgressionError, IdNotInProgressionError, ProgressionIndexError
from agentic.primitives.element import to_id

__all__ = ["GAP", "RankIndex"]

GAP = 1.0
"""The distance between the ranks of consecutive appends (and after a renumbering)."""


class RankIndex:
    """The ranks of a Progression's ids, and the operations that keep them sorted.

    Example:
        >>> from uuid import UUID
        >>> from agentic.primitives import Progression
        >>> a, b = UUID(int=1), UUID(int=2)
        >>> p = Progression([a])
        >>> p._push(b), p._rank(a), p._drop(a), list(p._ordered()) == [b]
        (1.0, 0.0, 0.0, True)
    """

    __slots__ = ("_by_rank", "_next", "_rank_of")

    # The sorted index: rank -> id (a SortedDict, kept out of the public types).
    _by_rank: Any
    # Above every rank in use, so an append needs no look at the current last one.
    _next: float
    # The id's int -> its rank.
    _rank_of: dict[int, float]
    name: str | None

    def _describe(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        size = len(self._rank_of)
        return f"progression{label} ({size} id{'' if size == 1 else 's'})"

    # -- checks -------------------------------------------------------------------

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

    # -- the index ----------------------------------------------------------------

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
        self._next = rank + GAP
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
        before = self._by_rank.peekitem(index - 1)[0] if index > 0 else after - 2 * GAP
        rank = (before + after) / 2
        if not before < rank < after:
            # The floats between the neighbours are used up: spread the ranks out again.
            keys = list(self._ordered())
            keys.insert(index, key)
            self._renumber(keys)
            return
        self._by_rank[rank] = key
        self._rank_of[key.int] = rank

    def _renumber(self, keys: list[UUID]) -> None:
        self._rank_of = {key.int: float(i) for i, key in enumerate(keys)}
        self._by_rank = SortedDict({float(i): key for i, key in enumerate(keys)})
        self._next = float(len(keys))

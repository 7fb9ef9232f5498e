"""New piles made from old: `filter`, `of_type` and the set operators `|`, `&`, `-`.

[`Pile`][agentic.primitives.Pile] takes these methods from `PileAlgebra`; they are
documented, and called, as Pile's own. Each reads its operands' snapshots and returns a
new pile; none changes an operand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from agentic.primitives._pile_index import PileIndex
from agentic.primitives.element import Element

if TYPE_CHECKING:
    from agentic.primitives.pile import Pile

__all__ = ["PileAlgebra"]

E = TypeVar("E", bound=Element)
F = TypeVar("F", bound=Element)


def _pile_class() -> type[Pile[Any]]:
    """Return `Pile` (imported late: pile.py imports this module)."""
    from agentic.primitives.pile import Pile  # noqa: PLC0415 - a cycle, resolved at call time

    return Pile


class PileAlgebra(PileIndex[E]):
    """Filters and set operators of a Pile, each returning a new pile."""

    __slots__ = ()

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
        return _pile_class()(chosen, item_type=item_type, strict=strict)

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

    def _derive(self, items: Iterable[E]) -> Pile[E]:
        # A new pile with this one's item type, strictness and name.
        pile: Pile[E] = _pile_class()(
            items, item_type=self._item_type, strict=self._strict, name=self.name
        )
        return pile

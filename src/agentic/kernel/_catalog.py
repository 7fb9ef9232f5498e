"""Catalog: the state agentic-cli keeps in the event store.

```
stream "catalog"            catalog.created {kind, name, ...}   one per pile/progression/branch
stream "elements"           a PersistentPile of every Element created
stream "pile-<name>"        a PersistentPile restricted to an item type
stream "progression-<name>" a PersistentProgression (bound to a pile, or to all elements)
stream "branch-<name>"      branch.created, then branch.chat (new messages and logs)
stream "run-<id>"           run.started, step.finished..., run.finished (WorkflowRunner)
```

Every change is checked in full before anything is appended, so a refused change
leaves the store exactly as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from agentic.kernel._cli_types import element_type
from agentic.kernel._state_elements import new_element, open_pile
from agentic.kernel._state_errors import CatalogInputError, EntryExistsError, EntryNotFoundError
from agentic.kernel._state_names import check_index, check_name, resolve_id, short_id
from agentic.kernel._state_retry import retrying
from agentic.primitives import Element, Pile
from agentic.store import (
    EventStore,
    NewRecord,
    Persisted,
    PersistentPile,
    PersistentProgression,
    Repository,
)

__all__ = ["CATALOG_STREAM", "ELEMENTS_STREAM", "Catalog"]

CATALOG_STREAM = "catalog"
"""The stream that records what piles, progressions and branches exist."""
ELEMENTS_STREAM = "elements"
"""The stream of the pile that holds every element."""
_KINDS = ("pile", "progression", "branch")


class Catalog:
    """The CLI's state: elements, named piles, progressions and branches in one store.

    Args:
        store: The event store (usually from `open_store(home)`).
        use_snapshot: Load piles and progressions from their latest snapshot (False:
            replay every record, as `replay` does).
        snapshot_every: After a change, snapshot the changed stream whenever it
            reaches a multiple of this many records (None: never), so each invocation
            replays at most that many records per stream.
    """

    def __init__(
        self, store: EventStore, *, use_snapshot: bool = True, snapshot_every: int | None = 1000
    ) -> None:
        self.store = store
        """The event store."""
        self._repository = Repository(store)
        self._use_snapshot = use_snapshot
        self._snapshot_every = snapshot_every
        self._entries: dict[str, dict[str, dict[str, Any]]] = {}
        self._sequence = 0
        self._elements: PersistentPile[Element] | None = None
        self._piles: dict[str, PersistentPile[Any]] = {}
        self._progressions: dict[str, PersistentProgression] = {}
        self.reload()

    def reload(self) -> None:
        """Forget what was loaded; read the catalog again (other writers' changes too)."""
        self._entries = {kind: {} for kind in _KINDS}
        self._sequence = 0
        for record in self.store.read(CATALOG_STREAM):
            self._sequence = record.sequence
            kind, name = record.payload.get("kind"), record.payload.get("name")
            if record.type == "catalog.created" and kind in self._entries and name:
                self._entries[kind][name] = dict(record.payload)
        self._elements = None
        self._piles.clear()
        self._progressions.clear()

    # -- names ----------------------------------------------------------------------

    def names(self, kind: str) -> list[str]:
        """Return the names of every `pile`, `progression` or `branch`, sorted."""
        return sorted(self._entries[kind])

    def entry(self, kind: str, name: str) -> dict[str, Any]:
        """Return the creation record of a pile, progression or branch.

        Raises:
            EntryNotFoundError: There is none by that name.
        """
        found = self._entries[kind].get(name)
        if found is None:
            known = ", ".join(repr(n) for n in self.names(kind)[:10]) or "none"
            msg = f"{kind} {name!r} not found (known: {known})"
            raise EntryNotFoundError(msg, kind=kind, key=name)
        return found

    def _create(self, kind: str, name: str, **fields: Any) -> dict[str, Any]:
        check_name(kind, name)
        if name in self._entries[kind]:
            msg = f"{kind} {name!r} already exists"
            raise EntryExistsError(msg, kind=kind, key=name)
        return {"kind": kind, "name": name, **fields}

    def _commit(self, payload: dict[str, Any], *extra: tuple[str, NewRecord]) -> None:
        from agentic.store import AppendRequest  # noqa: PLC0415 - only writers need it

        requests = [
            AppendRequest(
                CATALOG_STREAM,
                [NewRecord("catalog.created", payload)],
                expected_sequence=self._sequence,
            )
        ]
        requests += [
            AppendRequest(stream, [record], expected_sequence=0) for stream, record in extra
        ]
        results = self.store.append_many(requests)
        self._sequence = results[0].last_sequence
        self._entries[payload["kind"]][payload["name"]] = payload

    def _snapshot(self, aggregate: PersistentPile[Any] | PersistentProgression) -> None:
        # Every change appends one record, so the stream crosses a multiple exactly
        # when its version is one; the snapshot bounds what the next open replays.
        every = self._snapshot_every
        if every is not None and aggregate.persisted.version % every == 0:
            aggregate.snapshot()

    # -- elements -------------------------------------------------------------------

    @property
    def elements(self) -> Pile[Element]:
        """The pile of every element (an empty one, not yet stored, before the first)."""
        if self._elements is None and not self.store.stream_sequence(ELEMENTS_STREAM):
            return Pile(item_type=Element, name="elements")
        return self._open_elements()

    def _open_elements(self) -> PersistentPile[Element]:
        if self._elements is None:
            self._elements = open_pile(
                self._repository,
                ELEMENTS_STREAM,
                item_type=Element,
                name="elements",
                use_snapshot=self._use_snapshot,
            )
        return self._elements

    def element(self, ref: str) -> Element:
        """Return the element whose id is `ref` (or starts with `ref`, 4+ hex digits).

        Raises:
            CatalogInputError: `ref` is not an id, or is a prefix of several.
            EntryNotFoundError: No element has that id.
        """
        return self.elements[resolve_id(ref, self.elements.keys(), where="the store")]

    @retrying
    def create_element(self, type_name: str, data: Any) -> Element:
        """Validate `data` as an element of type `type_name` and keep it.

        Raises:
            UnknownElementTypeError: No Element type is registered under `type_name`.
            CatalogInputError: `data` is not a JSON object, not a valid element of that
                type, or cannot be stored.
            EntryExistsError: An element with its id exists.
        """
        element = new_element(type_name, data)
        if element.id in self.elements:
            msg = f"element {element.id} already exists"
            raise EntryExistsError(msg, kind="element", key=str(element.id))
        elements = self._open_elements()
        elements.include(element)
        self._snapshot(elements)
        return element

    def list_elements(self, type_name: str | None = None) -> list[Element]:
        """Return every element (of type `type_name` or a subclass), oldest first."""
        items = list(self.elements)
        if type_name is None:
            return items
        cls = element_type(type_name)
        return [item for item in items if isinstance(item, cls)]

    # -- piles ----------------------------------------------------------------------

    @retrying
    def create_pile(self, name: str, type_name: str | None = None) -> PersistentPile[Any]:
        """Create the pile `name`, holding items of `type_name` (any Element if None).

        Raises:
            CatalogInputError: The name is malformed.
            EntryExistsError: A pile by that name exists.
            UnknownElementTypeError: `type_name` is not registered.
        """
        item_type = element_type(type_name) if type_name is not None else Element
        payload = self._create("pile", name, item_type=item_type.type_name)
        if self.store.stream_sequence(f"pile-{name}"):
            msg = f"stream 'pile-{name}' exists already without a catalog entry"
            raise EntryExistsError(msg, kind="pile", key=name)
        self._commit(payload)
        return self.pile(name)

    def pile(self, name: str) -> PersistentPile[Any]:
        """Return the pile `name`.

        Raises:
            EntryNotFoundError: There is no such pile.
        """
        entry = self.entry("pile", name)
        if name not in self._piles:
            self._piles[name] = open_pile(
                self._repository,
                f"pile-{name}",
                item_type=element_type(entry["item_type"]),
                name=name,
                use_snapshot=self._use_snapshot,
            )
        return self._piles[name]

    @retrying
    def pile_add(self, name: str, refs: Sequence[str]) -> list[Element]:
        """Add the elements `refs` to pile `name`; return those newly added.

        Raises:
            EntryNotFoundError: No such pile or element.
            CatalogInputError: An element is not of the pile's item type.
        """
        pile = self.pile(name)
        items = [self.element(ref) for ref in refs]
        for item in items:
            if not isinstance(item, pile.item_type):
                msg = (
                    f"element {short_id(item.id)} is of type {type(item).type_name}, but pile "
                    f"{name!r} holds {pile.item_type.type_name} items"
                )
                raise CatalogInputError(msg)
        new = [item for item in dict.fromkeys(items) if item.id not in pile]
        if new:
            pile.include(new)
            self._snapshot(pile)
        return new

    @retrying
    def pile_remove(self, name: str, refs: Sequence[str]) -> list[UUID]:
        """Remove the elements `refs` from pile `name` (all or none).

        Raises:
            EntryNotFoundError: No such pile, or an element is not in it.
            CatalogInputError: An element is still ordered by a progression bound to it.
        """
        pile = self.pile(name)
        keys = list(dict.fromkeys(resolve_id(r, pile.keys(), where=f"pile {name!r}") for r in refs))
        bound = []
        for other in self.names("progression"):
            if self.entry("progression", other).get("pile") != name:
                continue
            progression = self.progression(other)
            bound.append(progression.persisted)
            for key in keys:
                if key in progression:
                    msg = (
                        f"element {short_id(key)} is still in progression {other!r} "
                        f"(bound to pile {name!r}); remove it there first"
                    )
                    raise CatalogInputError(msg)
        # Guarded: a progression that ordered one of these meanwhile makes this run again.
        record = NewRecord("pile.remove", {"ids": [str(key) for key in keys]})
        pile.persisted.record_many([record], guards=bound)
        self._snapshot(pile)
        return keys

    # -- progressions ---------------------------------------------------------------

    @retrying
    def create_progression(self, name: str, pile: str | None = None) -> PersistentProgression:
        """Create the progression `name`, bound to pile `pile` (or to all elements).

        Raises:
            CatalogInputError: The name is malformed.
            EntryExistsError: A progression by that name exists.
            EntryNotFoundError: The pile does not exist.
        """
        if pile is not None:
            self.entry("pile", pile)
        payload = self._create("progression", name, pile=pile)
        if self.store.stream_sequence(f"progression-{name}"):
            msg = f"stream 'progression-{name}' exists already without a catalog entry"
            raise EntryExistsError(msg, kind="progression", key=name)
        self._commit(payload)
        return self.progression(name)

    def progression(self, name: str) -> PersistentProgression:
        """Return the progression `name`.

        Raises:
            EntryNotFoundError: There is no such progression.
        """
        self.entry("progression", name)
        if name not in self._progressions:
            self._progressions[name] = PersistentProgression.open(
                self._repository,
                f"progression-{name}",
                name=name,
                use_snapshot=self._use_snapshot,
            )
        return self._progressions[name]

    def scope(self, name: str) -> tuple[Pile[Any], str]:
        """Return the pile progression `name` orders, and how to name it in messages."""
        bound = self.entry("progression", name).get("pile")
        if bound is None:
            return self.elements, "the store"
        return self.pile(bound), f"pile {bound!r}"

    @retrying
    def progression_append(self, name: str, refs: Sequence[str]) -> list[UUID]:
        """Append elements to progression `name`, all or none.

        Raises:
            EntryNotFoundError: No such progression, or an element is not in its pile.
            CatalogInputError: An element is in it already or named twice.
        """
        progression = self.progression(name)
        pile, where = self.scope(name)
        keys = [resolve_id(ref, pile.keys(), where=where) for ref in refs]
        seen: set[UUID] = set()
        for key in keys:
            if key in progression or key in seen:
                msg = f"element {short_id(key)} is already in progression {name!r}"
                raise CatalogInputError(msg)
            seen.add(key)
        if keys:
            # Guarded: a removal from the pile meanwhile makes this run again.
            record = NewRecord("progression.extend", {"ids": [str(key) for key in keys]})
            progression.persisted.record_many([record], guards=_streams_of(pile))
            self._snapshot(progression)
        return keys

    @retrying
    def progression_insert(self, name: str, index: int, ref: str) -> UUID:
        """Insert an element before position `index` of progression `name`.

        Raises:
            EntryNotFoundError: No such progression, or the element is not in its pile.
            CatalogInputError: The element is in it already, or `index` is out of range.
        """
        progression = self.progression(name)
        pile, where = self.scope(name)
        key = resolve_id(ref, pile.keys(), where=where)
        if key in progression:
            msg = f"element {short_id(key)} is already in progression {name!r}"
            raise CatalogInputError(msg)
        check_index(index, -len(progression), len(progression), name)
        record = NewRecord("progression.insert", {"index": index, "id": str(key)})
        progression.persisted.record_many([record], guards=_streams_of(pile))
        self._snapshot(progression)
        return key

    @retrying
    def progression_move(self, name: str, ref: str, index: int) -> UUID:
        """Move an element of progression `name` to position `index`.

        Raises:
            EntryNotFoundError: No such progression, or the element is not in it.
            CatalogInputError: `index` is out of range.
        """
        progression = self.progression(name)
        key = resolve_id(ref, list(progression), where=f"progression {name!r}")
        check_index(index, -len(progression), len(progression) - 1, name)
        progression.move(key, index)
        self._snapshot(progression)
        return key

    @retrying
    def progression_remove(self, name: str, refs: Sequence[str]) -> list[UUID]:
        """Remove elements from progression `name`, all or none.

        Raises:
            EntryNotFoundError: No such progression, or an element is not in it.
        """
        progression = self.progression(name)
        ids = list(progression)
        keys = list(dict.fromkeys(resolve_id(r, ids, where=f"progression {name!r}") for r in refs))
        if keys:  # one atomic append: all or none
            records = [NewRecord("progression.remove", {"id": str(key)}) for key in keys]
            progression.persisted.record_many(records)
            self._snapshot(progression)
        return keys

    # -- branches (records only; see agentic.kernel.BranchHistory) -------------------

    @retrying
    def create_branch(self, name: str, *, provider: str | None, system: str | None) -> None:
        """Record a new branch `name` with its provider and system prompt.

        Raises:
            CatalogInputError: The name is malformed.
            EntryExistsError: A branch by that name exists.
        """
        payload = self._create("branch", name, provider=provider, system=system)
        stream = f"branch-{name}"
        if self.store.stream_sequence(stream):
            msg = f"stream {stream!r} exists already without a catalog entry"
            raise EntryExistsError(msg, kind="branch", key=name)
        created = NewRecord(
            "branch.created", {"name": name, "provider": provider, "system": system}
        )
        self._commit(payload, (stream, created))


def _streams_of(pile: Pile[Any]) -> list[Persisted[Any]]:
    """The aggregate `pile` is stored in, as a guard (none for a pile not yet stored)."""
    persisted = getattr(pile, "persisted", None)
    return [persisted] if isinstance(persisted, Persisted) else []

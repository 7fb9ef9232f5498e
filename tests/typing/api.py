"""Real use of the primitives' public API, checked with `mypy --strict` (tests/test_typing.py).

Not collected by pytest: it is a type-checking fixture, though it also runs as a script.
"""

from __future__ import annotations

import asyncio
from typing import assert_type
from uuid import UUID

from agentic.errors import ElementNotFoundError, InvalidTransitionError, ItemTypeError
from agentic.primitives import Element, Event, EventStatus, Log, Pile, Progression


class Note(Element, type_name="typing.Note"):
    """A note with a text."""

    text: str
    stars: int = 0


class Starred(Note, type_name="typing.Starred"):
    """A note someone starred."""


class Fetch(Event, type_name="typing.Fetch"):
    """An Event with a typed result."""

    url: str

    async def execute(self) -> dict[str, str]:
        """Pretend to fetch `url`."""
        return {"url": self.url, "body": "ok"}


def use_piles() -> list[str]:
    """Typed access to a Pile[Note]."""
    notes: Pile[Note] = Pile(item_type=Note, name="notes")
    first, second = Note(text="a"), Starred(text="b", stars=3)
    notes.include([first, second])
    notes.insert(0, Note(text="front"))

    by_id = notes[first.id]
    assert_type(by_id, Note)
    by_string = notes[str(second.id)]
    assert_type(by_string, Note)
    assert_type(notes[0], Note)
    assert_type(notes[0:2], list[Note])
    assert_type(notes.get(first.id), Note | None)
    assert_type(notes.pop(), Note)
    assert_type(notes.pop(first.id, None), Note | None)
    assert_type(notes.keys(), list[UUID])
    assert_type(notes.items(), list[tuple[UUID, Note]])

    starred = notes.of_type(Starred)
    assert_type(starred, Pile[Starred])
    popular = notes.filter(lambda n: n.stars > 1)
    assert_type(popular, Pile[Note])
    union = notes | popular
    assert_type(union, Pile[Note])

    order = Progression(reversed(notes.keys()), name="newest first")
    newest = notes[order]
    assert_type(newest, list[Note])

    try:
        notes.include(Element())  # type: ignore[arg-type]  # the checker refuses it too
    except ItemTypeError as exc:
        _ = (exc.expected, exc.actual)
    try:
        notes[UUID(int=0)]
    except ElementNotFoundError as exc:
        _ = exc.key

    restored = Pile.from_json(notes.to_json())
    return [n.text for n in notes] + [type(x).__name__ for x in restored]


def use_progressions() -> int:
    """Progression operations and operators."""
    a, b, c = Note(text="a"), Note(text="b"), Note(text="c")
    plan = Progression([a, b], name="plan")
    plan.insert(1, c)
    plan.move(a, -1)
    first: UUID = plan[0]
    part: Progression = plan[0:2]
    both = plan + c.id - a
    return plan.index(first) + len(part) + len(both) + (1 if b in plan else 0)


async def use_events() -> Log:
    """Invoke an Event and keep its Log."""
    event = Fetch(url="https://example.invalid")
    done = await event.invoke()
    assert_type(done, Event)
    if done.status is EventStatus.COMPLETED:
        body = done.execution.response
        assert body is not None
    try:
        done.start()
    except InvalidTransitionError as exc:
        _ = (exc.source, exc.target)
    return done.to_log()


if __name__ == "__main__":
    print(use_piles(), use_progressions(), asyncio.run(use_events()).status)  # noqa: T201

"""`agentic-cli demo`: a short tour of the primitives."""

from __future__ import annotations

import asyncio
import io
from typing import Annotated

import typer

from agentic.cli._context import JsonOption, emit_json, wants_json
from agentic.primitives import Element, Event, Pile, Progression

__all__ = ["demo"]


class Task(Element, type_name="demo.Task"):
    """A unit of work in the demo."""

    title: str
    priority: int = 0


class Square(Event, type_name="demo.Square"):
    """An Event that squares a number."""

    value: int

    async def execute(self) -> int:
        """Return the square of `value`."""
        return self.value * self.value


def demo(
    count: Annotated[int, typer.Option(min=1, max=1000, help="How many tasks to create.")] = 5,
    *,
    json_: JsonOption = False,
) -> None:
    """Show the primitives: a typed Pile, two Progressions over it, Events and their Logs."""
    from rich.console import Console  # noqa: PLC0415 - keep start-up fast
    from rich.table import Table  # noqa: PLC0415

    as_json = wants_json(json_)
    # With --json the tables go nowhere; the document is printed at the end.
    console = Console(file=io.StringIO()) if as_json else Console()
    tasks = Pile(
        (Task(title=f"task {i}", priority=(i * 7) % 5) for i in range(count)),
        item_type=Task,
        name="tasks",
    )
    by_priority = Progression(
        (t.id for t in sorted(tasks, key=lambda t: -t.priority)), name="by priority"
    )
    table = Table(title=f"A pile of {len(tasks)} tasks, in two orders")
    table.add_column("#", justify="right")
    table.add_column("created order")
    table.add_column("by priority")
    for i, (a, b) in enumerate(zip(tasks, tasks[by_priority], strict=True)):
        table.add_row(str(i), a.title, f"{b.title} (p{b.priority})")
    console.print(table)

    restored = Pile.from_json(tasks.to_json())
    same = restored == tasks and all(type(t) is Task for t in restored)
    console.print(f"JSON round trip of the pile: {'identical' if same else 'DIFFERENT'}")

    events = Pile((Square(value=i) for i in range(count)), item_type=Event)

    async def run_all() -> None:
        await asyncio.gather(*(e.invoke() for e in events))

    asyncio.run(run_all())
    logs = [e.to_log() for e in events]
    results = ", ".join(
        f"{e.value}²={e.execution.response}" for e in events if isinstance(e, Square)
    )
    console.print(f"{len(logs)} events completed: {results}")
    if as_json:
        emit_json(
            {
                "tasks": [t.to_dict() for t in tasks],
                "by_priority": [str(key) for key in by_priority],
                "round_trip_identical": same,
                "squares": {
                    str(e.value): e.execution.response for e in events if isinstance(e, Square)
                },
                "logs": len(logs),
            }
        )
    if not same:
        raise typer.Exit(1)

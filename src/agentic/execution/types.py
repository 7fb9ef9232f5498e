"""The shapes every part of the chain agrees on (aliases and protocols, in one place).

```
Processor:  async (event, call_next) -> event
CallNext:   async (event) -> event            # the rest of the chain
Target:     name, validate(arguments), async invoke(arguments)
Resolver:   resolve(name) -> Target           # a ToolRegistry, a provider table, ...
```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from agentic.primitives import Event

__all__ = ["CallNext", "KeyFunc", "Processor", "Resolver", "Sleep", "Target"]

CallNext = Callable[[Event], Awaitable[Event]]
"""The rest of the chain, as seen by a processor: give it the Event, await the Event."""

KeyFunc = Callable[[Event], str]
"""Maps an Event to the key a limit is kept per (a target name, a caller, a provider)."""

Sleep = Callable[[float], Awaitable[None]]
"""An `asyncio.sleep`-shaped coroutine function (injectable for tests)."""


@runtime_checkable
class Processor(Protocol):
    """One layer of the chain, in the shape of ASGI middleware.

    A processor does its work around `await call_next(event)`. A gate that says no
    ends the Event itself (`event.deny(reason)`) and returns it without calling
    `call_next`. Failures of the invocation travel outward as exceptions until a
    processor (retry) handles them or the chain's outer layer records them.
    """

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Process `event`, usually by awaiting `call_next(event)`."""
        ...


@runtime_checkable
class Target(Protocol):
    """Something a [`Call`][agentic.execution.Call] invokes: a tool, a provider, a plugin.

    A target may also have a boolean attribute `guarded`: a guarded target runs only
    when a policy rule names it explicitly (see [`Policy`][agentic.execution.Policy]).
    """

    @property
    def name(self) -> str:
        """The name Calls use to address the target."""
        ...

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Return `arguments` checked and coerced to the target's schema, or raise."""
        ...

    async def invoke(self, arguments: dict[str, Any]) -> Any:
        """Run the target with validated arguments and return a JSON-compatible result."""
        ...


@runtime_checkable
class Resolver(Protocol):
    """Finds the Target a Call names."""

    def resolve(self, name: str) -> Target:
        """Return the target called `name`.

        Raises:
            TargetNotFoundError: No target has that name (the message names it).
        """
        ...

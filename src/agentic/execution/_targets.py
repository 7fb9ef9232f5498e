"""Small ready-made Targets and Resolvers (for providers, plugins and tests)."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable
from typing import Any

from agentic.execution._errors import TargetNotFoundError
from agentic.execution.types import Target

__all__ = ["FunctionTarget", "TargetMap"]


class FunctionTarget:
    """A Target around a coroutine function `(arguments) -> result`, without a schema.

    Like httpx's `MockTransport(handler)`, it lets a test or a thin adapter stand in
    for a real tool or provider.

    Example:
        >>> async def echo(arguments): return arguments
        >>> target = FunctionTarget("echo", echo)
    """

    def __init__(
        self,
        name: str,
        handler: Callable[[dict[str, Any]], Any],
        *,
        validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        guarded: bool = False,
    ) -> None:
        """Create the target.

        Args:
            name: The target's name.
            handler: Called with the validated arguments; may be sync or async
                (a sync handler runs on the loop: keep it quick). Whatever it
                returns that is awaitable is awaited.
            validate: Checks and coerces the arguments (default: accept them as given).
            guarded: Whether only a policy rule naming it may allow it.
        """
        self.name = name
        """The target's name."""
        self.guarded = guarded
        """Whether only a policy rule naming it may allow it."""
        self._handler = handler
        self._validate = validate
        self._is_async = inspect.iscoroutinefunction(handler)
        self.calls = 0
        """How many times the target was invoked."""

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Check and coerce the arguments with the configured validator."""
        return arguments if self._validate is None else self._validate(arguments)

    async def invoke(self, arguments: dict[str, Any]) -> Any:
        """Call the handler."""
        self.calls += 1
        if self._is_async:
            return await self._handler(arguments)
        result = self._handler(arguments)
        if inspect.isawaitable(result):  # an object with an async __call__, say
            result = await result
        return result


class TargetMap:
    """A Resolver over a fixed set of Targets, by name (thread-safe)."""

    def __init__(self, targets: Iterable[Target] = ()) -> None:
        """Create the map from targets (each under its own name)."""
        self._lock = threading.Lock()
        self._targets: dict[str, Target] = {t.name: t for t in targets}

    def add(self, target: Target) -> None:
        """Add or replace a target."""
        with self._lock:
            self._targets[target.name] = target

    def resolve(self, name: str) -> Target:
        """Return the target called `name`.

        Raises:
            TargetNotFoundError: None has that name.
        """
        target = self._targets.get(name)
        if target is None:
            known = ", ".join(sorted(self._targets)) or "none"
            msg = f"unknown target {name!r} (known: {known})"
            raise TargetNotFoundError(msg, name=name)
        return target

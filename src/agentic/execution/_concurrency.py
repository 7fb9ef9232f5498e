"""ConcurrencyProcessor: at most N Events in flight per key."""

from __future__ import annotations

import asyncio

from agentic.execution._keys import by_target
from agentic.execution.types import CallNext, KeyFunc
from agentic.primitives import Event

__all__ = ["ConcurrencyProcessor"]


class ConcurrencyProcessor:
    """Let at most `limit` Events per key past this point at once; the rest wait in order.

    The semaphores are created on first use, on the running loop, so the processor
    can be built on one thread and used on the loop thread of another.
    """

    def __init__(self, limit: int, *, key: KeyFunc = by_target) -> None:
        """Configure the limit.

        Args:
            limit: The most Events in flight per key (at least 1).
            key: What the limit is kept per (default: the target name).
        """
        if limit < 1:
            msg = f"concurrency limit must be at least 1, got {limit}"
            raise ValueError(msg)
        self.limit = limit
        """The most Events in flight per key."""
        self.key = key
        """Maps an Event to its key."""
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    def in_flight(self, key: str) -> int:
        """Return how many Events with this key are past the gate now."""
        semaphore = self._semaphores.get(key)
        return 0 if semaphore is None else self.limit - semaphore._value  # noqa: SLF001 - no public counter

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Wait for a slot, continue, release the slot."""
        key = self.key(event)
        semaphore = self._semaphores.get(key)
        if semaphore is None:
            semaphore = self._semaphores[key] = asyncio.Semaphore(self.limit)
        async with semaphore:
            return await call_next(event)

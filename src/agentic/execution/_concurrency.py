"""ConcurrencyProcessor: at most N Events in flight per key."""

from __future__ import annotations

import asyncio
import threading
from collections import deque

from agentic.execution._keys import by_target
from agentic.execution.types import CallNext, KeyFunc
from agentic.primitives import Event

__all__ = ["ConcurrencyProcessor"]


class _Slots:
    """A fair counting limiter: free slots, and a FIFO of waiters.

    `asyncio.Semaphore.locked()` scans every waiter (Python 3.11), which makes a
    thousand waiting Events quadratic; this hands a released slot straight to the
    oldest live waiter in O(1), and binds to no loop (each waiter's future belongs
    to the loop it waits on). Executors on several loops (threads) may share it: a
    slot freed on one loop reaches a waiter on another through that waiter's own
    loop (`call_soon_threadsafe`), and a lock guards the counts.
    """

    __slots__ = ("free", "lock", "waiters")

    def __init__(self, limit: int) -> None:
        self.free = limit
        self.waiters: deque[asyncio.Future[None]] = deque()
        self.lock = threading.Lock()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self.lock:
            if self.free > 0 and not self.waiters:
                self.free -= 1
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just before the cancel: pass it on
            raise

    def release(self) -> None:
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        with self.lock:
            waiters = self.waiters
            while waiters:
                waiter = waiters.popleft()
                if waiter.done():
                    continue
                loop = waiter.get_loop()
                if loop is here:
                    waiter.set_result(None)  # the slot moves to the waiter; `free` is unchanged
                    return
                try:
                    loop.call_soon_threadsafe(self._hand_over, waiter)
                except RuntimeError:  # that loop is closed: its waiter is gone
                    continue
                return
            self.free += 1

    def _hand_over(self, waiter: asyncio.Future[None]) -> None:
        """Give the slot to `waiter` on its own loop, or on if it was cancelled meanwhile."""
        if waiter.done():
            self.release()
        else:
            waiter.set_result(None)


class ConcurrencyProcessor:
    """Let at most `limit` Events per key past this point at once; the rest wait in order.

    Waiting Events stay pending (they have not started). Nothing is bound to a loop
    at construction, so the processor can be built on one thread and used on the
    loop thread of another.
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
        self._slots: dict[str, _Slots] = {}

    def in_flight(self, key: str) -> int:
        """Return how many Events with this key are past the gate now."""
        slots = self._slots.get(key)
        return 0 if slots is None else self.limit - slots.free

    def waiting(self, key: str) -> int:
        """Return how many Events with this key wait at the gate now."""
        slots = self._slots.get(key)
        return 0 if slots is None else sum(1 for w in slots.waiters if not w.done())

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Wait for a slot, continue, release the slot."""
        key = self.key(event)
        slots = self._slots.get(key)
        if slots is None:  # setdefault: two threads creating it at once get the same one
            slots = self._slots.setdefault(key, _Slots(self.limit))
        await slots.acquire()
        try:
            return await call_next(event)
        finally:
            slots.release()

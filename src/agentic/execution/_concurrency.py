"""ConcurrencyProcessor: at most N Events in flight per key."""

from __future__ import annotations

import asyncio
import threading
from collections import deque

from agentic.execution._keys import by_target
from agentic.execution.types import CallNext, KeyFunc
from agentic.primitives import Event

__all__ = ["ConcurrencyProcessor"]

_SWEEP_AT = 1024  # keys kept before idle ones are first forgotten


class _Slots:
    """A fair counting limiter: free slots, and a FIFO of waiters.

    `asyncio.Semaphore.locked()` scans every waiter (Python 3.11), which makes a
    thousand waiting Events quadratic; this hands a released slot straight to the
    oldest live waiter in O(1), and binds to no loop (each waiter's future belongs
    to the loop it waits on). Executors on several loops (threads) may share it: a
    slot freed on one loop reaches a waiter on another through that waiter's own
    loop (`call_soon_threadsafe`), and a lock guards the counts.
    """

    __slots__ = ("free", "lock", "users", "waiters")

    def __init__(self, limit: int) -> None:
        self.free = limit
        self.waiters: deque[asyncio.Future[None]] = deque()
        self.lock = threading.Lock()
        self.users = 0  # Events holding or waiting for a slot (guarded by the processor)

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
    loop thread of another. Idle keys are forgotten as the table grows, so keys by
    caller (or by anything else unbounded) keep no state for long once their Events
    are done.
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
        self._lock = threading.Lock()  # the table and each entry's `users`
        self._sweep_at = _SWEEP_AT

    def in_flight(self, key: str) -> int:
        """Return how many Events with this key are past the gate now."""
        slots = self._slots.get(key)
        return 0 if slots is None else self.limit - slots.free

    def waiting(self, key: str) -> int:
        """Return how many Events with this key wait at the gate now."""
        slots = self._slots.get(key)
        return 0 if slots is None else sum(1 for w in slots.waiters if not w.done())

    def keys(self) -> list[str]:
        """Return the keys that have Events in flight or waiting now."""
        with self._lock:
            return [key for key, slots in self._slots.items() if slots.users]

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Wait for a slot, continue, release the slot."""
        key = self.key(event)
        with self._lock:
            slots = self._slots.get(key)
            if slots is None:
                if len(self._slots) >= self._sweep_at:
                    self._sweep()
                slots = self._slots[key] = _Slots(self.limit)
            slots.users += 1
        try:
            await slots.acquire()
            try:
                return await call_next(event)
            finally:
                slots.release()
        finally:
            with self._lock:
                slots.users -= 1

    def _sweep(self) -> None:
        """Forget the keys nobody holds or awaits a slot of (under the lock).

        Run when the table has doubled since the last sweep, so keys by caller (or
        anything unbounded) cannot grow it without bound, at O(1) amortized cost.
        """
        self._slots = {key: slots for key, slots in self._slots.items() if slots.users}
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._slots))

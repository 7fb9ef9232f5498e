"""The event bus: publish/subscribe by topic, with bounded per-subscriber queues.

**Topics** are dot-separated segments: `branch.7f3a.message`. **Patterns** match
whole segments: `*` matches exactly one segment, `**` matches any number of segments
(zero included), anything else matches itself. So `branch.*.message` matches
`branch.7f3a.message` but not `branch.message`; `branch.**` matches `branch`,
`branch.7f3a` and `branch.7f3a.message`; `**` matches every topic.

**Slow subscribers cannot stall publishers.** Each subscription owns a bounded queue
and an [`OverflowPolicy`][agentic.actors.OverflowPolicy]: drop the oldest queued event,
drop the new one, or block the publisher for at most `block_timeout` seconds and then
drop it (at once, for a publisher on the event loop of an async reader of the
subscription, which its wait would stall). Every drop is counted in
`Subscription.dropped`. An actor subscribed with `subscribe_actor` receives events as
tells that never wait: a full mailbox counts a drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections import deque
from enum import StrEnum
from re import Pattern
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Self

from agentic.actors._errors import ActorDeadError, MailboxFullError
from agentic.actors._topics import compile_pattern

if TYPE_CHECKING:
    from agentic.actors._ref import ActorRef

__all__ = ["BusEvent", "EventBus", "OverflowPolicy", "Subscription"]

# Above this many distinct topics, the topic -> subscribers cache starts over.
_CACHE_LIMIT = 4096


class OverflowPolicy(StrEnum):
    """What a full subscription queue does with one more event."""

    DROP_OLDEST = "drop_oldest"
    """Drop the oldest queued event to make room (the subscriber sees the latest)."""
    DROP_NEWEST = "drop_newest"
    """Drop the incoming event (the subscriber sees the earliest)."""
    BLOCK = "block"
    """Make the publisher wait up to `block_timeout` seconds for room, then drop.

    A publisher running on the event loop of one of the subscription's `get_async`
    readers drops at once: its wait would stop that reader from making room."""


class BusEvent(NamedTuple):
    """One published event, as a subscriber receives it."""

    topic: str
    """The topic it was published on."""
    payload: Any
    """What was published (a serializable value)."""


class _Subscriber(Protocol):
    regex: Pattern[str]

    def offer(self, event: BusEvent) -> bool: ...


class Subscription:
    """A bounded queue of the events whose topics match one pattern.

    Read with [`get()`][agentic.actors.Subscription.get] or
    [`drain()`][agentic.actors.Subscription.drain]; close (or use as a context
    manager) to stop receiving.
    """

    def __init__(
        self,
        bus: EventBus,
        pattern: str,
        *,
        maxsize: int,
        policy: OverflowPolicy,
        block_timeout: float,
    ) -> None:
        if maxsize < 1:
            msg = f"subscription to {pattern!r}: maxsize must be at least 1, not {maxsize}"
            raise ValueError(msg)
        self._bus = bus
        self.pattern = pattern
        """The topic pattern."""
        self.regex = compile_pattern(pattern)
        self.maxsize = maxsize
        """The most events queued at once."""
        self.policy = policy
        """What happens to one more event when the queue is full."""
        self.block_timeout = block_timeout
        """For `BLOCK`: how long a publisher waits for room."""
        self.dropped = 0
        """Events dropped because the queue was full."""
        self.delivered = 0
        """Events queued for this subscriber."""
        self._items: deque[BusEvent] = deque()
        lock = threading.Lock()
        self._ready = threading.Condition(lock)
        self._room = threading.Condition(lock)
        self.closed = False
        """Whether the subscription has been closed."""
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        # The loops `get_async` has run on: a BLOCK publisher on one of them never waits.
        self._reader_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    def offer(self, event: BusEvent) -> bool:
        """Queue `event` per the overflow policy; return whether it was queued."""
        with self._ready:
            if self.closed:
                return False
            if len(self._items) >= self.maxsize:
                if self.policy is OverflowPolicy.DROP_NEWEST:
                    self.dropped += 1
                    return False
                if self.policy is OverflowPolicy.DROP_OLDEST:
                    self._items.popleft()
                    self.dropped += 1
                elif not self._wait_for_room():
                    self.dropped += 1
                    return False
            self._items.append(event)
            self.delivered += 1
            self._ready.notify()
            self._wake_async()
            return True

    def _wake_async(self) -> None:
        """Wake the coroutines waiting in `get_async` (called with the lock held)."""
        waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            # RuntimeError: that loop is closed; its waiter is gone with it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_wake, future)

    def _wait_for_room(self) -> bool:
        if self._reader_loops and _running_loop() in self._reader_loops:
            # The publisher runs on a reader's loop: while it waits, that reader cannot
            # run to make room, so waiting would only stall the loop, then drop.
            return False
        deadline = time.monotonic() + self.block_timeout
        while len(self._items) >= self.maxsize and not self.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._room.wait(remaining)
        return not self.closed

    def get(self, timeout: float | None = None) -> BusEvent | None:
        """Return the oldest queued event, waiting up to `timeout` s (None: forever).

        Returns:
            The event, or None if none came in time or the subscription is closed.
        """
        with self._ready:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._items:
                if self.closed:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._ready.wait(remaining)
            event = self._items.popleft()
            self._room.notify()
            return event

    def get_nowait(self) -> BusEvent | None:
        """Return the oldest queued event, or None if there is none."""
        return self.get(timeout=0)

    async def get_async(
        self,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors get(); None waits until closed
    ) -> BusEvent | None:
        """Await the oldest queued event without blocking the running loop.

        Returns:
            The event, or None if none came within `timeout` seconds or the
            subscription is closed.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        if loop not in self._reader_loops:
            with self._ready:
                self._reader_loops.add(loop)
        while True:
            with self._ready:
                if self._items:
                    event = self._items.popleft()
                    self._room.notify()
                    return event
                if self.closed:
                    return None
                future: asyncio.Future[None] = loop.create_future()
                waiter = (loop, future)
                self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await future
            except TimeoutError:
                return None
            finally:
                if not future.done() or future.cancelled():
                    # Timed out or cancelled: forget the waiter, or every quiet poll
                    # would leave one (and its loop) behind until the next event.
                    self._forget_waiter(waiter)

    def _forget_waiter(
        self, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]
    ) -> None:
        with self._ready, contextlib.suppress(ValueError):  # already taken by a wake
            self._waiters.remove(waiter)

    def drain(self) -> list[BusEvent]:
        """Return and remove every queued event, oldest first, without waiting."""
        with self._ready:
            items = list(self._items)
            self._items.clear()
            self._room.notify_all()
            return items

    def __len__(self) -> int:
        """Return the number of queued events."""
        return len(self._items)

    def close(self) -> None:
        """Stop receiving; wake any waiting reader or publisher."""
        self._bus.unsubscribe(self)
        with self._ready:
            self.closed = True
            self._ready.notify_all()
            self._room.notify_all()
            self._wake_async()

    def __enter__(self) -> Self:
        """Return the subscription itself."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the subscription."""
        self.close()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _ActorSubscriber:
    """Delivers matching events to an actor as tells that never wait."""

    def __init__(self, pattern: str, ref: ActorRef[Any]) -> None:
        self.pattern = pattern
        self.regex = compile_pattern(pattern)
        self.ref = ref
        self.dropped = 0

    def offer(self, event: BusEvent) -> bool:
        try:
            self.ref.tell(event, timeout=0)
        except MailboxFullError:
            self.dropped += 1
            return False
        except ActorDeadError:
            return False
        return True


class EventBus:
    """Publish/subscribe by topic, for actors and host code alike (`ActorSystem.bus`).

    Example:
        >>> bus = EventBus()
        >>> sub = bus.subscribe("branch.*.message", maxsize=10)
        >>> bus.publish("branch.b1.message", {"text": "hi"})
        1
        >>> sub.get(timeout=0)
        BusEvent(topic='branch.b1.message', payload={'text': 'hi'})
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[_Subscriber, ...] = ()
        self._cache: dict[str, tuple[_Subscriber, ...]] = {}

    def subscribe(
        self,
        pattern: str,
        *,
        maxsize: int = 1000,
        policy: OverflowPolicy = OverflowPolicy.DROP_OLDEST,
        block_timeout: float = 1.0,
    ) -> Subscription:
        """Queue every later event whose topic matches `pattern`.

        Args:
            pattern: the topic pattern (see the module docs for wildcards).
            maxsize: the bound on queued events.
            policy: what to do with one more event when the queue is full.
            block_timeout: for `OverflowPolicy.BLOCK`, the longest a publisher waits.

        Returns:
            The subscription to read from.
        """
        sub = Subscription(
            self, pattern, maxsize=maxsize, policy=policy, block_timeout=block_timeout
        )
        self._add(sub)
        return sub

    def subscribe_actor(self, pattern: str, ref: ActorRef[Any]) -> None:
        """Tell `ref` every later event (a `BusEvent`) whose topic matches `pattern`.

        Delivery never waits: a full mailbox drops the event. The subscription ends
        when the actor stops or on `unsubscribe_actor`.
        """
        self._add(_ActorSubscriber(pattern, ref))

    def unsubscribe_actor(self, ref: ActorRef[Any], pattern: str | None = None) -> None:
        """End `ref`'s subscriptions (to `pattern` only, if given)."""
        with self._lock:
            self._subscribers = tuple(
                s
                for s in self._subscribers
                if not (
                    isinstance(s, _ActorSubscriber)
                    and s.ref == ref
                    and (pattern is None or s.pattern == pattern)
                )
            )
            self._cache = {}

    def _add(self, subscriber: _Subscriber) -> None:
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)
            self._cache = {}

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to `subscription` (what `Subscription.close` does)."""
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscription)
            self._cache = {}

    def publish(self, topic: str, payload: Any = None) -> int:
        """Offer an event to every matching subscriber.

        Never waits on a subscriber, except one with the `BLOCK` policy (at most its
        `block_timeout`).

        Args:
            topic: the dot-separated topic, without wildcards.
            payload: a serializable value.

        Returns:
            How many subscribers queued the event.
        """
        cache = self._cache
        matching = cache.get(topic)
        if matching is None:
            dotted = "." + topic
            matching = tuple(s for s in self._subscribers if s.regex.fullmatch(dotted))
            with self._lock:
                if self._cache is cache:
                    if len(cache) >= _CACHE_LIMIT:
                        cache.clear()
                    cache[topic] = matching
        if not matching:
            return 0
        event = BusEvent(topic, payload)
        return sum(1 for s in matching if s.offer(event))

    def close(self) -> None:
        """Close every subscription (the system does this at shutdown)."""
        with self._lock:
            subscribers, self._subscribers, self._cache = self._subscribers, (), {}
        for sub in subscribers:
            if isinstance(sub, Subscription):
                with sub._ready:  # noqa: SLF001 - the bus owns its subscriptions
                    sub.closed = True
                    sub._ready.notify_all()  # noqa: SLF001
                    sub._room.notify_all()  # noqa: SLF001
                    sub._wake_async()  # noqa: SLF001

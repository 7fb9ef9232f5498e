"""RateLimitProcessor: a token bucket per key, with an optional cost budget."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from agentic.execution._chain import note
from agentic.execution._errors import RateLimitedError
from agentic.execution._keys import by_target
from agentic.execution.types import CallNext, KeyFunc, Sleep
from agentic.primitives import Event, EventStatus

__all__ = ["RateLimitProcessor", "TokenBucket"]

_SWEEP_AT = 1024  # keys kept before those with full buckets are first forgotten


class TokenBucket:
    """A token bucket that lets waiters reserve tokens ahead (the balance may go negative).

    Reserving ahead makes waiting fair (first come, first served) and the rate exact:
    each reservation is told how long to wait until its tokens exist.
    """

    __slots__ = ("_clock", "_stamp", "_tokens", "capacity", "rate")

    def __init__(
        self, capacity: float, rate: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Create a full bucket.

        Args:
            capacity: The most tokens it holds (the burst size).
            rate: Tokens added per second.
            clock: A monotonic clock in seconds.
        """
        self.capacity = capacity
        """The most tokens the bucket holds."""
        self.rate = rate
        """Tokens added per second."""
        self._clock = clock
        self._stamp = clock()
        self._tokens = capacity

    def _refill(self) -> None:
        now = self._clock()
        tokens = self._tokens + (now - self._stamp) * self.rate
        self._tokens = min(self.capacity, tokens)
        self._stamp = now

    def delay(self, amount: float = 1.0) -> float:
        """Return the seconds until `amount` tokens are available (0 if they are now)."""
        self._refill()
        missing = amount - self._tokens
        return max(0.0, missing / self.rate)

    def reserve(self, amount: float = 1.0) -> float:
        """Take `amount` tokens, possibly ahead of time; return the seconds to wait."""
        wait = self.delay(amount)
        self._tokens -= amount
        return wait

    def is_full(self) -> bool:
        """Return whether the bucket holds its whole capacity (as a new bucket does)."""
        self._refill()
        return self._tokens >= self.capacity

    def refund(self, amount: float = 1.0) -> None:
        """Give back tokens a cancelled waiter had reserved."""
        self._tokens = min(self.capacity, self._tokens + amount)


class RateLimitProcessor:
    """Hold each key to `requests` per `interval` (and optionally `cost_limit` cost).

    By default an Event over the limit waits for its turn (pending, in arrival
    order); with `wait=False` it is denied at once, with the seconds it would have
    had to wait in the reason. Waits and denials are noted on the Event. Keys whose
    buckets are full again are forgotten as the table grows, so keys by caller (or
    by anything else unbounded) keep no state for long.
    """

    def __init__(
        self,
        requests: float,
        interval: float = 1.0,
        *,
        burst: float | None = None,
        cost_limit: float | None = None,
        cost: Callable[[Event], float] | None = None,
        key: KeyFunc = by_target,
        wait: bool = True,
        max_wait: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Configure the limit.

        Args:
            requests: Events allowed per interval, per key.
            interval: The interval in seconds.
            burst: The most Events let through at once after a quiet spell
                (default: `requests`, at least 1; a smaller burst is refused).
            cost_limit: A budget of cost units (tokens, say) per interval, per key.
            cost: The cost of an Event (default: 1 per Event); used with `cost_limit`.
            key: What the limit is kept per (default: the target name).
            wait: Wait for capacity (True) or deny at once (False).
            max_wait: With `wait`, deny instead when the wait would be longer.
            sleep: The sleep to wait with (tests may inject one).
        """
        if not (requests > 0 and interval > 0):  # NaN too: it would mean no limit at all
            msg = f"rate limit needs positive requests and interval, got {requests}/{interval}s"
            raise ValueError(msg)
        self.requests = requests
        self.interval = interval
        if burst is not None and burst < 1:
            msg = f"rate limit burst must be at least 1 request, got {burst}"
            raise ValueError(msg)
        # A bucket of fewer than one token never holds a whole request: with wait=False
        # every Event would be denied, each told capacity comes "in 1s".
        self.burst = burst if burst is not None else max(requests, 1.0)
        self.cost_limit = cost_limit
        self.cost = cost
        self.key = key
        self.wait = wait
        self.max_wait = max_wait
        self._sleep = sleep
        self._buckets: dict[str, tuple[TokenBucket, TokenBucket | None]] = {}
        self._sweep_at = _SWEEP_AT

    def _buckets_for(self, key: str) -> tuple[TokenBucket, TokenBucket | None]:
        pair = self._buckets.get(key)
        if pair is None:
            if len(self._buckets) >= self._sweep_at:
                self._sweep()
            requests = TokenBucket(self.burst, self.requests / self.interval)
            budget = None
            if self.cost_limit is not None:
                budget = TokenBucket(self.cost_limit, self.cost_limit / self.interval)
            pair = self._buckets[key] = (requests, budget)
        return pair

    def _sweep(self) -> None:
        """Forget the keys whose buckets are full again (a new bucket is the same).

        Run when the table has doubled since the last sweep, so keys by caller (or
        anything unbounded) cannot grow it without bound, at O(1) amortized cost.
        """
        self._buckets = {
            key: pair
            for key, pair in self._buckets.items()
            if not all(bucket is None or bucket.is_full() for bucket in pair)
        }
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._buckets))

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Take capacity (waiting or refusing), then continue."""
        key = self.key(event)
        requests, budget = self._buckets_for(key)
        amount = self.cost(event) if (budget is not None and self.cost is not None) else 1.0
        delay = requests.delay(1.0)
        if budget is not None:
            delay = max(delay, budget.delay(amount))
        if delay > 0 and (not self.wait or (self.max_wait is not None and delay > self.max_wait)):
            reason = f"rate limit for {key!r} exceeded: next capacity in {delay:.3f}s"
            note(event, "rate_limit", "deny", reason)
            if event.status is EventStatus.PENDING:
                event.deny(reason)
                return event
            raise RateLimitedError(reason, retry_after=delay)
        delay = requests.reserve(1.0)
        if budget is not None:
            delay = max(delay, budget.reserve(amount))
        if delay > 0:
            note(event, "rate_limit", "wait", f"rate limit for {key!r}: waited {delay:.3f}s")
            try:
                await self._sleep(delay)
            except asyncio.CancelledError:
                requests.refund(1.0)
                if budget is not None:
                    budget.refund(amount)
                raise
        return await call_next(event)

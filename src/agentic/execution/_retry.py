"""RetryProcessor: bounded retries with exponential backoff, for retryable errors only."""

from __future__ import annotations

import asyncio
import math
import random

from agentic.execution._chain import note
from agentic.execution.types import CallNext, Sleep
from agentic.primitives import ErrorInfo, Event

__all__ = ["RetryProcessor"]


class RetryProcessor:
    """Run the rest of the chain again when it raises a retryable error.

    An error is retryable when its `retryable` attribute is true (providers set it
    on rate-limit and overload errors) or when it is an instance of `retry_on`. The
    wait before attempt *n + 1* is `base_delay * multiplier ** (n - 1)`, capped at
    `max_delay`, shortened by up to `jitter` of itself at random, and never shorter
    than the error's `retry_after`. A `retry_after` longer than `max_retry_after`
    ends the retries. Every attempt is on the Event (`execution.attempts`), and
    every retry is noted with its reason.
    """

    def __init__(
        self,
        attempts: int = 3,
        *,
        base_delay: float = 0.1,
        multiplier: float = 2.0,
        max_delay: float = 10.0,
        jitter: float = 0.5,
        max_retry_after: float = 60.0,
        retry_on: tuple[type[BaseException], ...] = (),
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Configure the retries.

        Args:
            attempts: The most attempts in all (1 means no retry).
            base_delay: Seconds before the second attempt.
            multiplier: Growth of the delay per attempt.
            max_delay: The longest backoff.
            jitter: The fraction of each delay that is randomised (0 to 1).
            max_retry_after: Give up when the error asks to wait longer than this.
            retry_on: Exception types retried even without a `retryable` flag.
            sleep: The sleep to wait with (tests may inject one).
            rng: The random source for jitter.
        """
        if attempts < 1:
            msg = f"retry needs at least 1 attempt, got {attempts}"
            raise ValueError(msg)
        if not 0 <= jitter <= 1:
            msg = f"jitter must be between 0 and 1, got {jitter}"
            raise ValueError(msg)
        self.attempts = attempts
        self.base_delay = base_delay
        self.multiplier = multiplier
        self.max_delay = max_delay
        self.jitter = jitter
        self.max_retry_after = max_retry_after
        self.retry_on = retry_on
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.retries = 0
        """How many retries this processor has made."""

    def backoff(self, attempt: int) -> float:
        """Return the delay after failed attempt number `attempt` (1-based), with jitter."""
        try:
            grown = self.base_delay * self.multiplier ** (attempt - 1)
        except OverflowError:  # a float past 1e308 after ~1024 doublings: far beyond the cap
            grown = math.inf
        delay = min(self.max_delay, grown)
        return delay * (1.0 - self.jitter * self._rng.random())

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Call the rest of the chain until it succeeds, fails for good, or attempts run out."""
        attempt = 1
        while True:
            try:
                return await call_next(event)
            except Exception as exc:
                info = ErrorInfo.from_exception(exc)
                retryable = info.retryable or isinstance(exc, self.retry_on)
                if not retryable or attempt >= self.attempts:
                    raise
                delay = self.backoff(attempt)
                if info.retry_after is not None:
                    if info.retry_after > self.max_retry_after:
                        raise
                    delay = max(delay, info.retry_after)
                note(
                    event,
                    "retry",
                    "retry",
                    f"attempt {attempt} failed with {info.type}: {info.message}; "
                    f"retrying in {delay:.3f}s",
                )
                self.retries += 1
                attempt += 1
                await self._sleep(delay)

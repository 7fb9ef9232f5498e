"""Tests for RateLimitProcessor and TokenBucket."""

from __future__ import annotations

import asyncio

import pytest
from tests.execution.helpers import Probe, call, no_sleep, run

from agentic.execution import (
    Executor,
    RateLimitedError,
    RateLimitProcessor,
    RetryProcessor,
    TokenBucket,
)
from agentic.primitives import EventStatus


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestTokenBucket:
    def test_full_bucket_lets_a_burst_through(self):
        """A full bucket serves `capacity` tokens without delay, then asks to wait."""
        clock = FakeClock()
        bucket = TokenBucket(3, 1.0, clock=clock)
        assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
        assert bucket.reserve() == pytest.approx(1.0)
        assert bucket.reserve() == pytest.approx(2.0)

    def test_tokens_refill_at_the_rate_up_to_capacity(self):
        """Tokens come back at `rate` per second, never above capacity."""
        clock = FakeClock()
        bucket = TokenBucket(2, 4.0, clock=clock)
        bucket.reserve(2)
        clock.now = 0.25
        assert bucket.delay() == 0.0
        clock.now = 100.0
        bucket.reserve(2)
        assert bucket.delay() == pytest.approx(0.25)

    def test_refund_returns_tokens(self):
        """A refund gives back reserved tokens."""
        clock = FakeClock()
        bucket = TokenBucket(1, 1.0, clock=clock)
        bucket.reserve()
        bucket.refund()
        assert bucket.delay() == 0.0

    def test_is_full_once_refilled(self):
        """A bucket is full when new, not after a reservation, and again once refilled."""
        clock = FakeClock()
        bucket = TokenBucket(2, 4.0, clock=clock)
        assert bucket.is_full()
        bucket.reserve()
        assert not bucket.is_full()
        clock.now = 0.25
        assert bucket.is_full()


class TestRateLimitProcessor:
    def test_holds_the_rate_within_ten_percent_over_two_seconds(self):
        """Counting invocations in a 2 s window gives the configured rate within 10%."""
        probe = Probe()
        rate = 50.0
        stamps: list[float] = []

        async def main():
            limiter = RateLimitProcessor(rate, 1.0, burst=1)

            class Stamp:
                async def __call__(self, event, call_next):
                    stamps.append(asyncio.get_running_loop().time())
                    return await call_next(event)

            ex = Executor(probe.resolver(), [limiter, Stamp()])
            for _ in range(150):  # more than the window can take
                ex.start_soon(call("ok"))
            await asyncio.sleep(2.05)
            await ex.stop(cancel_pending=True)
            return ex

        ex = run(main())
        start = stamps[0]
        in_window = sum(1 for t in stamps if t - start < 2.0)
        expected = rate * 2.0  # burst 1: the first token is there at t=0
        assert abs(in_window - expected) <= 0.1 * expected, in_window
        counts = ex.status_counts()
        assert counts[EventStatus.COMPLETED] == len(stamps)
        assert counts[EventStatus.CANCELLED] == 150 - len(stamps)

    def test_waiting_is_noted(self):
        """An Event that had to wait carries a note saying how long."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), [RateLimitProcessor(20, 1.0, burst=1)])
            first = ex.start_soon(call("ok"))
            second = ex.start_soon(call("ok"))
            return await first, await second

        first, second = run(main())
        assert "decisions" not in first.metadata
        assert second.metadata["decisions"][0]["decision"] == "wait"
        assert second.status is EventStatus.COMPLETED

    def test_fail_fast_denies_with_the_wait_in_the_reason(self):
        """With wait=False an Event over the limit is denied at once, naming the key."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), [RateLimitProcessor(1, 60.0, wait=False)])
            return [await ex.submit(call("ok")) for _ in range(3)]

        events = run(main())
        assert [e.status for e in events] == [
            EventStatus.COMPLETED,
            EventStatus.DENIED,
            EventStatus.DENIED,
        ]
        assert "rate limit for 'ok' exceeded" in (events[1].execution.reason or "")
        assert len(probe.reached) == 1

    def test_max_wait_turns_long_waits_into_denials(self):
        """A wait longer than max_wait is denied instead."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), [RateLimitProcessor(1, 10.0, max_wait=0.5)])
            return [await ex.submit(call("ok")) for _ in range(2)]

        a, b = run(main())
        assert a.status is EventStatus.COMPLETED
        assert b.status is EventStatus.DENIED

    def test_fewer_than_one_request_per_interval_still_lets_one_through(self):
        """0.5 requests per second serves one Event now and denies the next (fail fast)."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), [RateLimitProcessor(0.5, wait=False)])
            return [await ex.submit(call("ok")) for _ in range(2)]

        events = run(main())  # unfixed: a bucket of 0.5 tokens never holds one, all denied
        assert [e.status for e in events] == [EventStatus.COMPLETED, EventStatus.DENIED]
        assert "next capacity in 2.000s" in (events[1].execution.reason or "")

    def test_a_burst_below_one_is_refused(self):
        """A burst under one request could never let an Event through without waiting."""
        with pytest.raises(ValueError, match="burst"):
            RateLimitProcessor(10, burst=0.5)

    def test_limits_are_per_key(self):
        """Each target has its own bucket."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), [RateLimitProcessor(1, 60.0, wait=False)])
            return [await ex.submit(call(t)) for t in ("ok", "slow", "ok")]

        events = run(main())
        assert [e.status for e in events] == [
            EventStatus.COMPLETED,
            EventStatus.COMPLETED,
            EventStatus.DENIED,
        ]

    def test_buckets_of_idle_keys_are_forgotten(self):
        """A per-caller limit over many callers does not keep a bucket per caller ever seen."""
        probe = Probe()

        async def main():
            limiter = RateLimitProcessor(10_000, key=lambda event: event.caller or "")
            ex = Executor(probe.resolver(), [limiter])
            for index in range(3000):
                await ex.submit(call("ok", caller=f"user-{index}"))
            return len(limiter._buckets)  # the table itself must stay bounded

        assert run(main()) <= 1024  # unfixed: 3,000, one per caller ever seen
        assert len(probe.reached) == 3000

    def test_cost_budget(self):
        """A cost budget refuses an Event whose cost does not fit."""
        probe = Probe()

        async def main():
            limiter = RateLimitProcessor(
                100,
                60.0,
                cost_limit=10,
                cost=lambda e: float(e.arguments.get("tokens", 1)),
                wait=False,
            )
            ex = Executor(probe.resolver(), [limiter])
            return [await ex.submit(call("ok", tokens=n)) for n in (6, 3, 2)]

        events = run(main())
        assert [e.status for e in events] == [
            EventStatus.COMPLETED,
            EventStatus.COMPLETED,
            EventStatus.DENIED,
        ]

    def test_inside_a_retry_the_limit_raises_a_retryable_error(self):
        """Behind a retry, a running Event over the limit gets a retryable RateLimitedError."""
        probe = Probe()

        async def main():
            chain = [RetryProcessor(2, sleep=no_sleep), RateLimitProcessor(1, 60.0, wait=False)]
            ex = Executor(probe.resolver(), chain)
            await ex.submit(call("ok"))
            return await ex.submit(call("flaky", fails=1))

        event = run(main())
        # the first attempt of "flaky" passes the limiter (own key), fails retryably;
        # the second is refused by the limiter while running: a retryable error.
        assert event.status is EventStatus.FAILED
        assert event.execution.error.type == "agentic.execution.RateLimitedError"  # type: ignore[union-attr]
        assert event.execution.error.retryable  # type: ignore[union-attr]
        assert RateLimitedError("x", retry_after=1.0).retry_after == 1.0

    def test_rejects_nonsense_configuration(self):
        """Zero or negative rates are refused at construction."""
        with pytest.raises(ValueError, match="positive"):
            RateLimitProcessor(0)

    def test_a_nan_rate_is_refused(self):
        """A NaN rate or interval (no limit at all, in effect) is refused."""
        for requests, interval in ((float("nan"), 1.0), (1.0, float("nan"))):
            with pytest.raises(ValueError, match="positive"):
                RateLimitProcessor(requests, interval)

"""Tests for RetryProcessor: bounded, backed off, retryable errors only."""

from __future__ import annotations

import random

import pytest
from tests.execution.helpers import Probe, call, run

from agentic.execution import Executor, RetryProcessor
from agentic.primitives import EventStatus


class Sleeps:
    """An injectable sleep that records the delays."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def submit(chain, c):
    probe = Probe()

    async def main():
        return await Executor(probe.resolver(), chain).submit(c)

    return run(main()), probe


class TestRetry:
    def test_retryable_errors_are_retried_until_success(self):
        """A retryable failure is retried; every attempt is recorded on the Event."""
        sleeps = Sleeps()
        retry = RetryProcessor(5, base_delay=0.1, jitter=0, sleep=sleeps)
        event, probe = submit([retry], call("flaky", fails=2))
        assert event.status is EventStatus.COMPLETED
        assert event.execution.response == "recovered"
        attempts = event.execution.attempts
        assert [a.number for a in attempts] == [1, 2, 3]
        assert [a.error is not None for a in attempts] == [True, True, False]
        assert sleeps.delays == [0.1, 0.2]
        assert retry.retries == 2
        assert probe.reached == ["flaky"] * 3
        notes = [d for d in event.metadata["decisions"] if d["by"] == "retry"]
        assert len(notes) == 2
        assert "attempt 1 failed with" in notes[0]["reason"]

    def test_non_retryable_errors_are_not_retried(self):
        """An error without retryable=True fails the Event after one attempt."""
        sleeps = Sleeps()
        event, probe = submit(
            [RetryProcessor(5, sleep=sleeps)], call("flaky", fails=1, retryable=False)
        )
        assert event.status is EventStatus.FAILED
        assert len(event.execution.attempts) == 1
        assert sleeps.delays == []
        assert probe.reached == ["flaky"]

    def test_plain_exceptions_are_not_retried(self):
        """An ordinary exception is final."""
        event, probe = submit([RetryProcessor(5, sleep=Sleeps())], call("boom"))
        assert event.status is EventStatus.FAILED
        assert probe.reached == ["boom"]

    def test_attempts_are_bounded(self):
        """After `attempts` tries the last error fails the Event."""
        sleeps = Sleeps()
        event, _probe = submit([RetryProcessor(3, sleep=sleeps)], call("flaky", fails=10))
        assert event.status is EventStatus.FAILED
        assert len(event.execution.attempts) == 3
        assert len(sleeps.delays) == 2
        assert event.execution.error.retryable  # type: ignore[union-attr]

    def test_retry_after_is_honoured(self):
        """A retry_after longer than the backoff is waited out."""
        sleeps = Sleeps()
        retry = RetryProcessor(3, base_delay=0.01, jitter=0, sleep=sleeps)
        event, _ = submit([retry], call("flaky", fails=1, retry_after=2.5))
        assert event.status is EventStatus.COMPLETED
        assert sleeps.delays == [2.5]

    def test_too_long_retry_after_gives_up(self):
        """A retry_after beyond max_retry_after ends the retries."""
        sleeps = Sleeps()
        retry = RetryProcessor(3, max_retry_after=1.0, sleep=sleeps)
        event, _ = submit([retry], call("flaky", fails=1, retry_after=30))
        assert event.status is EventStatus.FAILED
        assert sleeps.delays == []

    def test_retry_on_types(self):
        """Exception types in retry_on are retried without a retryable flag."""
        sleeps = Sleeps()
        retry = RetryProcessor(2, retry_on=(ValueError,), sleep=sleeps)
        event, probe = submit([retry], call("boom"))
        assert probe.reached == ["boom", "boom"]
        assert event.status is EventStatus.FAILED

    def test_backoff_grows_and_is_capped_with_bounded_jitter(self):
        """Delays grow by the multiplier up to max_delay; jitter only shortens them."""
        retry = RetryProcessor(
            10, base_delay=1, multiplier=2, max_delay=5, jitter=0.5, rng=random.Random(1)
        )
        for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 5), (9, 5)]:
            delay = retry.backoff(attempt)
            assert ceiling * 0.5 <= delay <= ceiling

    def test_many_retries_keep_the_capped_delay(self):
        """Past attempt 1024 the exponential backoff stays max_delay (it does not overflow)."""
        sleeps = Sleeps()
        retry = RetryProcessor(1100, base_delay=0.5, max_delay=2.0, jitter=0, sleep=sleeps)
        event, probe = submit([retry], call("flaky", fails=1050))
        assert event.status is EventStatus.COMPLETED, event.execution.error
        assert len(probe.reached) == 1051
        assert sleeps.delays[:3] == [0.5, 1.0, 2.0]
        assert set(sleeps.delays[2:]) == {2.0}
        assert retry.backoff(10**6) == 2.0

    def test_rejects_bad_configuration(self):
        """Zero attempts or jitter outside [0, 1] are refused."""
        with pytest.raises(ValueError, match="at least 1"):
            RetryProcessor(0)
        with pytest.raises(ValueError, match="jitter"):
            RetryProcessor(2, jitter=2)

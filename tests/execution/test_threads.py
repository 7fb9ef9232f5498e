"""Tests for ThreadRunner: sync work in threads, abandoned on cancellation."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from tests.execution.helpers import run

from agentic.execution import ThreadRunner

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


class TestThreadRunner:
    def test_runs_off_the_loop_thread_and_returns_the_result(self):
        """The callable runs in another thread; its result comes back."""
        runner = ThreadRunner()
        loop_thread = threading.get_ident()

        async def main():
            return await runner.run(lambda x: (x * 2, threading.get_ident()), 21)

        value, ident = run(main())
        assert value == 42
        assert ident != loop_thread
        assert (runner.started, runner.running, runner.abandoned) == (1, 0, 0)

    def test_exceptions_propagate(self):
        """An exception in the thread is raised to the awaiter."""

        def fail():
            msg = "in thread"
            raise ValueError(msg)

        with pytest.raises(ValueError, match="in thread"):
            run(ThreadRunner().run(fail))

    def test_context_variables_are_copied(self):
        """The thread sees the caller's context variables."""

        async def main():
            request_id.set("r-1")
            return await ThreadRunner().run(request_id.get)

        assert run(main()) == "r-1"

    def test_cancelled_call_is_abandoned_and_later_calls_still_run(self):
        """Cancelling a running call abandons its thread; new calls are not blocked by it."""
        runner = ThreadRunner()
        release = threading.Event()

        async def main():
            stuck = asyncio.create_task(runner.run(release.wait, 5))
            await asyncio.sleep(0.02)
            stuck.cancel()
            with pytest.raises(asyncio.CancelledError):
                await stuck
            return await asyncio.gather(*(runner.run(lambda i=i: i) for i in range(20)))

        try:
            assert run(main()) == list(range(20))
            assert runner.abandoned == 1
            assert runner.running == 1
        finally:
            release.set()

    def test_stop_iteration_fails_the_call_instead_of_hanging_it(self):
        """next() on an empty iterator in the thread fails the await (a future cannot hold it)."""
        runner = ThreadRunner()

        async def main():
            # A liveness bound only: unfixed, the future never settled and this hung.
            return await asyncio.wait_for(runner.run(next, iter([])), 20)

        with pytest.raises(RuntimeError, match="StopIteration") as caught:
            run(main())
        assert isinstance(caught.value.__cause__, StopIteration)
        assert runner.running == 0

    def test_a_thread_that_cannot_start_is_not_counted_as_running(self, monkeypatch):
        """When the system refuses a new thread, the call fails and `running` stays exact."""
        runner = ThreadRunner()

        def refuse(self):
            msg = "can't start new thread"
            raise RuntimeError(msg)

        monkeypatch.setattr(threading.Thread, "start", refuse)
        with pytest.raises(RuntimeError, match="can't start new thread"):
            run(runner.run(lambda: 1))
        assert (runner.started, runner.running) == (0, 0)  # unfixed: (1, 1) forever

    def test_many_threads_counted_exactly(self):
        """Fifty concurrent calls are all counted as started and none left running."""
        runner = ThreadRunner()

        async def main():
            return await asyncio.gather(*(runner.run(sum, [i, i]) for i in range(50)))

        assert run(main()) == [2 * i for i in range(50)]
        assert runner.started == 50
        assert runner.running == 0

"""Tests for TimeoutProcessor: deadlines that really cancel."""

from __future__ import annotations

import asyncio
import threading

import pytest
from tests.execution.helpers import FlakyError, Probe, call, no_sleep, run

from agentic.execution import (
    Call,
    Executor,
    FunctionTarget,
    RetryProcessor,
    TargetMap,
    ThreadRunner,
    TimeoutProcessor,
)
from agentic.primitives import EventStatus


class TestTimeout:
    def test_a_hanging_target_is_cancelled_and_the_event_fails(self):
        """After the deadline the target's coroutine sees CancelledError; the Event fails."""
        probe = Probe()

        async def main():
            timeout = TimeoutProcessor(0.05)
            ex = Executor(probe.resolver(), [timeout])
            event = await ex.submit(call("hang", tag="h"))
            return event, timeout

        event, timeout = run(main())
        assert probe.cancelled == ["h"]
        assert event.status is EventStatus.FAILED
        err = event.execution.error
        assert err is not None
        assert err.type == "agentic.execution.InvocationTimeoutError"
        assert "'hang' timed out after 0.05s" in err.message
        assert timeout.timed_out == 1
        assert event.execution.attempts[0].error.type == "CancelledError"  # type: ignore[union-attr]

    def test_fast_targets_are_untouched(self):
        """Targets that finish in time complete normally and nothing is cancelled."""
        probe = Probe()

        async def main():
            timeout = TimeoutProcessor(5)
            ex = Executor(probe.resolver(), [timeout])
            events = await asyncio.gather(
                *(ex.submit(call("slow", seconds=0.001)) for _ in range(50))
            )
            return events, timeout

        events, timeout = run(main())
        assert all(e.status is EventStatus.COMPLETED for e in events)
        assert timeout.timed_out == 0
        assert probe.cancelled == []

    def test_overrides_per_target(self):
        """A per-target deadline replaces the default for that target."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), [TimeoutProcessor(5, overrides={"slow": 0.02})])
            return await ex.submit(call("slow", seconds=1))

        assert run(main()).status is EventStatus.FAILED

    def test_the_targets_own_timeout_error_is_not_ours(self):
        """A TimeoutError raised by the target itself passes through as that error."""

        async def raises(arguments):
            msg = "upstream took too long"
            raise TimeoutError(msg)

        async def main():
            ex = Executor(TargetMap([FunctionTarget("t", raises)]), [TimeoutProcessor(5)])
            return await ex.submit(call("t"))

        event = run(main())
        assert event.execution.error.type == "TimeoutError"  # type: ignore[union-attr]
        assert event.execution.error.message == "upstream took too long"  # type: ignore[union-attr]

    def test_an_outside_cancel_is_not_turned_into_a_timeout(self):
        """Executor.cancel() during a guarded run cancels the Event; it is not a timeout."""
        probe = Probe()

        async def main():
            timeout = TimeoutProcessor(5)
            ex = Executor(probe.resolver(), [timeout])
            c = call("hang")
            task = ex.start_soon(c)
            await asyncio.sleep(0.01)
            assert ex.cancel(c.id)
            return await task, timeout

        event, timeout = run(main())
        assert event.status is EventStatus.CANCELLED
        assert timeout.timed_out == 0

    def test_a_sync_target_in_a_thread_is_abandoned_and_counted(self):
        """A blocking target cannot be interrupted: its thread is abandoned and counted."""
        release = threading.Event()
        runner = ThreadRunner()

        def blocking():
            release.wait(5)
            return "late"

        async def invoke(arguments):
            return await runner.run(blocking)

        async def main():
            ex = Executor(TargetMap([FunctionTarget("block", invoke)]), [TimeoutProcessor(0.05)])
            return await ex.submit(call("block"))

        try:
            event = run(main())
            assert event.status is EventStatus.FAILED
            assert runner.abandoned == 1
            assert runner.running == 1
        finally:
            release.set()

    def test_timeouts_are_not_retried_unless_configured(self):
        """A timeout is final by default, and retried when marked retryable."""
        probe = Probe()

        async def main(retryable):
            chain = [RetryProcessor(3, sleep=no_sleep), TimeoutProcessor(0.02, retryable=retryable)]
            ex = Executor(probe.resolver(), chain)
            return await ex.submit(call("hang"))

        once = run(main(False))
        assert len(once.execution.attempts) == 1
        thrice = run(main(True))
        assert len(thrice.execution.attempts) == 3
        assert thrice.status is EventStatus.FAILED

    def test_a_target_that_turns_the_cancel_into_its_own_error_is_not_reported_cancelled(self):
        """A target converting one deadline's CancelledError leaves no cancel behind for later."""
        attempts: list[int] = []

        async def wrapped(arguments):
            attempts.append(1)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if len(attempts) == 1:  # user code that turns a failure into its own error
                    raise FlakyError("interrupted", retryable=True) from None
                raise

        async def main():
            targets = TargetMap([FunctionTarget("wrapped", wrapped)])
            chain = [RetryProcessor(3, sleep=no_sleep), TimeoutProcessor(0.02)]
            return await Executor(targets, chain).submit(call("wrapped"))

        event = run(main())
        # unfixed: the first deadline's cancel was never uncancelled, so the second
        # deadline's was taken for an outside cancel: the Event ended cancelled
        # (nobody cancelled it) after 2 attempts instead of timing out
        assert event.status is EventStatus.FAILED, event.execution
        assert event.execution.error.type == "agentic.execution.InvocationTimeoutError"  # type: ignore[union-attr]
        assert len(attempts) == 2

    def test_rejects_non_positive_deadlines(self):
        """A zero deadline is refused."""
        with pytest.raises(ValueError, match="positive"):
            TimeoutProcessor(0)
        with pytest.raises(ValueError, match="positive"):
            TimeoutProcessor(1, overrides={"x": -1})

    def test_a_nan_deadline_is_refused(self):
        """NaN (TOML and JSON can spell it) is no deadline at all: refused, not silently none."""
        with pytest.raises(ValueError, match="positive"):
            TimeoutProcessor(float("nan"))
        with pytest.raises(ValueError, match="positive"):
            TimeoutProcessor(1, overrides={"x": float("nan")})


class TestSharedAcrossLoops:
    def test_one_processor_serves_loops_on_two_threads_at_once(self):
        """A TimeoutProcessor shared by executors on two loops keeps every deadline of both."""
        timeout = TimeoutProcessor(0.2)
        started = threading.Barrier(2)
        outcomes: dict[str, EventStatus] = {}

        async def hang(_arguments):
            await asyncio.sleep(3)  # unfixed, one loop's deadline was lost and this ran out
            return "late"

        def worker(name: str) -> None:
            async def main() -> EventStatus:
                executor = Executor(TargetMap([FunctionTarget("hang", hang)]), [timeout])
                task = executor.start_soon(Call(target="hang", arguments={}))
                await asyncio.to_thread(started.wait)  # both loops have armed a deadline
                return (await task).status

            outcomes[name] = asyncio.run(main())

        threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == {"a": EventStatus.FAILED, "b": EventStatus.FAILED}
        assert timeout.timed_out == 2

"""Tests for the Executor: many callers, terminal Events, cancel, drain and stop."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import threading
from collections import Counter

import pytest
from tests.execution.helpers import Probe, call, run

from agentic.errors import ElementExistsError
from agentic.execution import (
    Call,
    ExecutionError,
    Executor,
    ExecutorClosedError,
    FunctionTarget,
    Policy,
    Rule,
    TargetMap,
    ThreadRunner,
    TimeoutProcessor,
    default_chain,
)
from agentic.primitives import Event, EventStatus


def full_chain(**options):
    policy = Policy(rules=[Rule(name="no-secrets", effect="deny", targets=["secret_*"])])
    options.setdefault("timeout", 0.5)
    return default_chain(policy=policy, **options)


class TestSubmit:
    def test_submit_returns_the_terminal_event(self):
        """submit() awaits the Event through the chain and returns it, completed."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver())
            return await ex.submit(call("ok", tag="a"))

        event = run(main())
        assert event.status is EventStatus.COMPLETED
        assert probe.reached == ["a"]

    def test_start_soon_returns_a_task_of_the_event(self):
        """start_soon() (alias submit_nowait) returns a Task whose result is the Event."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), ())
            c = call("ok")
            task = ex.submit_nowait(c)
            assert isinstance(task, asyncio.Task)
            assert c.status is EventStatus.PENDING
            return c, await task

        c, result = run(main())
        assert result is c
        assert c.status is EventStatus.COMPLETED

    def test_plain_events_run_their_execute(self):
        """An Event that is not a Call runs its own execute()."""

        class Answer(Event):
            async def execute(self):
                return 42

        async def main():
            return await Executor(None, ()).submit(Answer())

        assert run(main()).execution.response == 42

    def test_no_resolver_fails_calls_clearly(self):
        """Without a resolver a Call fails, naming the target."""

        async def main():
            return await Executor(None, ()).submit(call("x"))

        event = run(main())
        assert event.status is EventStatus.FAILED
        assert "no resolver" in event.execution.error.message  # type: ignore[union-attr]

    def test_foreign_resolver_errors_become_not_found(self):
        """A resolver raising a foreign error fails the Call with TargetNotFoundError."""

        class Broken:
            def resolve(self, name):
                raise RuntimeError("db down")

        async def main():
            return await Executor(Broken(), ()).submit(call("x"))

        error = run(main()).execution.error
        assert error.type == "agentic.execution.TargetNotFoundError"  # type: ignore[union-attr]
        assert "db down" in error.message  # type: ignore[union-attr]

    def test_the_same_event_cannot_be_submitted_twice(self):
        """A second submission of one Event is refused (no duplicates)."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver())
            c = call("ok")
            ex.start_soon(c)
            with pytest.raises(ElementExistsError):
                ex.start_soon(c)
            await ex.drain()
            with pytest.raises(ExecutionError, match="only pending Events"):
                ex.start_soon(c)
            return ex

        ex = run(main())
        assert len(ex.events) == 1
        assert probe.reached == ["ok"]

    def test_start_soon_needs_a_running_loop(self):
        """Outside a loop start_soon() explains what is missing."""
        with pytest.raises(ExecutionError, match="running asyncio loop"):
            Executor(None, ()).start_soon(Event())

    def test_caller_cancellation_cancels_the_event(self):
        """Cancelling the coroutine awaiting submit() cancels the Event too."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), ())
            c = call("hang", tag="h")
            waiter = asyncio.create_task(ex.submit(c))
            await asyncio.sleep(0.01)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            await ex.drain()
            return c

        c = run(main())
        assert c.status is EventStatus.CANCELLED
        assert probe.cancelled == ["h"]


class TestManyInFlight:
    def test_a_thousand_events_through_the_full_chain(self):
        """1,000 Events in flight at once all end terminal, none lost, none duplicated."""
        probe = Probe()
        kinds = ["ok", "slow", "boom", "secret_op", "flaky", "hang", "missing", "unserializable"]
        calls = [
            call(kinds[i % len(kinds)], tag=str(i), seconds=0.001, fails=1) for i in range(1000)
        ]

        async def main():
            # Only "hang" has a short deadline, so a loaded machine cannot time out the rest.
            chain = [*full_chain(timeout=None), TimeoutProcessor(30, overrides={"hang": 0.2})]
            ex = Executor(probe.resolver(), chain)
            tasks = [ex.start_soon(c) for c in calls]
            assert ex.in_flight == 1000
            results = await asyncio.gather(*tasks)
            return ex, results

        ex, results = run(main())
        assert [e.id for e in results] == [c.id for c in calls]
        assert all(e.status.is_terminal for e in results)
        assert ex.arrivals.ids() == [c.id for c in calls]
        assert len(ex.events) == 1000
        assert ex.in_flight == 0
        counts = ex.status_counts()
        per_kind = Counter(c.target for c in calls)
        assert counts[EventStatus.DENIED] == per_kind["secret_op"]
        assert (
            counts[EventStatus.COMPLETED] == per_kind["ok"] + per_kind["slow"] + per_kind["flaky"]
        )
        assert counts[EventStatus.FAILED] == (
            per_kind["boom"] + per_kind["hang"] + per_kind["missing"] + per_kind["unserializable"]
        )
        assert sum(counts.values()) == 1000
        logs = ex.logs
        assert len(logs) == 1000
        assert len({log.event_id for log in logs}) == 1000
        # each allowed, resolvable target was reached once per Call (flaky: twice)
        reached = Counter(probe.reached)
        assert reached["boom"] == per_kind["boom"]
        assert reached["hang"] == per_kind["hang"]
        tagged = sum(1 for t in probe.reached if t.isdigit())
        assert tagged == per_kind["ok"] + per_kind["slow"] + 2 * per_kind["flaky"]
        assert "secret_op" not in reached

    def test_many_callers_concurrently(self):
        """Twenty concurrent callers each get their own Events back, all terminal."""
        probe = Probe()

        async def caller(ex, n):
            return [await ex.submit(call("slow", caller=f"c{n}", seconds=0)) for _ in range(25)]

        async def main():
            ex = Executor(probe.resolver(), full_chain())
            batches = await asyncio.gather(*(caller(ex, n) for n in range(20)))
            return ex, batches

        ex, batches = run(main())
        for n, batch in enumerate(batches):
            assert {e.caller for e in batch} == {f"c{n}"}
            assert all(e.status is EventStatus.COMPLETED for e in batch)
        assert ex.status_counts()[EventStatus.COMPLETED] == 500

    def test_threads_submit_to_a_loop_thread(self):
        """Eight threads submitting through a loop thread get every Event back exactly once."""
        probe = Probe()
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve():
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        server = threading.Thread(target=serve)
        server.start()
        ready.wait()
        ex = Executor(probe.resolver(), full_chain())  # built off the loop thread
        results: dict[int, list[Call]] = {}

        def client(n):
            mine = []
            for i in range(50):
                c = call("ok", caller=f"t{n}", tag=f"{n}-{i}")
                mine.append(asyncio.run_coroutine_threadsafe(ex.submit(c), loop).result(10))
            results[n] = mine

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        asyncio.run_coroutine_threadsafe(ex.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        server.join()
        loop.close()
        assert sorted(results) == list(range(8))
        assert all(len(r) == 50 for r in results.values())
        assert sorted(probe.reached) == sorted(f"{n}-{i}" for n in range(8) for i in range(50))
        assert ex.status_counts()[EventStatus.COMPLETED] == 400
        assert len(set(ex.arrivals.ids())) == 400


class TestCancel:
    def test_cancel_a_running_event(self):
        """cancel() stops a running Event; it ends cancelled with the reason."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), ())
            c = call("hang")
            task = ex.start_soon(c)
            await asyncio.sleep(0.01)
            assert ex.cancel(c.id, "no longer needed")
            return await task

        event = run(main())
        assert event.status is EventStatus.CANCELLED
        assert event.execution.reason == "no longer needed"

    def test_cancel_before_it_starts(self):
        """An Event cancelled before its task ran is cancelled and never invoked."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), ())
            c = call("ok")
            task = ex.start_soon(c)
            assert ex.cancel(str(c.id))
            return await task

        event = run(main())
        assert event.status is EventStatus.CANCELLED
        assert probe.reached == []

    def test_a_second_cancel_before_it_starts_keeps_the_event_and_its_log(self):
        """Cancelling a not-yet-started Event twice (or then stopping) still returns it, logged once."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), full_chain())
            twice, stopped = call("ok"), call("ok")
            tasks = [ex.start_soon(twice), ex.start_soon(stopped)]
            assert ex.cancel(twice.id, "first")
            assert not ex.cancel(twice.id, "second")  # already cancelled: nothing to do
            assert ex.cancel(stopped.id, "by hand")
            await ex.stop(cancel_pending=True)
            # unfixed: the tasks themselves were cancelled, so awaiting them raised
            # CancelledError, and the audit never saw the Events
            return [await task for task in tasks], ex.logs

        events, logs = run(main())
        assert [e.status for e in events] == [EventStatus.CANCELLED] * 2
        assert [e.execution.reason for e in events] == ["first", "by hand"]
        assert [log.event_id for log in logs] == [e.id for e in events]
        assert probe.reached == []

    def test_an_event_cancelled_then_abandoned_by_its_submitter_is_logged(self):
        """Cancelled before it started, then its submitter cancelled too: still logged once."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), full_chain())
            c = call("ok")
            submitter = asyncio.ensure_future(ex.submit(c))
            await asyncio.sleep(0)  # submit() has started the Event's task, not yet run
            assert ex.cancel(c.id, "by hand")
            submitter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await submitter
            await ex.drain()
            return c, ex.logs

        event, logs = run(main())
        assert (event.status, event.execution.reason) == (EventStatus.CANCELLED, "by hand")
        assert [log.event_id for log in logs] == [event.id]

    def test_cancel_a_waiting_event(self):
        """An Event waiting for a concurrency slot can be cancelled; it never runs."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), full_chain(concurrency=1, timeout=None))
            first = call("slow", seconds=0.05, tag="first")
            second = call("slow", seconds=0.05, tag="second")
            ex.start_soon(first)
            task = ex.start_soon(second)
            await asyncio.sleep(0.01)
            assert second.status is EventStatus.PENDING
            assert ex.cancel(second.id)
            await ex.drain()
            return first, await task

        first, second = run(main())
        assert first.status is EventStatus.COMPLETED
        assert second.status is EventStatus.CANCELLED
        assert probe.reached == ["first"]

    def test_cancel_unknown_or_finished_is_false(self):
        """Cancelling an unknown or finished Event returns False."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), ())
            c = await ex.submit(call("ok"))
            return ex.cancel(c.id), ex.cancel(call("ok").id)

        assert run(main()) == (False, False)


class TestDrainAndStop:
    def test_drain_waits_for_everything(self):
        """drain() returns when every submitted Event is terminal."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), ())
            for i in range(30):
                ex.start_soon(call("slow", seconds=0.001 * (i % 5)))
            await ex.drain()
            return ex

        ex = run(main())
        assert ex.in_flight == 0
        assert ex.status_counts()[EventStatus.COMPLETED] == 30

    def test_stop_refuses_new_events(self):
        """After stop() a submission raises ExecutorClosedError."""

        async def main():
            ex = Executor(None, ())
            await ex.stop()
            assert ex.closed
            with pytest.raises(ExecutorClosedError, match="is stopped"):
                await ex.submit(Event())

        run(main())

    def test_stop_cancel_pending_leaves_nothing_unfinished(self):
        """stop(cancel_pending=True) cancels what runs; every Event ends terminal."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), full_chain(concurrency=2, timeout=None))
            for _ in range(10):
                ex.start_soon(call("hang"))
            await asyncio.sleep(0.01)
            await ex.stop(cancel_pending=True)
            return ex

        ex = run(main())
        counts = ex.status_counts()
        assert counts[EventStatus.CANCELLED] == 10
        assert all(e.status.is_terminal for e in ex.events)
        assert len(ex.logs) == 10

    def test_stop_with_grace_finishes_quick_ones_and_cancels_the_rest(self):
        """stop(grace=...) lets quick Events finish, then cancels the rest."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), ())
            quick = [ex.start_soon(call("slow", seconds=0.001)) for _ in range(5)]
            stuck = [ex.start_soon(call("hang")) for _ in range(5)]
            await ex.stop(grace=0.1)
            return [t.result() for t in quick], [t.result() for t in stuck]

        quick, stuck = run(main())
        assert all(e.status is EventStatus.COMPLETED for e in quick)
        assert all(e.status is EventStatus.CANCELLED for e in stuck)
        assert "grace period" in (stuck[0].execution.reason or "")

    def test_prune_forgets_finished_events(self):
        """prune() drops terminal Events and keeps running ones."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), ())
            await ex.submit(call("ok"))
            c = call("hang")
            ex.start_soon(c)
            await asyncio.sleep(0)
            dropped = ex.prune()
            kept = list(ex.events)
            await ex.stop(cancel_pending=True)
            return dropped, kept, c

        dropped, kept, c = run(main())
        assert dropped == 1
        assert kept == [c]


class TestHostileInput:
    def test_each_bad_call_fails_clearly_and_the_executor_keeps_serving(self):
        """Unknown target, bad arguments, raising, hanging and unserializable results each
        fail with a clear error, and an ordinary Call still succeeds afterwards."""
        probe = Probe()

        def strict(arguments):
            if not isinstance(arguments.get("n"), int):
                msg = "n must be an integer"
                raise TypeError(msg)
            return arguments

        resolver = probe.resolver()
        resolver.add(FunctionTarget("typed", probe.ok, validate=strict))

        async def main():
            ex = Executor(resolver, full_chain(timeout=0.05))
            bad = [
                call("nope"),
                call("typed", n="seven"),
                call("boom"),
                call("hang"),
                call("unserializable"),
            ]
            results = [await ex.submit(c) for c in bad]
            after = await ex.submit(call("ok", tag="after"))
            return results, after

        results, after = run(main())
        messages = [(e.status, e.execution.error.type, e.execution.error.message) for e in results]  # type: ignore[union-attr]
        assert messages[0][1] == "agentic.execution.TargetNotFoundError"
        assert "unknown target 'nope'" in messages[0][2]
        assert messages[1][1] == "agentic.execution.ArgumentValidationError"
        assert "n must be an integer" in messages[1][2]
        assert messages[2][1:] == ("ValueError", "boom")
        assert messages[3][1] == "agentic.execution.InvocationTimeoutError"
        assert "not JSON-serializable" in messages[4][2]
        assert all(status is EventStatus.FAILED for status, _, _ in messages)
        assert after.status is EventStatus.COMPLETED

    def test_a_target_calling_sys_exit_fails_its_event_not_the_host(self):
        """SystemExit from a target (on the loop or in a thread) fails only its Event."""

        async def exits_on_loop(arguments):
            sys.exit(3)

        def exits_in_thread():
            sys.exit("bad usage")

        async def worker(arguments):
            return await ThreadRunner().run(exits_in_thread)

        resolver = TargetMap(
            [
                FunctionTarget("exits_on_loop", exits_on_loop),
                FunctionTarget("exits_in_thread", worker),
                FunctionTarget("ok", lambda arguments: "fine"),
            ]
        )

        async def main():
            ex = Executor(resolver, full_chain())
            first = await ex.submit(call("exits_on_loop"))
            second = await ex.submit(call("exits_in_thread"))
            after = await ex.submit(call("ok"))
            return first, second, after

        first, second, after = run(main())  # unfixed: asyncio.run itself raised SystemExit
        assert (first.status, second.status) == (EventStatus.FAILED, EventStatus.FAILED)
        assert first.execution.error.type == "agentic.execution.TargetExitError"  # type: ignore[union-attr]
        assert "sys.exit(3)" in first.execution.error.message  # type: ignore[union-attr]
        assert "sys.exit('bad usage')" in second.execution.error.message  # type: ignore[union-attr]
        assert after.status is EventStatus.COMPLETED

    def test_a_processor_that_raises_fails_only_its_event(self):
        """A broken processor fails the Event it was processing; the next one is served."""
        probe = Probe()

        class Broken:
            def __init__(self):
                self.calls = 0

            async def __call__(self, event, call_next):
                self.calls += 1
                if self.calls == 1:
                    raise KeyError("broken processor")
                return await call_next(event)

        async def main():
            ex = Executor(probe.resolver(), [Broken()])
            return await ex.submit(call("ok")), await ex.submit(call("ok"))

        first, second = run(main())
        assert first.status is EventStatus.FAILED
        assert second.status is EventStatus.COMPLETED

    def test_resolver_is_a_protocol(self):
        """TargetMap and FunctionTarget satisfy the Resolver and Target protocols."""
        from agentic.execution import Resolver, Target

        assert isinstance(TargetMap(), Resolver)
        assert isinstance(FunctionTarget("x", lambda a: a), Target)


class TestRandomCancelAndStop:
    @pytest.mark.parametrize("seed", range(6))
    def test_every_accepted_event_ends_terminal_and_is_logged_once(self, seed):
        """Random submits, cancels (by id and of submitters) and a stop: all end, each logged once."""
        rng = random.Random(seed)
        probe = Probe()
        targets = ["ok", "slow", "hang", "flaky", "boom", "secret_op", "missing"]

        async def main():
            ex = Executor(probe.resolver(), full_chain(concurrency=3, timeout=0.05))
            calls, submitters = [], []
            for index in range(120):
                c = call(rng.choice(targets), seconds=rng.random() * 0.02, tag=str(index))
                calls.append(c)
                if rng.random() < 0.5:
                    submitters.append(asyncio.ensure_future(ex.submit(c)))
                else:
                    ex.start_soon(c)
                if rng.random() < 0.3:
                    await asyncio.sleep(0)
                if rng.random() < 0.2:  # often one not started yet, sometimes twice
                    victim = rng.choice(calls[-3:])
                    for _ in range(rng.choice((1, 2))):
                        ex.cancel(victim.id, "at random")
                if rng.random() < 0.1:
                    rng.choice(submitters or [asyncio.ensure_future(asyncio.sleep(0))]).cancel()
            await asyncio.sleep(rng.random() * 0.02)
            await ex.stop(cancel_pending=rng.random() < 0.5, grace=0.02)
            for submitter in submitters:  # one cancelled before it ran never submitted
                with contextlib.suppress(asyncio.CancelledError, ExecutorClosedError):
                    await submitter
            accepted = [c for c in calls if c.id in ex.events]
            return ex, accepted

        ex, accepted = run(main())
        assert [c for c in accepted if not c.status.is_terminal] == []
        assert ex.in_flight == 0
        logged = [log.event_id for log in ex.logs]
        assert sorted(logged) == sorted(c.id for c in accepted)  # each once, none missing

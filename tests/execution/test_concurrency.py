"""Tests for ConcurrencyProcessor."""

from __future__ import annotations

import asyncio
import threading

import pytest
from tests.execution.helpers import Probe, call, run

from agentic.execution import Call, ConcurrencyProcessor, Executor, FunctionTarget, TargetMap
from agentic.primitives import EventStatus


class TestConcurrency:
    @pytest.mark.parametrize("limit", [1, 3, 8])
    def test_at_most_n_in_flight_per_key(self, limit):
        """No more than `limit` Events of one key run at once, and all of them finish."""
        probe = Probe()

        async def main():
            gate = ConcurrencyProcessor(limit)
            ex = Executor(probe.resolver(), [gate])
            tasks = [ex.start_soon(call("slow", seconds=0.005)) for _ in range(40)]
            for _ in range(3):
                await asyncio.sleep(0)
            assert gate.in_flight("slow") == limit
            return await asyncio.gather(*tasks)

        events = run(main())
        assert probe.max_in_flight == limit
        assert all(e.status is EventStatus.COMPLETED for e in events)

    def test_keys_do_not_share_slots(self):
        """Events of another key are not held up by a full key."""
        probe = Probe()

        async def main():
            ex = Executor(probe.resolver(), [ConcurrencyProcessor(1)])
            stuck = call("hang")
            hang = ex.start_soon(stuck)
            ok = await asyncio.wait_for(ex.submit(call("ok")), 2)
            ex.cancel(stuck.id)
            await ex.drain()
            return ok, await hang

        ok, hang = run(main())
        assert ok.status is EventStatus.COMPLETED
        assert hang.status is EventStatus.CANCELLED

    def test_a_waiter_cancelled_as_it_gets_the_slot_passes_it_on(self):
        """A slot handed to a waiter that is cancelled in the same tick goes to the next."""
        probe = Probe()

        async def main():
            gate = ConcurrencyProcessor(1, key=lambda event: "all")
            ex = Executor(probe.resolver(), [gate])
            first, second, third = call("hang", tag="1"), call("ok", tag="2"), call("ok", tag="3")
            tasks = [ex.start_soon(c) for c in (first, second, third)]
            await asyncio.sleep(0.01)
            assert gate.waiting("all") == 2
            assert gate.in_flight("all") == 1
            ex.cancel(first.id)  # releases the slot to `second` ...
            await asyncio.sleep(0)
            ex.cancel(second.id)  # ... which is cancelled before it resumes
            results = await asyncio.gather(*tasks)
            return results, gate

        (a, b, c), gate = run(main())
        assert (a.status, b.status, c.status) == (
            EventStatus.CANCELLED,
            EventStatus.CANCELLED,
            EventStatus.COMPLETED,
        )
        assert gate.in_flight("all") == 0
        assert probe.reached == ["hang", "3"]

    def test_a_key_is_forgotten_when_its_last_event_leaves(self):
        """Per-caller limits over many callers do not keep an entry per caller ever seen."""
        probe = Probe()

        async def main():
            gate = ConcurrencyProcessor(1, key=lambda event: event.caller or "")
            ex = Executor(probe.resolver(), [gate])
            held = [call("hang", caller=f"user-{i}") for i in range(50)]
            waiting = [call("ok", caller=f"user-{i}") for i in range(50)]
            for c in held + waiting:
                ex.start_soon(c)
            await asyncio.gather(*(ex.submit(call("ok", caller=f"once-{i}")) for i in range(2000)))
            during = (gate.keys(), gate.waiting("user-7"), gate.in_flight("user-7"))
            kept = len(gate._slots)  # the table itself must stay bounded
            for c in held[:25]:  # their waiters get the slot, run and leave
                ex.cancel(c.id)
            for c in waiting[25:]:  # the holders of these keys stay
                ex.cancel(c.id)
            await asyncio.sleep(0.05)
            after_cancels = gate.keys()
            await ex.stop(cancel_pending=True)
            return during, kept, after_cancels, gate.keys()

        (keys, waiting, in_flight), kept, after_cancels, at_end = run(main())
        assert kept <= 1024  # unfixed: 2,050, one entry per caller ever seen
        assert sorted(keys) == sorted(f"user-{i}" for i in range(50))  # no once-* left
        assert (waiting, in_flight) == (1, 1)
        assert sorted(after_cancels) == sorted(f"user-{i}" for i in range(25, 50))
        assert at_end == []
        assert len(probe.reached) == 50 + 2000 + 25

    def test_rejects_a_limit_below_one(self):
        """A limit of 0 is refused."""
        with pytest.raises(ValueError, match="at least 1"):
            ConcurrencyProcessor(0)


class TestSharedAcrossLoops:
    def test_a_slot_freed_on_one_loop_wakes_a_waiter_on_another(self):
        """Executors on four loops share one limit of 1: all finish, never two at once."""
        gate = ConcurrencyProcessor(1)
        lock = threading.Lock()
        in_flight = [0, 0]  # now, most ever
        outcomes: dict[int, object] = {}

        async def work(_arguments):
            with lock:
                in_flight[0] += 1
                in_flight[1] = max(in_flight)
            await asyncio.sleep(0.05)
            with lock:
                in_flight[0] -= 1
            return "ok"

        def worker(index: int) -> None:
            async def main() -> object:
                executor = Executor(TargetMap([FunctionTarget("work", work)]), [gate])
                calls = [Call(target="work", arguments={}) for _ in range(3)]
                # Unfixed, a waiter woken from another thread slept until this timeout.
                done = await asyncio.wait_for(asyncio.gather(*map(executor.submit, calls)), 10)
                return [event.status for event in done]

            try:
                outcomes[index] = asyncio.run(main())
            except BaseException as exc:  # reported by the assertion below
                outcomes[index] = exc

        threads = [threading.Thread(target=worker, args=(index,)) for index in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == {index: [EventStatus.COMPLETED] * 3 for index in range(4)}
        assert in_flight == [0, 1]

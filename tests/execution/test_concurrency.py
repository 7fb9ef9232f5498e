"""Tests for ConcurrencyProcessor."""

from __future__ import annotations

import asyncio

import pytest
from tests.execution.helpers import Probe, call, run

from agentic.execution import ConcurrencyProcessor, Executor
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
            await asyncio.sleep(0.001)
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

    def test_rejects_a_limit_below_one(self):
        """A limit of 0 is refused."""
        with pytest.raises(ValueError, match="at least 1"):
            ConcurrencyProcessor(0)

"""A state machine over random mixes of succeeding, failing, slow, hanging and denied Calls."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from tests.execution.helpers import Probe, call

from agentic.execution import Executor, Policy, Rule, TimeoutProcessor, default_chain
from agentic.primitives import EventStatus

EXPECTED = {
    "ok": EventStatus.COMPLETED,
    "slow": EventStatus.COMPLETED,
    "flaky": EventStatus.COMPLETED,  # one retryable failure, then success
    "boom": EventStatus.FAILED,
    "hang": EventStatus.FAILED,  # timed out
    "unserializable": EventStatus.FAILED,
    "missing": EventStatus.FAILED,  # unknown target
    "secret_op": EventStatus.DENIED,
}


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.mark.stateful
class ExecutorMachine(RuleBasedStateMachine):
    """The executor against a model: a list of submitted Calls and their expected ends."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.probe = Probe()
        policy = Policy(rules=[Rule(name="no-secrets", effect="deny", targets=["secret_*"])])
        # Only "hang" has a short deadline: a loaded machine cannot time out the rest.
        chain = [
            *default_chain(policy=policy, timeout=None, concurrency=4),
            TimeoutProcessor(30, overrides={"hang": 0.03}),
        ]
        for processor in chain:
            if hasattr(processor, "_sleep"):
                processor._sleep = _no_sleep  # retries without waiting
        self.executor = Executor(self.probe.resolver(), chain)
        self.batch: list = []
        self.submitted: list = []
        self.expected: Counter = Counter()
        self.cancelled: set = set()
        self.counter = 0

    def teardown(self) -> None:
        self.loop.run_until_complete(self.executor.stop(cancel_pending=True))
        self.loop.close()

    @rule(kind=st.sampled_from(sorted(EXPECTED)), caller=st.sampled_from(["a", "b", None]))
    def add(self, kind, caller):
        """Queue a Call of some kind for the next run."""
        self.counter += 1
        self.batch.append(call(kind, caller=caller, tag=f"t{self.counter}", seconds=0.001, fails=1))

    @precondition(lambda self: self.batch)
    @rule(cancel_first=st.booleans())
    def run_batch(self, cancel_first):
        """Run the queued Calls at once; optionally cancel the first before it starts."""
        batch, self.batch = self.batch, []

        async def go():
            tasks = [self.executor.start_soon(c) for c in batch]
            if cancel_first:
                assert self.executor.cancel(batch[0].id, "model cancel")
            return await asyncio.gather(*tasks)

        results = self.loop.run_until_complete(go())
        assert [e.id for e in results] == [c.id for c in batch]
        for index, event in enumerate(results):
            if cancel_first and index == 0:
                want = EventStatus.CANCELLED
                self.cancelled.add(event.id)
            else:
                want = EXPECTED[event.target]
            assert event.status is want, (event.target, event.execution)
            self.expected[want] += 1
        self.submitted.extend(batch)

    @invariant()
    def counts_match_the_model(self):
        """Status counts equal the model's; nothing is left running."""
        counts = self.executor.status_counts()
        assert {s: n for s, n in counts.items() if n} == {
            s: n for s, n in self.expected.items() if n
        }
        assert self.executor.in_flight == 0

    @invariant()
    def arrival_order_is_submission_order(self):
        """The executor keeps every Call once, in the order it was submitted."""
        assert self.executor.arrivals.ids() == [c.id for c in self.submitted]

    @invariant()
    def denied_and_cancelled_never_reach_their_target(self):
        """Denied or pre-cancelled Calls never reached the target; others as modelled."""
        reached = Counter(self.probe.reached)
        for c in self.submitted:
            tag = c.arguments["tag"]
            if c.id in self.cancelled or c.target in ("secret_op", "missing", "unserializable"):
                assert reached[tag] == 0
            elif c.target == "flaky":
                assert reached[tag] == 2
            elif c.target in ("ok", "slow"):
                assert reached[tag] == 1

    @invariant()
    def one_log_per_finished_event(self):
        """The audit has exactly one Log per submitted Call."""
        logs = self.executor.logs
        assert sorted(str(log.event_id) for log in logs) == sorted(
            str(c.id) for c in self.submitted
        )


ExecutorMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=12, deadline=None)
TestExecutorMachine = pytest.mark.stateful(ExecutorMachine.TestCase)

"""Tests for default_chain: which processors, in which order, and the order of the gates."""

from __future__ import annotations

from tests.execution.helpers import Probe, call, run

from agentic.execution import (
    AuditProcessor,
    ConcurrencyProcessor,
    Executor,
    FunctionTarget,
    Policy,
    PolicyProcessor,
    RateLimitProcessor,
    RetryProcessor,
    Rule,
    TimeoutProcessor,
    ValidationProcessor,
    default_chain,
)
from agentic.primitives import EventStatus


def kinds(chain):
    return [type(p) for p in chain]


class TestDefaultChain:
    def test_order(self):
        """audit → validation → policy → rate limit → concurrency → retry → timeout."""
        chain = default_chain(requests_per_second=10)
        assert kinds(chain) == [
            AuditProcessor,
            ValidationProcessor,
            PolicyProcessor,
            RateLimitProcessor,
            ConcurrencyProcessor,
            RetryProcessor,
            TimeoutProcessor,
        ]

    def test_options_drop_processors(self):
        """Turning options off leaves those processors out."""
        chain = default_chain(concurrency=None, timeout=None, attempts=1, audit=False)
        assert kinds(chain) == [ValidationProcessor, PolicyProcessor]

    def test_executor_defaults_to_the_default_chain(self):
        """Executor() without processors uses default_chain()."""
        assert kinds(Executor().chain.processors) == kinds(default_chain())


class TestGateOrder:
    def test_validation_comes_before_policy(self):
        """A Call that is both malformed and forbidden fails validation (policy never sees it)."""
        probe = Probe()

        def strict(arguments):
            if "n" not in arguments:
                msg = "n is required"
                raise ValueError(msg)
            return arguments

        resolver = probe.resolver()
        resolver.add(FunctionTarget("secret_typed", probe.ok, validate=strict))
        policy = Policy(rules=[Rule(name="no-secrets", effect="deny", targets=["secret_*"])])

        async def main():
            ex = Executor(resolver, default_chain(policy=policy))
            return await ex.submit(call("secret_typed")), await ex.submit(call("secret_typed", n=1))

        malformed, forbidden = run(main())
        assert malformed.status is EventStatus.FAILED
        assert "decisions" not in malformed.metadata
        assert forbidden.status is EventStatus.DENIED
        assert probe.reached == []

    def test_denied_calls_take_no_rate_limit_capacity(self):
        """Policy runs before the rate limit, so denials use up no tokens."""
        probe = Probe()
        policy = Policy(rules=[Rule(name="no-secrets", effect="deny", targets=["secret_*"])])
        chain = [
            ValidationProcessor(),
            PolicyProcessor(policy),
            RateLimitProcessor(1, 60.0, wait=False, key=lambda e: "shared"),
        ]

        async def main():
            ex = Executor(probe.resolver(), chain)
            denied = [await ex.submit(call("secret_op")) for _ in range(5)]
            return denied, await ex.submit(call("ok")), await ex.submit(call("ok"))

        denied, first, second = run(main())
        assert all(e.status is EventStatus.DENIED for e in denied)
        assert first.status is EventStatus.COMPLETED
        assert second.status is EventStatus.DENIED
        assert "rate limit" in (second.execution.reason or "")

    def test_each_attempt_gets_its_own_deadline(self):
        """Retry sits outside timeout: a slow first attempt times out, a retry may succeed."""
        probe = Probe()
        state = {"calls": 0}

        async def sometimes_slow(arguments):
            import asyncio

            state["calls"] += 1
            if state["calls"] == 1:
                await asyncio.sleep(1)
            return "fast"

        resolver = probe.resolver()
        resolver.add(FunctionTarget("sometimes_slow", sometimes_slow))
        chain = [RetryProcessor(2, base_delay=0), TimeoutProcessor(0.05, retryable=True)]

        async def main():
            return await Executor(resolver, chain).submit(call("sometimes_slow"))

        event = run(main())
        assert event.status is EventStatus.COMPLETED
        assert len(event.execution.attempts) == 2
        assert event.execution.attempts[0].error.type == "CancelledError"  # type: ignore[union-attr]

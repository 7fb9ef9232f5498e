"""Tests for ValidationProcessor."""

from __future__ import annotations

from tests.execution.helpers import call, run

from agentic.execution import Chain, FunctionTarget, ValidationProcessor
from agentic.primitives import Event, EventStatus


def strict_int(arguments):
    if set(arguments) != {"n"}:
        msg = f"expected exactly 'n', got {sorted(arguments)}"
        raise ValueError(msg)
    return {"n": int(arguments["n"])}


class Target:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    async def handle(self, arguments):
        self.calls.append(arguments)
        return arguments["n"] * 2


class TestValidation:
    def test_valid_arguments_are_coerced_before_invocation(self):
        """The target receives the coerced arguments."""
        t = Target()
        c = call("double", n="21")
        c.bind(FunctionTarget("double", t.handle, validate=strict_int))
        run(Chain([ValidationProcessor()])(c))
        assert c.status is EventStatus.COMPLETED
        assert c.execution.response == 42
        assert t.calls == [{"n": 21}]

    def test_bad_arguments_fail_the_event_and_never_reach_the_target(self):
        """A validation error fails the Event with that error; the target is not called."""
        t = Target()
        c = call("double", n="x")
        c.bind(FunctionTarget("double", t.handle, validate=strict_int))
        run(Chain([ValidationProcessor()])(c))
        assert c.status is EventStatus.FAILED
        assert t.calls == []
        err = c.execution.error
        assert err is not None
        assert err.type == "agentic.execution.ArgumentValidationError"
        assert "'double'" in err.message
        assert c.execution.attempts == []

    def test_unknown_target_fails_with_not_found(self):
        """An unresolved target fails the Event with the resolver's error."""
        c = call("nothing")
        run(Chain([ValidationProcessor()])(c))
        assert c.status is EventStatus.FAILED
        assert c.execution.error.type == "agentic.execution.TargetNotFoundError"  # type: ignore[union-attr]

    def test_events_that_are_not_calls_pass_through(self):
        """A plain Event is not validated."""

        async def inner(event: Event) -> Event:
            event.start()
            event.complete(1)
            return event

        e = run(Chain([ValidationProcessor()], inner=inner)(Event()))
        assert e.status is EventStatus.COMPLETED

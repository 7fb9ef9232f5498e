"""Tests for the Chain: composition order, the outer layer, the inner step."""

from __future__ import annotations

import asyncio

import pytest
from tests.execution.helpers import Probe, call, run

from agentic.execution import Call, Chain, ProcessingError, invoke_event
from agentic.execution.types import CallNext
from agentic.primitives import Event, EventStatus


class Recording:
    """A processor that records entry and exit in a shared list."""

    def __init__(self, name: str, trail: list[str]) -> None:
        self.name = name
        self.trail = trail

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        self.trail.append(f"enter {self.name}")
        result = await call_next(event)
        self.trail.append(f"exit {self.name}")
        return result


class Refuse:
    """A gate that denies everything."""

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        event.deny("refused by test gate")
        return event


def bound(target: str, **arguments) -> Call:
    c = call(target, **arguments)
    c.bind(Probe().resolver().resolve(target))
    return c


class TestOrder:
    def test_processors_run_outermost_first_and_unwind_in_reverse(self):
        """Processors enter in list order and exit in reverse, around the inner step."""
        trail: list[str] = []

        async def inner(event: Event) -> Event:
            trail.append("invoke")
            event.start()
            event.complete("done")
            return event

        chain = Chain([Recording("a", trail), Recording("b", trail)], inner=inner)
        event = run(chain(Event()))
        assert event.status is EventStatus.COMPLETED
        assert trail == ["enter a", "enter b", "invoke", "exit b", "exit a"]

    def test_a_gate_that_says_no_stops_the_chain(self):
        """A gate that denies never calls the processors after it nor the inner step."""
        trail: list[str] = []

        async def inner(event: Event) -> Event:
            trail.append("invoke")
            return event

        chain = Chain([Recording("a", trail), Refuse(), Recording("c", trail)], inner=inner)
        event = run(chain(Event()))
        assert event.status is EventStatus.DENIED
        assert event.execution.reason == "refused by test gate"
        assert trail == ["enter a", "exit a"]

    def test_processors_are_kept_in_order(self):
        """The chain exposes its processors outermost first."""
        a, b = Refuse(), Refuse()
        assert Chain([a, b]).processors == (a, b)


class TestOuterLayer:
    def test_an_escaping_exception_fails_the_event(self):
        """An exception that escapes every processor fails the Event with that error."""

        async def inner(event: Event) -> Event:
            msg = "kaput"
            raise RuntimeError(msg)

        event = run(Chain(inner=inner)(Event()))
        assert event.status is EventStatus.FAILED
        assert event.execution.error is not None
        assert event.execution.error.type == "RuntimeError"
        assert event.execution.error.message == "kaput"

    def test_an_unfinished_event_is_a_contract_error(self):
        """A chain that returns the Event unfinished fails it with a ProcessingError."""

        async def inner(event: Event) -> Event:
            return event

        event = run(Chain(inner=inner)(Event()))
        assert event.status is EventStatus.FAILED
        assert event.execution.error is not None
        assert "unfinished" in event.execution.error.message
        assert event.execution.error.type.endswith("ProcessingError")

    def test_returning_another_object_is_a_contract_error(self):
        """A chain that returns something other than the Event fails the Event."""

        async def inner(event: Event) -> Event:
            return Event()

        event = run(Chain(inner=inner)(Event()))
        assert event.status is EventStatus.FAILED
        assert "not the Event" in event.execution.error.message  # type: ignore[union-attr]

    def test_cancellation_marks_the_event_cancelled_and_propagates(self):
        """Cancelling a run cancels the Event with the cancellation's message."""
        probe = Probe()
        c = bound("hang")
        c.bind(probe.resolver().resolve("hang"))

        async def main() -> None:
            task = asyncio.create_task(Chain()(c))
            await asyncio.sleep(0.01)
            task.cancel("stop now")
            with pytest.raises(asyncio.CancelledError):
                await task

        run(main())
        assert c.status is EventStatus.CANCELLED
        assert c.execution.reason == "stop now"
        assert probe.cancelled == ["hang"]

    def test_processing_error_names_the_event(self):
        """ProcessingError carries the Event's id."""
        err = ProcessingError("x", event_id="abc")
        assert err.event_id == "abc"


class TestInvokeStep:
    def test_one_attempt_is_recorded_per_pass(self):
        """The inner step starts the Event, records one attempt and completes it."""
        c = bound("ok", tag="t")
        run(invoke_event(c))
        assert c.status is EventStatus.COMPLETED
        assert c.execution.response == {"echo": {"tag": "t"}}
        assert [a.number for a in c.execution.attempts] == [1]
        assert c.execution.attempts[0].error is None

    def test_an_error_is_recorded_on_the_attempt_and_raised(self):
        """A failing target's error is on the attempt and propagates to the processors."""
        c = bound("boom")
        with pytest.raises(ValueError, match="boom"):
            run(invoke_event(c))
        assert c.status is EventStatus.PROCESSING
        assert c.execution.attempts[0].error is not None
        assert c.execution.attempts[0].error.type == "ValueError"

    def test_an_unserializable_result_fails_clearly(self):
        """A result JSON cannot hold fails the Event with a SerializationError naming the type."""
        c = bound("unserializable")
        run(Chain()(c))
        assert c.status is EventStatus.FAILED
        assert "object" in c.execution.error.message  # type: ignore[union-attr]
        assert "SerializationError" in c.execution.error.type  # type: ignore[union-attr]

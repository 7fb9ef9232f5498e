"""Tests for agentic.primitives.event: legal transitions only, execution records, round trips."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import json_values

from agentic.errors import InvalidTransitionError, SerializationError
from agentic.primitives import Element, ErrorInfo, Event, EventStatus, Log

S = EventStatus
LEGAL = {
    (S.PENDING, S.PROCESSING),
    (S.PENDING, S.DENIED),
    (S.PENDING, S.SKIPPED),
    (S.PENDING, S.CANCELLED),
    (S.PROCESSING, S.COMPLETED),
    (S.PROCESSING, S.FAILED),
    (S.PROCESSING, S.CANCELLED),
}


class Add(Event, type_name="test.event.Add"):
    a: int
    b: int

    async def execute(self) -> int:
        return self.a + self.b


class Boom(Event, type_name="test.event.Boom"):
    async def execute(self) -> Any:
        msg = "boom"
        raise RuntimeError(msg)


class Sleepy(Event, type_name="test.event.Sleepy"):
    async def execute(self) -> Any:
        await asyncio.sleep(10)


class Opaque(Event, type_name="test.event.Opaque"):
    async def execute(self) -> Any:
        return object()


def at(status: EventStatus) -> Event:
    """Return an Event that has reached `status` through legal moves."""
    event = Event()
    if status is S.PENDING:
        return event
    if status in (S.DENIED, S.SKIPPED):
        event.deny("no") if status is S.DENIED else event.skip("no")
        return event
    event.start()
    if status is S.COMPLETED:
        event.complete(1)
    elif status is S.FAILED:
        event.fail(RuntimeError("x"))
    elif status is S.CANCELLED:
        event.cancel()
    return event


def move(event: Event, target: EventStatus) -> None:
    """Ask for `target` through the method that leads there."""
    actions = {
        S.PENDING: lambda: setattr(event, "status", S.PENDING),
        S.PROCESSING: event.start,
        S.COMPLETED: lambda: event.complete("r"),
        S.FAILED: lambda: event.fail(ValueError("v")),
        S.CANCELLED: lambda: event.cancel("c"),
        S.DENIED: lambda: event.deny("d"),
        S.SKIPPED: lambda: event.skip("s"),
    }
    actions[target]()


class TestTransitions:
    @pytest.mark.parametrize("source", list(S))
    @pytest.mark.parametrize("target", list(S))
    def test_every_pair(self, source, target):
        """Legal moves succeed; every other raises InvalidTransitionError naming both and changes nothing."""
        event = at(source)
        if (source, target) in LEGAL:
            move(event, target)
            assert event.status is target
            return
        before = event.model_dump()
        with pytest.raises(
            InvalidTransitionError, match=f"cannot move from {source} to {target}"
        ) as info:
            move(event, target)
        assert (info.value.source, info.value.target) == (source, target)
        assert str(event.id) in str(info.value)
        assert event.model_dump() == before

    @pytest.mark.parametrize("source", list(S))
    @pytest.mark.parametrize("target", list(S))
    def test_assigning_status_is_checked_too(self, source, target):
        """`event.status = x` follows the same table as the methods."""
        event = at(source)
        if (source, target) in LEGAL:
            event.status = target
            assert event.status is target
        else:
            with pytest.raises(InvalidTransitionError):
                event.status = target
            assert event.status is source

    def test_assigning_a_non_status(self):
        """Assigning something that is not a status raises InvalidTransitionError naming it."""
        event = Event()
        with pytest.raises(
            InvalidTransitionError, match="cannot move to 'done': not an event status"
        ):
            event.status = "done"  # type: ignore[assignment]
        assert event.status is S.PENDING

    def test_terminal_statuses(self):
        """Only pending and processing are not terminal."""
        assert {s for s in S if not s.is_terminal} == {S.PENDING, S.PROCESSING}

    def test_racing_finishers_exactly_one_wins(self):
        """When threads race to complete, fail and cancel one Event, exactly one succeeds."""
        expected = {"complete": S.COMPLETED, "fail": S.FAILED, "cancel": S.CANCELLED}
        for _ in range(50):
            event, wins = race_to_finish()
            assert len(wins) == 1
            assert event.status is expected[wins[0]]


def race_to_finish() -> tuple[Event, list[str]]:
    """Let six threads try to finish one processing Event at once; return who succeeded."""
    event = Event()
    event.start()
    barrier = threading.Barrier(6)
    wins: list[str] = []

    def finish(kind: str) -> None:
        barrier.wait()
        try:
            if kind == "complete":
                event.complete(kind)
            elif kind == "fail":
                event.fail(RuntimeError(kind))
            else:
                event.cancel(kind)
            wins.append(kind)
        except InvalidTransitionError:
            pass

    threads = [
        threading.Thread(target=finish, args=(kind,)) for kind in ("complete", "fail", "cancel") * 2
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return event, wins


class TestExecutionRecord:
    def test_completion_records_times_and_response(self):
        """start/complete record start, finish, a duration and the response."""
        event = Event()
        event.start()
        event.complete({"k": [1, 2]})
        run = event.execution
        assert run.started_at is not None
        assert run.finished_at is not None
        assert run.started_at <= run.finished_at
        assert run.duration is not None
        assert run.duration >= 0
        assert run.response == {"k": [1, 2]}

    def test_failure_records_the_error(self):
        """fail records the error's qualified type and message."""
        event = Event()
        event.start()
        event.fail(KeyError("gone"))
        assert event.execution.error == ErrorInfo(type="KeyError", message="'gone'")

    def test_error_info_reads_retry_hints(self):
        """ErrorInfo takes retryable and retry_after from the exception's attributes."""

        class RateLimitedError(Exception):
            retryable = True
            retry_after = 2

        info = ErrorInfo.from_exception(RateLimitedError("slow down"))
        assert info.retryable is True
        assert info.retry_after == 2.0
        assert info.type.endswith("RateLimitedError")
        assert ErrorInfo.from_exception(RateLimitedError(), retryable=False).retryable is False

    def test_deny_skip_cancel_record_reasons(self):
        """deny, skip and cancel keep their reason and a finish time."""
        for action in ("deny", "skip", "cancel"):
            event = Event()
            getattr(event, action)(f"because {action}")
            assert event.execution.reason == f"because {action}"
            assert event.execution.finished_at is not None

    def test_unserializable_response_fails_the_event(self):
        """A response JSON cannot hold fails the Event with a SerializationError record."""
        event = Event()
        event.start()
        event.complete(object())
        assert event.status is S.FAILED
        assert event.execution.error is not None
        assert event.execution.error.type == "agentic.errors.SerializationError"

    def test_attempts_only_while_processing(self):
        """Attempts are numbered from 1 and may begin only while processing."""
        event = Event()
        with pytest.raises(InvalidTransitionError, match="attempts happen while processing"):
            event.begin_attempt()
        event.start()
        first = event.begin_attempt()
        event.end_attempt(first, RuntimeError("try again"))
        second = event.begin_attempt()
        event.end_attempt(second, None)
        assert [a.number for a in event.execution.attempts] == [1, 2]
        assert event.execution.attempts[0].error is not None
        assert event.execution.attempts[1].error is None


class TestInvoke:
    def test_success(self):
        """invoke runs execute and completes with its result."""
        event = asyncio.run(Add(a=2, b=3).invoke())
        assert event.status is S.COMPLETED
        assert event.execution.response == 5
        assert len(event.execution.attempts) == 1

    def test_exception_fails_the_event(self):
        """An exception in execute is recorded, not raised."""
        event = asyncio.run(Boom().invoke())
        assert event.status is S.FAILED
        assert event.execution.error == ErrorInfo(type="RuntimeError", message="boom")
        assert event.execution.attempts[0].error is not None

    def test_base_event_has_nothing_to_do(self):
        """A plain Event fails with NotImplementedError naming its type."""
        event = asyncio.run(Event().invoke())
        assert event.execution.error is not None
        assert event.execution.error.type == "NotImplementedError"
        assert "Event does not implement execute()" in event.execution.error.message

    def test_cancellation_cancels_and_propagates(self):
        """Cancelling the task marks the Event cancelled and re-raises CancelledError."""
        event = Sleepy()

        async def main() -> None:
            task = asyncio.create_task(event.invoke())
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        assert event.status is S.CANCELLED
        assert event.execution.reason == "cancelled while running"

    def test_invoke_twice_is_illegal(self):
        """Invoking a finished Event raises InvalidTransitionError and changes nothing."""
        event = asyncio.run(Add(a=1, b=1).invoke())
        before = event.model_dump()
        with pytest.raises(
            InvalidTransitionError, match="cannot move from completed to processing"
        ):
            asyncio.run(event.invoke())
        assert event.model_dump() == before

    def test_unserializable_result(self):
        """A result JSON cannot hold fails the Event (it is not silently stored)."""
        event = asyncio.run(Opaque().invoke())
        assert event.status is S.FAILED


class TestSerialization:
    @pytest.mark.parametrize("status", list(S))
    def test_round_trip_in_every_status(self, status):
        """An Event in any status comes back from JSON with its status and record."""
        event = at(status)
        back = Element.from_json(event.to_json())
        assert type(back) is Event
        assert back.model_dump() == event.model_dump()

    @given(st.integers(-1000, 1000), st.integers(-1000, 1000), json_values)
    def test_invoked_subclass_round_trip(self, a, b, meta):
        """A finished Event subclass round-trips with its fields, response and attempts."""
        event = asyncio.run(Add(a=a, b=b, metadata={"m": meta}).invoke())
        back = Element.from_json(event.to_json())
        assert type(back) is Add
        assert back.model_dump() == event.model_dump()

    def test_reloaded_event_keeps_its_state_machine(self):
        """A reloaded completed Event still refuses illegal moves."""
        back = Element.from_json(at(S.COMPLETED).to_json())
        assert isinstance(back, Event)
        with pytest.raises(InvalidTransitionError):
            back.start()

    def test_bad_status_in_a_document(self):
        """A document with an unknown status raises SerializationError naming the field."""
        doc = Event().to_dict() | {"status": "exploded"}
        with pytest.raises(SerializationError, match="status"):
            Element.from_dict(doc)


class TestToLog:
    def test_only_finished_events(self):
        """to_log before the Event is terminal raises InvalidTransitionError."""
        for status in (S.PENDING, S.PROCESSING):
            with pytest.raises(InvalidTransitionError, match="only a finished Event becomes a Log"):
                at(status).to_log()

    @pytest.mark.parametrize("status", [s for s in S if s.is_terminal])
    def test_log_records_the_event(self, status):
        """The Log holds the Event's id, type, status and whole document."""
        event = at(status)
        log = event.to_log()
        assert isinstance(log, Log)
        assert (log.event_id, log.event_type, log.status) == (event.id, "Event", status.value)
        assert log.record == event.to_dict()

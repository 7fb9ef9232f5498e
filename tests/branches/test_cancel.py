"""Cancelling requests: a caller that stops waiting ends its turn, queued or running."""

from __future__ import annotations

import asyncio
import random
import threading
import uuid
from pathlib import Path

import pytest

from agentic.actors import AskTimeoutError
from agentic.branches import (
    Accepted,
    BranchRef,
    BranchStatus,
    Cancel,
    Chat,
    ChatModel,
    InvokeTool,
    RequestCancelledError,
    RunPlan,
    ToolCallMessage,
    ToolResultMessage,
    UserMessage,
    replay_branch,
    reply_topic,
    spawn_branch,
)
from agentic.primitives import EventStatus
from agentic.providers import Capabilities, OfflineProvider, ToolRule
from agentic.store import SQLiteEventStore

from .conftest import wait_until


class Gate:
    """Tools that wait until cancelled, counting how many started and were cancelled."""

    def __init__(self) -> None:
        self.started = 0
        self.cancelled = 0
        self.lock = threading.Lock()

    def tools(self) -> list[object]:
        gate = self

        async def hang() -> str:
            """Wait until cancelled."""
            with gate.lock:
                gate.started += 1
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                with gate.lock:
                    gate.cancelled += 1
                raise
            return "never"

        def quick() -> str:
            """Answer at once."""
            return "quick"

        return [hang, quick]


def hanging_provider() -> OfflineProvider:
    """ "hang" asks for hang (alone); "both" asks for quick and hang in one answer."""
    return OfflineProvider(
        rules=[
            ToolRule(pattern="both", tool="quick"),
            ToolRule(pattern="both", tool="hang"),
            ToolRule(pattern="hang", tool="hang"),
        ]
    )


class Stalling:
    """A provider whose calls never answer; it notes each cancelled call."""

    name = "stalling"
    capabilities = Capabilities()
    pricing = None

    def __init__(self) -> None:
        self.started = threading.Event()
        self.cancelled = threading.Event()

    async def complete(self, messages, tools=None, params=None):
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise

    def stream(self, messages, tools=None, params=None):
        raise NotImplementedError

    async def aclose(self):
        return None


def idle(ref: BranchRef) -> bool:
    info = ref.info()
    return info.status is BranchStatus.READY and info.in_flight == 0 and info.queued == 0


def send(system, ref: BranchRef, request_type, **fields):
    """Send a deferred request by hand; return its ticket and a subscription to its outcome."""
    ticket = uuid.uuid4()
    sub = system.bus.subscribe(reply_topic(ref.name, ticket), maxsize=1)
    assert ref.ref.ask(request_type(ticket=ticket, **fields)) == Accepted(ticket)
    return ticket, sub


def outcome(sub):
    event = sub.get(timeout=10.0)
    sub.close()
    assert event is not None, "no outcome within 10 s"
    return event.payload


def timed_out_chat(system, gate: Gate, text: str, timeout: float, **options) -> BranchRef:
    """Spawn a Branch, chat `text` with a ref bound to `timeout`, expect the timeout, and
    return the Branch once it is idle again."""
    ref = spawn_branch(
        system,
        options.pop("name", "b"),
        tools=gate.tools(),
        providers=[hanging_provider()],
        call_timeout=timeout,
        **options,
    )
    with pytest.raises(AskTimeoutError, match="request cancelled"):
        ref.chat(text)
    wait_until(lambda: idle(ref) and gate.cancelled == gate.started)
    return ref


class TestCallerTimeout:
    def test_a_timed_out_chat_cancels_its_turn(self, system):
        """The turn stops, its tool call is cancelled and gets an error result, the next chat runs."""
        gate = Gate()
        ref = timed_out_chat(system, gate, "hang", 0.3)
        messages = ref.messages()
        assert [type(m) for m in messages] == [UserMessage, ToolCallMessage, ToolResultMessage]
        result = messages[2]
        assert result.is_error
        assert result.call_id == messages[1].call_id
        assert "cancelled" in result.content
        assert ref.chat("hello").content == "hello"  # the Branch goes on
        assert gate.started == 1

    def test_the_cancelled_tool_event_is_logged_cancelled(self, system):
        """The audit keeps the tool call's Event, ended cancelled with the caller's reason."""
        gate = Gate()
        ref = timed_out_chat(system, gate, "hang", 0.3)
        logs = {log["record"]["target"]: log for log in ref.export()["logs"]}
        assert logs["hang"]["status"] == "cancelled"
        assert logs["hang"]["record"]["execution"]["reason"] == (
            "the caller stopped waiting after 0.3 s"
        )

    def test_a_queued_chat_that_times_out_never_runs(self, system):
        """A chat waiting behind a long turn leaves the queue when its caller gives up."""
        gate = Gate()
        ref = spawn_branch(system, "b", tools=gate.tools(), providers=[hanging_provider()])
        ticket, sub = send(system, ref, Chat, text="hang")
        wait_until(lambda: gate.started == 1)
        short = BranchRef(ref.ref, timeout=0.3)
        with pytest.raises(AskTimeoutError):
            short.chat("never seen")
        assert ref.info().queued == 0
        assert ref.ref.ask(Cancel(ticket=ticket)) is True
        error = outcome(sub).error
        assert isinstance(error, RequestCancelledError)
        assert error.ticket == ticket
        wait_until(lambda: idle(ref))
        texts = [m.content for m in ref.messages() if isinstance(m, UserMessage)]
        assert texts == ["hang"]

    def test_a_parallel_batch_keeps_finished_results(self, system):
        """Of two tool calls in one answer, the finished one keeps its result; both are answered."""
        ref = timed_out_chat(system, Gate(), "both", 0.5)
        results = [m for m in ref.messages() if isinstance(m, ToolResultMessage)]
        assert [(m.tool, m.is_error, m.content) for m in results] == [
            ("quick", False, "quick"),
            ("hang", True, "error: tool 'hang' cancelled: the caller stopped waiting after 0.5 s"),
        ]


class TestAsyncCallers:
    def test_cancelling_the_awaiting_task_cancels_the_turn(self, system):
        """`asyncio.wait_for` around `achat` ends the turn on the Branch too."""
        gate = Gate()
        ref = spawn_branch(system, "b", tools=gate.tools(), providers=[hanging_provider()])

        async def main() -> str:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ref.achat("hang"), 0.3)
            return (await ref.achat("after")).content

        assert asyncio.run(main()) == "after"
        wait_until(lambda: gate.cancelled == 1 and idle(ref))

    def test_a_stalled_provider_call_is_cancelled(self, system):
        """A model call in flight is cancelled; the structured turn ends and nothing is left."""
        stalling = Stalling()
        ref = spawn_branch(system, "b", providers=[stalling])

        async def main() -> None:
            task = asyncio.ensure_future(ref.achat("anything"))
            await asyncio.to_thread(stalling.started.wait, 10.0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        assert stalling.cancelled.wait(10.0)
        wait_until(lambda: idle(ref))
        assert [m.content for m in ref.messages()] == ["anything"]


class TestCancelMessage:
    def test_unknown_and_finished_tickets_change_nothing(self, system):
        """Cancel answers False for a ticket it does not know or already answered."""
        ref = spawn_branch(system, "b")
        ticket, sub = send(system, ref, Chat, text="hi")
        assert outcome(sub).result.content == "hi"
        before = ref.export()
        assert ref.ref.ask(Cancel(ticket=ticket)) is False
        assert ref.ref.ask(Cancel(ticket=uuid.uuid4())) is False
        assert ref.export() == before

    def test_cancelling_a_plan_records_the_step_cancelled(self, system):
        """A plan cut short answers RequestCancelledError; its steps show done, then cancelled."""
        gate = Gate()
        ref = spawn_branch(system, "b", tools=gate.tools(), providers=[hanging_provider()])
        ticket, sub = send(system, ref, RunPlan, goal="g", steps=("say hi", "hang on"))
        wait_until(lambda: gate.started == 1)
        assert ref.ref.ask(Cancel(ticket=ticket, reason="enough")) is True
        error = outcome(sub).error
        assert isinstance(error, RequestCancelledError)
        assert "enough" in str(error)
        wait_until(lambda: gate.cancelled == 1 and idle(ref))
        steps = ref.export()["steps"]
        assert [(s["index"], s["status"]) for s in steps] == [(0, "done"), (1, "cancelled")]

    def test_cancelling_a_structured_turn(self, system):
        """A ChatModel turn waiting on its model call ends with RequestCancelledError."""
        stalling = Stalling()
        ref = spawn_branch(system, "b", providers=[stalling])
        schema = {"type": "object"}
        ticket, sub = send(system, ref, ChatModel, text="json please", json_schema=schema)
        assert stalling.started.wait(10.0)
        assert ref.ref.ask(Cancel(ticket=ticket)) is True
        assert isinstance(outcome(sub).error, RequestCancelledError)
        assert stalling.cancelled.wait(10.0)
        wait_until(lambda: idle(ref))

    def test_cancelling_a_tool_invocation_answers_the_cancelled_event(self, system):
        """An InvokeTool's Event is cancelled; its outcome is that Event, cancelled."""
        gate = Gate()
        ref = spawn_branch(system, "b", tools=gate.tools())
        ticket, sub = send(system, ref, InvokeTool, tool="hang")
        wait_until(lambda: gate.started == 1)
        assert ref.ref.ask(Cancel(ticket=ticket, reason="stop it")) is True
        event = outcome(sub).result
        assert event.status is EventStatus.CANCELLED
        assert event.execution.reason == "stop it"
        wait_until(lambda: idle(ref))


class TestCancelFromElsewhere:
    def test_cancel_without_a_ticket_stops_the_running_turn(self, system):
        """`cancel()` ends the turn another caller runs; that caller hears why; idle: False."""
        gate = Gate()
        ref = spawn_branch(system, "b", tools=gate.tools(), providers=[hanging_provider()])
        assert ref.cancel() is False  # nothing runs yet
        errors: list[Exception] = []

        def caller() -> None:
            try:
                ref.chat("hang")
            except RequestCancelledError as exc:
                errors.append(exc)

        thread = threading.Thread(target=caller)
        thread.start()
        wait_until(lambda: gate.started == 1)
        assert ref.cancel(reason="the user pressed stop") is True
        thread.join(10)
        assert len(errors) == 1
        assert str(errors[0]) == (
            f"branch 'b': request {errors[0].ticket} was cancelled: the user pressed stop"
        )
        wait_until(lambda: gate.cancelled == 1 and idle(ref))
        assert ref.cancel() is False

    def test_a_stream_is_cancelled_by_its_ticket(self, system):
        """`acancel(stream.ticket)` from another task ends that stream with the error."""
        gate = Gate()
        ref = spawn_branch(system, "b", tools=gate.tools(), providers=[hanging_provider()])

        async def main() -> None:
            stream = await ref.astream_chat("hang")
            reader = asyncio.ensure_future(_drain(stream))
            await asyncio.to_thread(wait_until, lambda: gate.started == 1)
            assert await ref.acancel(stream.ticket) is True
            with pytest.raises(RequestCancelledError, match=str(stream.ticket)):
                await reader

        asyncio.run(main())
        wait_until(lambda: gate.cancelled == 1 and idle(ref))


async def _drain(stream) -> list[str]:
    return [delta.text async for delta in stream]


class TestJournal:
    def test_replay_after_a_cancel_equals_the_live_state(self, system, tmp_path: Path):
        """The error results a cancel adds are journaled: replay equals the live export."""
        gate = Gate()
        with SQLiteEventStore(tmp_path / "events.db", durability="normal") as store:
            ref = timed_out_chat(system, gate, "both", 0.3, name="main", journal=store)
            ref.chat("after")
            assert replay_branch(store, "branch-main") == ref.export()


class TestManyCallers:
    def test_timeouts_from_many_threads_leave_a_well_formed_conversation(self, system):
        """8 threads mix hanging and quick chats: every started hang is cancelled, every
        quick chat is answered, and every tool call is followed by its result."""
        gate = Gate()
        ref = spawn_branch(system, "b", tools=gate.tools(), providers=[hanging_provider()])
        answers: list[str] = []
        timeouts: list[str] = []
        lock = threading.Lock()

        def caller(worker: int) -> None:
            rng = random.Random(worker)
            short = BranchRef(ref.ref, timeout=0.2)
            long = BranchRef(ref.ref, timeout=60.0)
            for turn in range(6):
                if rng.random() < 0.5:
                    try:
                        short.chat(f"hang {worker}.{turn}")
                    except AskTimeoutError:
                        with lock:
                            timeouts.append(f"{worker}.{turn}")
                else:
                    text = long.chat(f"plain {worker}.{turn}").content
                    with lock:
                        answers.append(text)

        threads = [threading.Thread(target=caller, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)
        wait_until(lambda: idle(ref) and gate.cancelled == gate.started)
        assert len(answers) + len(timeouts) == 48
        assert all(text.startswith("plain ") for text in answers)
        messages = ref.messages()
        users = [m.content for m in messages if isinstance(m, UserMessage)]
        assert sorted(t for t in users if t.startswith("plain ")) == sorted(answers)
        # A hang turn may be cancelled while queued (no message), during its model call
        # (its user message only) or during its tool call (message, call, error result).
        assert len([t for t in users if t.startswith("hang ")]) <= len(timeouts)
        calls = [m for m in messages if isinstance(m, ToolCallMessage)]
        assert gate.started <= len(calls)  # a call cancelled before it started never runs
        # Every tool call is answered by the very next message.
        for index, message in enumerate(messages):
            if isinstance(message, ToolCallMessage):
                following = messages[index + 1]
                assert isinstance(following, ToolResultMessage)
                assert following.call_id == message.call_id
                assert following.is_error

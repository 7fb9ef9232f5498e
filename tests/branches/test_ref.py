"""BranchRef: the synchronous and async APIs, timeouts, and what crosses the boundary."""

from __future__ import annotations

import asyncio
import pickle
import threading

import pytest
from pydantic import BaseModel

from agentic.actors import AskTimeoutError
from agentic.branches import (
    Accepted,
    BranchRef,
    BranchStoppedError,
    Cancel,
    Chat,
    ChatDelta,
    ChatResult,
    Outcome,
    RequestCancelledError,
    StreamStart,
    ToolResultMessage,
    UserMessage,
    reply_topic,
    spawn_branch,
)
from agentic.primitives import EventStatus
from agentic.providers import OfflineProvider, ToolRule

from .conftest import wait_until


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


class Point(BaseModel):
    x: int
    y: int


class TestAsyncAPI:
    def test_every_async_call_works_from_a_host_loop(self, system):
        """The a-prefixed methods do what the plain ones do, awaited from the host's loop."""
        provider = OfflineProvider(
            ['{"x": 3, "y": 4}'],
            rules=[
                ToolRule(
                    pattern=r"add (\d+) and (\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"}
                )
            ],
        )
        ref = spawn_branch(system, "b", tools=[add], providers=[provider])

        async def main():
            await ref.aadd_message("hello")
            point = await ref.achat_model("where?", Point)  # the script's first reply
            event = await ref.ainvoke("add", a=1, b=2)
            chat = await ref.achat("add 2 and 3")
            plan = await ref.arun_plan("g", steps=["add 4 and 5"])
            messages = await ref.amessages()
            state = await ref.aexport()
            await ref.aimport_state(state)
            info = await ref.ainfo()
            return event, chat, point, plan, messages, info

        event, chat, point, plan, messages, info = asyncio.run(main())
        assert event.execution.response == 3
        assert chat.content == "add: 5"
        assert point == Point(x=3, y=4)
        assert plan.steps[0].result == "add: 9"
        assert messages[0].content == "hello"
        assert info.messages == len(messages)

    def test_awaiting_never_blocks_the_host_loop(self, system):
        """While a chat waits on a slow tool, the host loop keeps running its other tasks."""
        release = threading.Event()

        def slow() -> str:
            """Wait for the release (in a worker thread)."""
            release.wait(10)
            return "done"

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="slow")])
        ref = spawn_branch(system, "b", tools=[slow], providers=[provider])

        async def main():
            ticks = 0

            async def heartbeat():
                nonlocal ticks
                while True:
                    ticks += 1
                    if ticks == 20:
                        release.set()  # only a running host loop gets here
                    await asyncio.sleep(0.001)

            beat = asyncio.create_task(heartbeat())
            result = await ref.achat("go")
            beat.cancel()
            return result, ticks

        result, ticks = asyncio.run(main())
        assert result.content == "slow: done"
        assert ticks >= 20

    def test_async_fork_register_and_stop(self, system):
        """afork, aregister_tool and astop work from a host loop."""
        ref = spawn_branch(system, "b")

        async def main():
            assert await ref.aregister_tool(add) == "add"
            await ref.aadd_message("one")
            child = await ref.afork("c")
            event = await child.ainvoke("add", a=2, b=5)
            stopped = await child.astop()
            return child, event, stopped

        child, event, stopped = asyncio.run(main())
        assert event.execution.response == 7
        assert stopped
        assert not child.is_alive
        assert [m.content for m in ref.messages()] == ["one"]

    def test_async_calls_to_a_stopped_branch(self, system):
        """An async call to a stopped Branch raises BranchStoppedError."""
        ref = spawn_branch(system, "b")
        ref.stop()
        with pytest.raises(BranchStoppedError):
            asyncio.run(ref.achat("hi"))
        with pytest.raises(BranchStoppedError):
            asyncio.run(ref.ainfo())


class TestTimeouts:
    def test_a_chat_longer_than_the_call_timeout(self, system):
        """A chat that outlives the ref's timeout raises AskTimeoutError and is cancelled."""
        gate = asyncio.Event()

        async def wait() -> str:
            """Wait for the gate."""
            await gate.wait()
            return "open"

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="wait")])
        ref = spawn_branch(system, "b", tools=[wait], providers=[provider], call_timeout=0.5)
        patient = BranchRef(ref.ref, timeout=10.0)  # the same Branch, a longer bound
        with pytest.raises(AskTimeoutError, match="'b'"):
            ref.chat("go")
        with pytest.raises(AskTimeoutError, match="'b'"):
            asyncio.run(ref.achat("go"))
        wait_until(lambda: patient.info().status == "ready")  # no turn goes on for nobody
        results = [m for m in patient.messages() if isinstance(m, ToolResultMessage)]
        assert [(m.is_error, "cancelled" in m.content) for m in results] == [(True, True)] * 2
        assert patient.chat("hello").content == "hello"


class TestValuesAcrossTheBoundary:
    def test_requests_and_answers_pickle(self, system):
        """Requests, answers and outcomes survive pickling (so another engine could ship them)."""
        ref = spawn_branch(system, "b", tools=[add])
        result = ref.chat("hi")
        event = ref.invoke("add", a=1, b=2)
        values = [
            Chat(text="x"),
            Accepted(ticket=event.id),
            Outcome(ticket=event.id, result=result),
            Outcome(ticket=event.id, error=BranchStoppedError("gone", branch="b")),
            Outcome(
                ticket=event.id,
                error=RequestCancelledError("cancelled", branch="b", ticket=event.id),
            ),
            Cancel(ticket=event.id, reason="enough"),
            Chat(text="x", stream=True, ticket=event.id),
            ChatDelta(step=2, text="piece", restart=True),
            StreamStart(step=2),
            result,
            event,
            ref.info(),
            ref.messages(),
            ref.export(),
        ]
        for value in values:
            copy = pickle.loads(pickle.dumps(value))
            assert copy == value or (isinstance(value, Outcome) and copy.error.branch == "b")
        cancelled = pickle.loads(pickle.dumps(values[4])).error
        assert (type(cancelled), cancelled.ticket) == (RequestCancelledError, event.id)
        assert isinstance(pickle.loads(pickle.dumps(result)), ChatResult)
        assert event.status is EventStatus.COMPLETED

    def test_deferred_request_by_raw_ask_and_bus(self, system):
        """A raw ask with a ticket is answered Accepted; the outcome arrives on the bus."""
        ref = spawn_branch(system, "b")
        ticket = UserMessage(content="just an id").id
        with system.bus.subscribe(reply_topic("b", ticket)) as sub:
            accepted = ref.ref.ask(Chat(text="hello", ticket=ticket))
            assert accepted == Accepted(ticket)
            event = sub.get(timeout=10)
        assert event is not None
        assert event.payload.ticket == ticket
        assert event.payload.result.content == "hello"

    def test_a_tell_without_ticket_still_runs(self, system):
        """A chat told without a ticket runs its turn; nobody is answered."""
        ref = spawn_branch(system, "b")
        ref.ref.tell(Chat(text="fire and forget"))
        wait_until(lambda: len(ref.messages()) == 2)
        assert ref.messages()[1].content == "fire and forget"

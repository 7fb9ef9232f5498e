"""The Branch actor: lifecycle, messages, tools, refusals, restarts, stop, fork, export/import."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from agentic.actors import ActorDeadError, ActorRef, ActorSystem, SupervisionPolicy
from agentic.branches import (
    STATE_FORMAT,
    AssistantMessage,
    Branch,
    BranchError,
    BranchRef,
    BranchStateError,
    BranchStatus,
    BranchStoppedError,
    MessageManager,
    SystemMessage,
    UserMessage,
    spawn_branch,
)
from agentic.primitives import EventStatus
from agentic.providers import OfflineProvider, ToolRule
from agentic.tools import ToolExistsError

from .conftest import wait_until


def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first.
        b: The second.
    """
    return a + b


class BoomError(RuntimeError):
    """A failure inside a Manager (not a refusal)."""


class FlakyMessages(MessageManager):
    """A MessageManager that fails on the message 'boom'."""

    def add(self, message):
        if message.content == "boom":
            raise BoomError("the message manager failed")
        return super().add(message)


class FlakyBranch(Branch):
    """A Branch whose message manager raises on 'boom' and whose handler raises on 'explode'."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.messages = FlakyMessages(self.messages.messages, self.messages.conversation)

    def receive(self, message: Any) -> Any:
        if message == "explode":
            raise BoomError("the handler failed")
        return super().receive(message)


def spawn_flaky(system: ActorSystem, name: str, **options: Any) -> BranchRef:
    ref: ActorRef[Branch] = system.spawn(lambda: FlakyBranch(**options), name=name)
    return BranchRef(ref, timeout=10.0)


class TestLifecycle:
    def test_created_then_ready(self, system):
        """A Branch is created before it starts and ready once started."""
        branch = Branch()
        assert branch.status is BranchStatus.CREATED
        ref = spawn_branch(system, "b")
        assert ref.info().status is BranchStatus.READY

    def test_running_while_an_event_is_in_flight(self, system):
        """A Branch with an Event in flight is running, and ready again after it."""
        gate = asyncio.Event()

        async def wait() -> str:
            """Wait for the gate."""
            await gate.wait()
            return "open"

        ref = spawn_branch(system, "b", tools=[wait])
        thread = threading.Thread(target=ref.invoke, args=("wait",))
        thread.start()
        wait_until(lambda: ref.info().in_flight == 1)
        assert ref.info().status is BranchStatus.RUNNING
        system.loop.call_soon_threadsafe(gate.set)
        thread.join(10)
        assert ref.info().status is BranchStatus.READY

    def test_calls_after_stop_are_rejected_clearly(self, system):
        """Every call to a stopped Branch raises BranchStoppedError (also an ActorDeadError)."""
        ref = spawn_branch(system, "b")
        assert ref.stop() is True
        for call in (ref.info, ref.messages, lambda: ref.add_message("x"), lambda: ref.chat("x")):
            with pytest.raises(BranchStoppedError, match="'b' is stopped") as caught:
                call()
            assert isinstance(caught.value, ActorDeadError)
            assert caught.value.state == "stopped"
        assert not ref.is_alive

    def test_import_while_running_is_refused(self, system):
        """Importing a state while a turn runs is refused; the Branch carries on."""
        gate = asyncio.Event()

        async def wait() -> str:
            """Wait for the gate."""
            await gate.wait()
            return "open"

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="wait")])
        ref = spawn_branch(system, "b", tools=[wait], providers=[provider])
        state = ref.export()
        results: list[Any] = []
        thread = threading.Thread(target=lambda: results.append(ref.chat("go")))
        thread.start()
        wait_until(lambda: ref.info().in_flight == 1)
        with pytest.raises(BranchStateError, match="import its state when idle") as caught:
            ref.import_state(state)
        assert caught.value.state is BranchStatus.RUNNING
        system.loop.call_soon_threadsafe(gate.set)
        thread.join(10)
        assert results[0].content == "wait: open"
        ref.import_state(state)
        assert ref.messages() == []
        assert ref.ref.health().restarts == 0


class TestMessages:
    def test_add_and_read_in_order(self, system):
        """Messages come back in the order they were added; `last` takes the tail."""
        ref = spawn_branch(system, "b")
        ref.add_message(SystemMessage(content="be brief"))
        for i in range(5):
            ref.add_message(f"m{i}")
        contents = [m.content for m in ref.messages()]
        assert contents == ["be brief", "m0", "m1", "m2", "m3", "m4"]
        assert [m.content for m in ref.messages(last=2)] == ["m3", "m4"]
        assert ref.messages(last=0) == []

    def test_messages_are_frozen_values(self, system):
        """A reader cannot change the Branch's conversation through what it was given."""
        ref = spawn_branch(system, "b")
        ref.add_message("hello")
        message = ref.messages()[0]
        with pytest.raises(ValueError, match="frozen"):
            message.content = "changed"  # type: ignore[misc]
        assert ref.messages()[0].content == "hello"

    def test_add_during_a_turn_waits_behind_it(self, system):
        """A message added while a chat runs enters the conversation after the chat's messages."""
        gate = asyncio.Event()

        async def wait() -> str:
            """Wait for the gate."""
            await gate.wait()
            return "open"

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="wait")])
        ref = spawn_branch(system, "b", tools=[wait], providers=[provider])
        thread = threading.Thread(target=ref.chat, args=("go",))
        thread.start()
        wait_until(lambda: ref.info().in_flight == 1)
        ref.add_message("meanwhile")
        assert ref.info().queued == 1
        system.loop.call_soon_threadsafe(gate.set)
        thread.join(10)
        kinds = [type(m).__name__ for m in ref.messages()]
        assert kinds == [
            "UserMessage",
            "ToolCallMessage",
            "ToolResultMessage",
            "AssistantMessage",
            "UserMessage",
        ]
        assert ref.messages()[-1].content == "meanwhile"


class TestTools:
    def test_invoke_returns_the_finished_event(self, system):
        """A tool runs as an Event through the chain; the caller gets a copy of it, finished."""
        ref = spawn_branch(system, "b", tools=[add])
        event = ref.invoke("add", a=2, b=3)
        assert event.status is EventStatus.COMPLETED
        assert event.execution.response == 5
        assert ref.info().logs == 1
        assert ref.export()["logs"][0]["event_id"] == str(event.id)

    def test_register_tool_and_refuse_a_duplicate(self, system):
        """A registered tool can be invoked; registering its name again is refused, not a crash."""
        ref = spawn_branch(system, "b")
        assert ref.register_tool(add) == "add"
        assert ref.invoke("add", a=1, b=1).execution.response == 2
        with pytest.raises(ToolExistsError):
            ref.register_tool(add)
        assert ref.register_tool(add, replace=True) == "add"
        assert ref.ref.health().restarts == 0

    def test_unknown_tool_fails_the_event(self, system):
        """Invoking an unknown tool ends its Event failed, naming the tool."""
        ref = spawn_branch(system, "b", tools=[add])
        event = ref.invoke("nope")
        assert event.status is EventStatus.FAILED
        assert event.execution.error is not None
        assert "nope" in event.execution.error.message


class TestRefusals:
    def test_unknown_provider_is_refused_without_restart(self, system):
        """A chat naming an unknown provider raises BranchError; the Branch is not restarted."""
        ref = spawn_branch(system, "b")
        for _ in range(5):  # more than the restart budget: refusals are not failures
            with pytest.raises(BranchError, match="no provider named 'ghost'"):
                ref.chat("hi", provider="ghost")
        assert ref.ref.health().restarts == 0
        assert ref.messages() == []

    def test_bad_state_document_is_refused(self, system):
        """Importing something that is not a state document changes nothing."""
        ref = spawn_branch(system, "b")
        ref.add_message("keep me")
        with pytest.raises(BranchError, match="not a branch state document"):
            ref.import_state({"format": 99})
        with pytest.raises(BranchError, match="missing or mangles"):
            ref.import_state({"format": STATE_FORMAT, "messages": {}})
        assert [m.content for m in ref.messages()] == ["keep me"]


class TestRestart:
    def test_manager_failure_reaches_caller_and_branch_restarts_intact(self, system):
        """A Manager raising: the caller gets it, the Branch restarts with its Piles and goes on."""
        ref = spawn_flaky(system, "f", tools=[add])
        ref.add_message("before")
        ref.invoke("add", a=1, b=2)
        with pytest.raises(BoomError, match="message manager failed"):
            ref.add_message("boom")
        health = ref.ref.health()
        assert health.restarts == 1
        assert health.alive
        assert [m.content for m in ref.messages()] == ["before"]
        ref.add_message("after")
        assert [m.content for m in ref.messages()] == ["before", "after"]
        assert ref.info().logs == 1
        assert ref.info().status is BranchStatus.READY

    def test_restart_keeps_a_turn_in_flight(self, system):
        """A failure while a chat waits on a tool restarts the Branch; the chat still finishes."""
        gate = asyncio.Event()

        async def wait() -> str:
            """Wait for the gate."""
            await gate.wait()
            return "open"

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="wait")])
        ref = spawn_flaky(system, "f", tools=[wait], providers=[provider])
        results: list[Any] = []
        thread = threading.Thread(target=lambda: results.append(ref.chat("go")))
        thread.start()
        wait_until(lambda: ref.info().in_flight == 1)
        queued = threading.Thread(target=lambda: results.append(ref.chat("then this")))
        queued.start()
        wait_until(lambda: ref.info().queued == 1)
        with pytest.raises(BoomError):
            ref.ref.ask("explode")
        assert ref.ref.health().restarts == 1
        system.loop.call_soon_threadsafe(gate.set)
        thread.join(10)
        queued.join(10)
        assert [r.content for r in results] == ["wait: open", "then this"]
        assert results[0].tool_calls == 1
        # The restarted Branch finished both turns and is idle and usable again.
        info = ref.info()
        assert (info.status, info.in_flight, info.queued, info.messages) == ("ready", 0, 0, 6)
        assert ref.chat("again").content == "again"

    def test_a_failure_as_a_turn_ends_does_not_strand_the_turns_behind_it(self, system):
        """The audit failing once as a turn ends: the Branch restarts and runs the queued turn."""
        gate = asyncio.Event()

        async def wait() -> str:
            """Wait for the gate."""
            await gate.wait()
            return "open"

        armed = threading.Event()

        class FlushFailsOnce(Branch):
            def __init__(self, **options: Any) -> None:
                super().__init__(**options)
                flush = self.logs.audit.flush

                def flaky() -> int:
                    if armed.is_set():
                        armed.clear()
                        raise BoomError("the audit failed")
                    return flush()

                self.logs.audit.flush = flaky  # type: ignore[method-assign]

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="wait")])
        actor: ActorRef[Branch] = system.spawn(
            lambda: FlushFailsOnce(tools=[wait], providers=[provider]), name="f"
        )
        ref = BranchRef(actor, timeout=10.0)
        results: list[Any] = []
        first = threading.Thread(target=lambda: results.append(ref.chat("go")))
        first.start()
        wait_until(lambda: ref.info().in_flight == 1)
        second = threading.Thread(target=lambda: results.append(ref.chat("then this")))
        second.start()
        wait_until(lambda: ref.info().queued == 1)
        armed.set()  # the next flush is the one as the first turn ends
        system.loop.call_soon_threadsafe(gate.set)
        first.join(10)
        second.join(10)
        assert not armed.is_set()
        assert sorted(r.content for r in results) == ["then this", "wait: open"]
        assert ref.ref.health().restarts == 1
        assert ref.info().status is BranchStatus.READY

    def test_crash_loop_stops_the_branch(self, system):
        """More failures than the policy allows stop the Branch; later calls say it is stopped."""
        policy = SupervisionPolicy(max_restarts=2, within=60.0)
        actor: ActorRef[Branch] = system.spawn(FlakyBranch, name="f", supervision=policy)
        ref = BranchRef(actor, timeout=5.0)
        for _ in range(3):
            with pytest.raises(BoomError):
                ref.add_message("boom")
        wait_until(lambda: not ref.is_alive)
        with pytest.raises(BranchStoppedError):
            ref.info()


class TestStop:
    def test_stop_with_requests_in_flight(self, system):
        """Stopping cancels Events in flight; every waiting caller gets BranchStoppedError."""

        async def sleepy() -> str:
            """Sleep a long time."""
            await asyncio.sleep(60)
            return "late"

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="sleepy")])
        ref = spawn_branch(system, "b", tools=[sleepy], providers=[provider])
        errors: list[BaseException] = []

        def call(fn) -> None:
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=call, args=(lambda: ref.chat("go"),)),
            threading.Thread(target=call, args=(lambda: ref.invoke("sleepy"),)),
        ]
        for thread in threads:
            thread.start()
        wait_until(lambda: ref.info().in_flight == 2)
        queued = threading.Thread(target=call, args=(lambda: ref.chat("go again"),))
        queued.start()
        wait_until(lambda: ref.info().queued == 1)
        ref.stop()
        for thread in [*threads, queued]:
            thread.join(10)
        assert len(errors) == 3
        assert all(isinstance(e, BranchStoppedError) for e in errors), errors

    def test_a_queued_message_that_fails_to_join_does_not_hold_up_stop(self, system):
        """A message queued behind a turn that its Manager refuses at stop: callers still hear."""
        gate = asyncio.Event()

        async def wait() -> str:
            """Wait for the gate."""
            await gate.wait()
            return "open"

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="wait")])
        ref = spawn_flaky(system, "f", tools=[wait], providers=[provider])
        errors: list[BaseException] = []

        def chat() -> None:
            try:
                ref.chat("go")
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=chat)
        thread.start()
        wait_until(lambda: ref.info().in_flight == 1)
        ref.add_message("boom")
        ref.stop()
        thread.join(10)
        assert len(errors) == 1
        assert isinstance(errors[0], BranchStoppedError), errors
        assert "stopped before request" in str(errors[0])  # told by on_stop, not a timeout


class TestBounds:
    def test_max_logs_keeps_the_newest(self, system):
        """With max_logs, a Branch keeps only its newest Logs."""
        ref = spawn_branch(system, "b", tools=[add], max_logs=3)
        events = [ref.invoke("add", a=n, b=0) for n in range(6)]
        logs = ref.export()["logs"]
        assert [log["event_id"] for log in logs] == [str(e.id) for e in events[-3:]]
        assert ref.info().logs == 3


class TestForkExportImport:
    def test_fork_copies_state_up_to_a_point(self, system):
        """A fork has the first `upto` messages, the same tools and providers, and a life of its own."""
        ref = spawn_branch(system, "b", tools=[add])
        for text in ("one", "two", "three"):
            ref.add_message(text)
        child = ref.fork("b2", upto=2)
        assert [m.content for m in child.messages()] == ["one", "two"]
        assert child.info().tools == ["add"]
        child.add_message("child only")
        assert [m.content for m in ref.messages()] == ["one", "two", "three"]
        assert child.invoke("add", a=2, b=2).execution.response == 4

    def test_fork_name_in_use_is_refused(self, system):
        """Forking under a name in use raises BranchError; the Branch is not restarted."""
        ref = spawn_branch(system, "b")
        spawn_branch(system, "taken")
        with pytest.raises(BranchError, match="cannot fork as 'taken'"):
            ref.fork("taken")
        assert ref.ref.health().restarts == 0

    def test_export_import_round_trip_is_exact(self, system):
        """Exporting, importing into another Branch and exporting again gives the same document."""
        provider = OfflineProvider(
            rules=[
                ToolRule(pattern=r"(\d+)\+(\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"})
            ]
        )
        ref = spawn_branch(system, "b", tools=[add], providers=[provider])
        ref.chat("2+3")
        ref.run_plan("sum", steps=["1+1"])
        state = ref.export()
        other = spawn_branch(system, "c", state=state)
        assert other.export() == state
        third = spawn_branch(system, "d")
        third.import_state(state)
        assert third.export() == state
        assert isinstance(third.messages()[-1], AssistantMessage)
        assert isinstance(third.messages()[0], UserMessage)

    def test_fork_during_a_plan_step_copies_no_part_of_the_turn(self, system):
        """A fork taken while a plan's step waits on a tool has only the messages before the plan."""
        gate = asyncio.Event()

        async def wait() -> str:
            """Wait for the gate."""
            await gate.wait()
            return "open"

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="wait")])
        ref = spawn_branch(system, "b", tools=[wait], providers=[provider])
        ref.add_message("before")
        results: list[Any] = []
        thread = threading.Thread(target=lambda: results.append(ref.run_plan("g", steps=["go"])))
        thread.start()
        wait_until(lambda: ref.info().in_flight == 1)
        child = ref.fork("c")
        assert [m.content for m in child.messages()] == ["before"]
        system.loop.call_soon_threadsafe(gate.set)
        thread.join(10)
        assert results[0].completed
        assert len(ref.messages()) == 5

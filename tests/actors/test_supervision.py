import threading
import time
from typing import Any, ClassVar, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from agentic.actors import (
    Actor,
    ActorDeadError,
    ActorFailure,
    ActorState,
    ActorSystem,
    ChildFailed,
    Directive,
    EscalationError,
    SupervisionPolicy,
)
from agentic.actors._supervision import RestartWindow
from agentic.primitives import Element, Pile, Progression


class Note(Element):
    """A note kept in a Pile."""

    text: str = ""


class Add(NamedTuple):
    text: str


class Crash(NamedTuple):
    reason: str = "boom"


class Read(NamedTuple):
    pass


class Notebook(Actor):
    """Keeps notes in a Pile (durable) and a scratch counter (not durable)."""

    restart_keeps: ClassVar[tuple[str, ...]] = ("kept",)
    instances = 0

    def __init__(self) -> None:
        type(self).instances += 1
        self.notes: Pile[Note] = Pile(item_type=Note)
        self.order = Progression()
        self.scratch = 0
        self.kept = 0
        self.restarted_by: str | None = None

    def receive(self, message: Any) -> Any:
        match message:
            case Add(text):
                note = Note(text=text)
                self.notes.include(note)
                self.order.append(note.id)
                self.scratch += 1
                self.kept += 1
                return len(self.notes)
            case Crash(reason):
                self.scratch += 100  # a half-done update, discarded by the restart
                raise RuntimeError(reason)
            case Read():
                return {
                    "texts": [n.text for n in self.notes],
                    "order": len(self.order),
                    "scratch": self.scratch,
                    "kept": self.kept,
                    "restarted_by": self.restarted_by,
                }
            case _:
                return super().receive(message)

    def on_restart(self, error: Exception) -> None:
        self.restarted_by = str(error)


class TestRestart:
    def test_caller_gets_error_and_piles_survive(self, system: ActorSystem) -> None:
        """A raising handler: the asker gets the error; the actor restarts with its Piles."""
        ref = system.spawn(Notebook, name="nb")
        ref.ask(Add("one"))
        ref.ask(Add("two"))
        with pytest.raises(RuntimeError, match="boom"):
            ref.ask(Crash())
        state = ref.ask(Read())
        assert state == {
            "texts": ["one", "two"],
            "order": 2,
            "scratch": 0,
            "kept": 2,
            "restarted_by": "boom",
        }
        assert ref.ask(Add("three")) == 3
        health = ref.health()
        assert health.restarts == 1
        assert health.failures == 1
        assert health.state is ActorState.RUNNING
        assert health.last_error is not None
        assert health.last_error.type == "RuntimeError"
        assert health.last_error.message == "boom"

    def test_ref_survives_restart(self, system: ActorSystem) -> None:
        """Refs and name stay valid across restarts; queued messages are kept."""
        ref = system.spawn(Notebook, name="nb")
        for i in range(3):
            ref.tell(Crash(f"c{i}"))
            ref.tell(Add(f"a{i}"))
        assert system.lookup("nb") == ref
        assert ref.ask(Read())["texts"] == ["a0", "a1", "a2"]
        assert ref.health().restarts == 3

    def test_tell_failure_is_logged_counted_and_published(self, system: ActorSystem) -> None:
        """A failing tell is not silent: logged, counted in health, published on the bus."""
        ref = system.spawn(Notebook, name="nb")
        sub = system.bus.subscribe("actor.*.failed")
        with capture_logs() as logs:
            ref.tell(Crash("told"))
            ref.ask(Read())
        failed = [e for e in logs if e["event"] == "actor.failed"]
        assert len(failed) == 1
        assert failed[0]["log_level"] == "error"
        assert failed[0]["actor"] == "nb"
        assert failed[0]["error"] == "told"
        assert ref.health().failures == 1
        event = sub.get(timeout=1)
        assert event is not None
        assert event.topic == "actor.nb.failed"
        assert isinstance(event.payload, ActorFailure)
        assert event.payload.directive is Directive.RESTART
        assert event.payload.message_type == "Crash"

    def test_resume_keeps_the_same_object(self, system: ActorSystem) -> None:
        """RESUME keeps the actor object (scratch state included)."""
        ref = system.spawn(Notebook, supervision=SupervisionPolicy(directive=Directive.RESUME))
        with pytest.raises(RuntimeError):
            ref.ask(Crash())
        assert ref.ask(Read())["scratch"] == 100
        assert ref.health().restarts == 0

    def test_stop_directive_stops_and_fails_queued_asks(self, system: ActorSystem) -> None:
        """STOP: the actor stops after the failure; asks queued behind it get ActorDeadError."""
        gate = threading.Event()

        class Gated(Notebook):
            def receive(self, message: Any) -> Any:
                if message == "wait":
                    gate.wait(5)
                    return None
                return super().receive(message)

        ref = system.spawn(Gated, supervision=SupervisionPolicy(directive=Directive.STOP))
        ref.tell("wait")
        ref.tell(Crash())
        errors: list[BaseException] = []

        def ask() -> None:
            try:
                ref.ask(Read(), timeout=5)
            except ActorDeadError as exc:
                errors.append(exc)

        waiter = threading.Thread(target=ask)
        waiter.start()
        while ref.health().mailbox_depth < 2:
            time.sleep(0.001)
        gate.set()
        waiter.join(5)
        assert len(errors) == 1
        assert ref.health().state is ActorState.FAILED
        assert not ref.is_alive


class TestDroppedTells:
    def test_tells_behind_a_fatal_failure_are_logged(self, system: ActorSystem) -> None:
        """Tells still queued when a failure stops the actor are reported, not lost silently."""
        gate = threading.Event()

        class Gated(Notebook):
            def receive(self, message: Any) -> Any:
                if message == "wait":
                    gate.wait(5)
                    return None
                return super().receive(message)

        ref = system.spawn(Gated, supervision=SupervisionPolicy(directive=Directive.STOP))
        ref.tell("wait")
        ref.tell(Crash())
        for i in range(3):
            ref.tell(Add(str(i)))
        with capture_logs() as logs:
            gate.set()
            ref.stop()
        dropped = [e for e in logs if e["event"] == "actor.messages_dropped"]
        assert [e["count"] for e in dropped] == [3]


class TestEscalation:
    def test_crash_loop_escalates_to_the_system(self) -> None:
        """More than max_restarts within the window escalates: the actor stops."""
        seen: list[ActorFailure] = []
        policy = SupervisionPolicy(max_restarts=2, within=60)
        with ActorSystem(on_escalation=seen.append) as system:
            ref = system.spawn(Notebook, name="loop", supervision=policy)
            sub = system.bus.subscribe("actor.loop.escalated")
            for _ in range(2):
                with pytest.raises(RuntimeError):
                    ref.ask(Crash())
            assert ref.health().restarts == 2
            with pytest.raises(RuntimeError):
                ref.ask(Crash())
            assert not ref.is_alive
            assert ref.health().state is ActorState.FAILED
            with pytest.raises(ActorDeadError):
                ref.ask(Read())
            event = sub.get(timeout=1)
            assert event is not None
            assert event.payload.reason == "crash-loop"
        assert [f.reason for f in seen] == ["crash-loop"]
        assert list(system.escalations) == seen

    def test_escalation_reaches_the_parent(self, system: ActorSystem) -> None:
        """An escalating child stops; its parent's on_child_failed receives ChildFailed."""
        received: list[ChildFailed] = []

        class Parent(Actor):
            def receive(self, message: Any) -> Any:
                if message == "spawn":
                    return self.context.spawn(
                        Notebook,
                        name="kid",
                        supervision=SupervisionPolicy(directive=Directive.ESCALATE),
                    )
                if message == "failures":
                    return list(received)
                return super().receive(message)

            def on_child_failed(self, failure: ChildFailed) -> None:
                received.append(failure)

        parent = system.spawn(Parent, name="parent")
        kid = parent.ask("spawn")
        with pytest.raises(RuntimeError):
            kid.ask(Crash("kid broke"))
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.001)
        assert parent.ask("failures")[0].child == "kid"
        assert received[0].reason == "escalate"
        assert received[0].error.message == "kid broke"
        assert not kid.is_alive
        assert parent.is_alive
        assert parent.health().children == ()

    def test_default_parent_escalates_further(self) -> None:
        """By default a parent fails with EscalationError and its own policy applies."""
        seen: list[ActorFailure] = []
        with ActorSystem(on_escalation=seen.append) as system:

            class Parent(Actor):
                def receive(self, message: Any) -> Any:
                    return self.context.spawn(
                        Notebook,
                        name="kid",
                        supervision=SupervisionPolicy(directive=Directive.ESCALATE),
                    )

            parent = system.spawn(
                Parent, name="p", supervision=SupervisionPolicy(directive=Directive.ESCALATE)
            )
            kid = parent.ask("spawn")
            kid.tell(Crash())
            deadline = time.monotonic() + 5
            while parent.is_alive and time.monotonic() < deadline:
                time.sleep(0.001)
            assert not parent.is_alive
        assert [f.actor for f in seen] == ["p"]
        assert seen[0].error.type.endswith("EscalationError")

    def test_on_start_failure_escalates(self) -> None:
        """An actor whose on_start raises stops and escalates with reason start-failed."""
        seen: list[ActorFailure] = []

        class Broken(Actor):
            def on_start(self) -> None:
                raise ValueError("no start")

        with ActorSystem(on_escalation=seen.append) as system:
            ref = system.spawn(Broken)
            deadline = time.monotonic() + 5
            while ref.is_alive and time.monotonic() < deadline:
                time.sleep(0.001)
            with pytest.raises(ActorDeadError):
                ref.ask("x")
        assert [f.reason for f in seen] == ["start-failed"]

    def test_failed_restart_escalates(self) -> None:
        """If the factory fails during a restart, the failure escalates."""
        seen: list[ActorFailure] = []
        calls = []

        def factory() -> Notebook:
            calls.append(1)
            if len(calls) > 1:
                raise OSError("cannot rebuild")
            return Notebook()

        with ActorSystem(on_escalation=seen.append) as system:
            ref = system.spawn(factory)
            with pytest.raises(RuntimeError):
                ref.ask(Crash())
            assert not ref.is_alive
        assert [f.reason for f in seen] == ["restart-failed"]

    def test_escalation_error_carries_cause(self) -> None:
        """EscalationError names the child and keeps its exception."""
        error = EscalationError("x", name="p", child="kid", cause=ValueError("v"))
        assert error.child == "kid"
        assert isinstance(error.cause, ValueError)


class TestRestartWindow:
    @given(
        max_restarts=st.integers(0, 5),
        gaps=st.lists(st.floats(0, 20, allow_nan=False), max_size=30),
    )
    def test_never_more_than_max_in_any_window(self, max_restarts: int, gaps: list[float]) -> None:
        """Allowed restarts never exceed max_restarts within any `within`-long window."""
        within = 10.0
        window = RestartWindow(SupervisionPolicy(max_restarts=max_restarts, within=within))
        now = 0.0
        allowed: list[float] = []
        for gap in gaps:
            now += gap
            if window.allow(now):
                allowed.append(now)
        for t in allowed:
            assert sum(1 for u in allowed if t - within <= u <= t) <= max_restarts

    def test_window_slides(self) -> None:
        """Old restarts leave the window and allow new ones."""
        window = RestartWindow(SupervisionPolicy(max_restarts=1, within=1.0))
        assert window.allow(0.0)
        assert not window.allow(0.5)
        assert window.allow(1.6)


class TestEscalationToAStoppingParent:
    def test_escalation_queued_behind_the_parents_stop_reaches_the_system(self) -> None:
        """A child's escalation that reaches a parent already told to stop goes to the system."""
        seen: list[ActorFailure] = []
        gate = threading.Event()

        class Parent(Actor):
            def receive(self, message: Any) -> Any:
                if message == "spawn":
                    return self.context.spawn(
                        Notebook,
                        name="kid",
                        supervision=SupervisionPolicy(directive=Directive.ESCALATE),
                    )
                if message == "wait":
                    gate.wait(10)
                    return None
                return super().receive(message)

            def on_child_failed(self, failure: ChildFailed) -> None:
                pass  # a parent that would absorb it, if it still handled messages

        with ActorSystem(on_escalation=seen.append) as system:
            parent = system.spawn(Parent, name="parent")
            kid = parent.ask("spawn")
            parent.tell("wait")
            while parent.health().mailbox_depth:
                time.sleep(0.001)
            stopper = threading.Thread(target=system.stop, args=(parent,))
            stopper.start()
            while parent.is_alive:
                time.sleep(0.001)  # the stop is queued behind the busy handler
            kid.tell(Crash("kid broke"))
            while parent.health().mailbox_depth < 2:  # the stop, then the escalation
                time.sleep(0.001)
            gate.set()
            stopper.join()
        assert [(f.actor, f.reason) for f in seen] == [("kid", "escalate")]
        assert list(system.escalations) == seen
        assert seen[0].error.message == "kid broke"

import asyncio
import threading
import time
from typing import Any, NamedTuple

import pytest

from agentic.actors import (
    Actor,
    ActorDeadError,
    ActorError,
    ActorRef,
    ActorSystem,
    AskCycleError,
    AskTimeoutError,
    MailboxFullError,
)


class Wait(NamedTuple):
    """Block the actor until the event is set (a test probe for a busy mailbox)."""

    gate: threading.Event


class AskOther(NamedTuple):
    target: ActorRef[Any]
    message: Any


class Echo(Actor):
    def receive(self, message: Any) -> Any:
        match message:
            case Wait(gate):
                gate.wait(10)
                return "released"
            case AskOther(target, inner):
                return target.ask(inner, timeout=2.0)
            case _:
                return message


class TestAskAndTell:
    def test_ask_returns_the_reply(self, system: ActorSystem) -> None:
        """ask() returns what receive() returned."""
        ref = system.spawn(Echo)
        assert ref.ask({"a": 1}) == {"a": 1}

    def test_tell_is_processed_in_order(self, system: ActorSystem) -> None:
        """Tells from one sender are handled in the order sent."""
        seen: list[int] = []

        class Collect(Actor):
            def receive(self, message: Any) -> Any:
                if message == "done":
                    return list(seen)
                seen.append(message)
                return None

        ref = system.spawn(Collect)
        for i in range(200):
            ref.tell(i)
        assert ref.ask("done") == list(range(200))

    def test_ask_timeout_is_ours_and_a_timeout_error(self, system: ActorSystem) -> None:
        """An ask without a reply in time raises AskTimeoutError, a TimeoutError."""
        ref = system.spawn(Echo)
        gate = threading.Event()
        ref.tell(Wait(gate))
        with pytest.raises(AskTimeoutError, match=r"did not reply within 0\.05") as info:
            ref.ask("x", timeout=0.05)
        assert isinstance(info.value, TimeoutError)
        assert info.value.timeout == 0.05
        gate.set()
        assert ref.ask("y") == "y"

    def test_default_ask_timeout_is_finite(self) -> None:
        """Without a timeout, ask uses the system's finite ask_timeout."""
        with ActorSystem(ask_timeout=0.05) as system:
            ref = system.spawn(Echo)
            gate = threading.Event()
            ref.tell(Wait(gate))
            with pytest.raises(AskTimeoutError):
                ref.ask("x")
            gate.set()

    def test_asks_queued_before_stop_are_answered(self, system: ActorSystem) -> None:
        """Stop is graceful: an ask already queued gets its reply, a later one ActorDeadError."""
        ref = system.spawn(Echo)
        gate = threading.Event()
        ref.tell(Wait(gate))
        results: list[Any] = []
        waiter = threading.Thread(target=lambda: results.append(ref.ask("queued", timeout=5)))
        waiter.start()
        while ref.health().mailbox_depth < 1:
            time.sleep(0.001)
        stopper = threading.Thread(target=system.stop, args=(ref,))
        stopper.start()
        while ref.is_alive:
            time.sleep(0.001)
        with pytest.raises(ActorDeadError):
            ref.ask("after stop")
        gate.set()
        waiter.join(5)
        stopper.join(5)
        assert results == ["queued"]

    def test_tell_to_a_stopped_actor_raises(self, system: ActorSystem) -> None:
        """tell() and ask() on a stopped actor raise ActorDeadError."""
        ref = system.spawn(Echo)
        ref.stop()
        with pytest.raises(ActorDeadError):
            ref.tell("x")
        with pytest.raises(ActorDeadError):
            ref.ask("x")


class TestAskCycle:
    def test_asking_itself_is_refused(self, system: ActorSystem) -> None:
        """An actor asking itself gets AskCycleError instead of a deadlock."""
        ref = system.spawn(Echo, name="me")
        with pytest.raises(AskCycleError, match="me -> me") as info:
            ref.ask(AskOther(ref, "x"))
        assert info.value.chain == ("me",)

    def test_two_actor_cycle_is_refused(self, system: ActorSystem) -> None:
        """A asks B, B asks A: B's ask raises AskCycleError, which A's asker receives."""
        a = system.spawn(Echo, name="a")
        b = system.spawn(Echo, name="b")
        with pytest.raises(AskCycleError, match="a -> b -> a"):
            a.ask(AskOther(b, AskOther(a, "x")))
        assert a.ask("still alive") == "still alive"
        assert b.ask("still alive") == "still alive"

    def test_three_actor_cycle_is_refused(self, system: ActorSystem) -> None:
        """A -> B -> C -> A is detected too."""
        a, b, c = (system.spawn(Echo, name=n) for n in "abc")
        with pytest.raises(AskCycleError, match="a -> b -> c -> a"):
            a.ask(AskOther(b, AskOther(c, AskOther(a, "x"))))

    def test_chain_without_cycle_works(self, system: ActorSystem) -> None:
        """A -> B -> C is fine."""
        a, b, c = (system.spawn(Echo, name=n) for n in "abc")
        assert a.ask(AskOther(b, AskOther(c, "deep"))) == "deep"


class TestMailboxBound:
    def test_full_mailbox_refuses_tell_at_once(self, system: ActorSystem) -> None:
        """With timeout=0 a tell to a full mailbox raises MailboxFullError."""
        ref = system.spawn(Echo, mailbox_size=3)
        gate = threading.Event()
        ref.tell(Wait(gate))
        while ref.health().mailbox_depth:
            time.sleep(0.001)
        for i in range(3):
            ref.tell(i, timeout=0)
        with pytest.raises(MailboxFullError, match="full") as info:
            ref.tell("one too many", timeout=0)
        assert info.value.capacity == 3
        assert ref.health().mailbox_depth == 3
        gate.set()
        assert ref.ask("after") == "after"

    def test_tell_waits_for_room_then_gives_up(self, system: ActorSystem) -> None:
        """A tell with a timeout waits for room and raises MailboxFullError if none came."""
        ref = system.spawn(Echo, mailbox_size=1)
        gate = threading.Event()
        ref.tell(Wait(gate))
        while ref.health().mailbox_depth:
            time.sleep(0.001)
        ref.tell("fills it")
        with pytest.raises(MailboxFullError):
            ref.tell("blocked", timeout=0.05)
        gate.set()

    def test_blocked_tell_proceeds_when_room_appears(self, system: ActorSystem) -> None:
        """Backpressure: a waiting tell succeeds once the actor drains its mailbox."""
        ref = system.spawn(Echo, mailbox_size=1)
        gate = threading.Event()
        ref.tell(Wait(gate))
        while ref.health().mailbox_depth:
            time.sleep(0.001)
        ref.tell("fills it")
        threading.Timer(0.05, gate.set).start()
        ref.tell("waits", timeout=5)
        assert ref.ask("end") == "end"

    def test_waiting_tell_gets_the_slot_a_busy_actor_freed(self, system: ActorSystem) -> None:
        """A tell waiting on a full mailbox gets in when one slot frees, though the actor is busy."""
        ref = system.spawn(Echo, mailbox_size=4)
        first, second = threading.Event(), threading.Event()
        ref.tell(Wait(first))
        while ref.health().mailbox_depth:
            time.sleep(0.001)
        for message in (Wait(second), 1, 2, 3):
            ref.tell(message, timeout=0)
        outcome: list[object] = []

        def send() -> None:
            try:
                ref.tell("waited", timeout=8)
                outcome.append("sent")
            except MailboxFullError as exc:
                outcome.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        waiting = ref._cell.mailbox._not_full._waiters  # type: ignore[attr-defined]
        while not waiting:
            time.sleep(0.001)  # the sender is waiting for room
        first.set()  # the actor takes Wait(second) and is busy again: 3 of 4 queued
        sender.join(4)
        stalled = sender.is_alive()  # still waiting for room that has been there all along
        depth = ref.health().mailbox_depth
        second.set()
        sender.join()
        assert not stalled
        assert outcome == ["sent"]
        assert depth == 4
        assert ref.ask("end") == "end"

    def test_a_tell_to_itself_never_waits_on_its_own_full_mailbox(self) -> None:
        """An actor telling its own ref on a full mailbox fails at once: only it makes room."""

        class SelfTeller(Actor):
            def receive(self, message: Any) -> Any:
                if message != "fill":
                    return None
                self.context.ref.tell("first")  # takes the one free slot
                try:
                    self.context.ref.tell("second")
                except MailboxFullError:
                    return "refused"
                return "queued"

        with ActorSystem("self-tell", send_timeout=30.0, ask_timeout=5.0) as actors:
            ref = actors.spawn(SelfTeller, mailbox_size=1)
            assert ref.ask("fill") == "refused"

    def test_a_tell_to_an_actor_waiting_on_us_never_waits_on_its_full_mailbox(self) -> None:
        """A tell to an actor blocked in an ask to us fails at once: it cannot make room."""
        gate = threading.Event()

        class Server(Actor):
            def receive(self, message: Any) -> Any:
                (client,) = message
                gate.wait(10)  # the client's mailbox is full by now
                try:
                    client.tell("progress")
                except MailboxFullError:
                    return "refused"
                return "told"

        class Client(Actor):
            def receive(self, message: Any) -> Any:
                if isinstance(message, tuple):
                    server, answers = message
                    answers.append(server.ask((self.context.ref,), timeout=5.0))
                return None

        with ActorSystem("tell-back", send_timeout=30.0) as actors:
            server = actors.spawn(Server)
            client = actors.spawn(Client, mailbox_size=1)
            answers: list[Any] = []
            client.tell((server, answers))
            while client.health().mailbox_depth:
                time.sleep(0.001)
            client.tell("fills the mailbox", timeout=0)
            gate.set()
            deadline = time.monotonic() + 10
            while not answers and time.monotonic() < deadline:
                time.sleep(0.001)
            assert answers == ["refused"]

    def test_flood_is_bounded(self, system: ActorSystem) -> None:
        """A flood of fail-fast tells never queues more than the bound."""
        ref = system.spawn(Echo, mailbox_size=10)
        gate = threading.Event()
        ref.tell(Wait(gate))
        refused = 0
        for i in range(10_000):
            try:
                ref.tell(i, timeout=0)
            except MailboxFullError:
                refused += 1
        assert ref.health().mailbox_depth <= 10
        assert refused >= 10_000 - 11
        gate.set()


class TestHealth:
    def test_health_answers_while_the_actor_is_busy(self, system: ActorSystem) -> None:
        """A health probe does not go through the (blocked) mailbox."""
        ref = system.spawn(Echo, name="busy")
        gate = threading.Event()
        ref.tell(Wait(gate))
        ref.tell("queued")
        health = ref.health()
        assert health.name == "busy"
        assert health.alive
        assert health.mailbox_depth >= 1
        assert health.processed == 0
        gate.set()
        ref.ask("sync")
        after = ref.health()
        assert after.processed == 3
        assert after.failures == 0
        assert after.last_error is None
        assert after.model_dump(mode="json")["state"] == "running"


class TestAsync:
    def test_ask_async_returns_the_reply(self, system: ActorSystem) -> None:
        """await ask_async() returns the reply."""
        ref = system.spawn(Echo)

        async def main() -> Any:
            return await asyncio.gather(*(ref.ask_async(i) for i in range(100)))

        assert asyncio.run(main()) == list(range(100))

    def test_host_loop_keeps_ticking_while_an_ask_is_pending(self, system: ActorSystem) -> None:
        """Awaiting an ask never blocks the host's event loop."""
        ref = system.spawn(Echo)
        gate = threading.Event()

        async def main() -> tuple[Any, int]:
            ticks = 0
            pending = asyncio.ensure_future(ref.ask_async(Wait(gate)))
            while ticks < 20:
                await asyncio.sleep(0.001)
                ticks += 1
            assert not pending.done()
            gate.set()
            return await pending, ticks

        reply, ticks = asyncio.run(main())
        assert reply == "released"
        assert ticks == 20

    def test_ask_async_timeout(self, system: ActorSystem) -> None:
        """ask_async raises AskTimeoutError when no reply comes in time."""
        ref = system.spawn(Echo)
        gate = threading.Event()
        ref.tell(Wait(gate))

        async def main() -> None:
            await ref.ask_async("x", timeout=0.05)

        with pytest.raises(AskTimeoutError):
            asyncio.run(main())
        gate.set()

    def test_ask_async_carries_the_handler_error(self, system: ActorSystem) -> None:
        """A handler's exception reaches the awaiting caller."""

        class Fails(Actor):
            def receive(self, message: Any) -> Any:
                raise TimeoutError("handler's own timeout")

        ref = system.spawn(Fails)

        async def main() -> None:
            await ref.ask_async("x")

        with pytest.raises(TimeoutError, match="handler's own"):
            asyncio.run(main())

    def test_ask_async_waits_for_room_without_blocking(self, system: ActorSystem) -> None:
        """With a full mailbox ask_async polls for room, the loop still running."""
        ref = system.spawn(Echo, mailbox_size=1)
        gate = threading.Event()
        ref.tell(Wait(gate))
        while ref.health().mailbox_depth:
            time.sleep(0.001)
        ref.tell("fills it")

        async def main() -> Any:
            pending = asyncio.ensure_future(ref.ask_async("queued"))
            await asyncio.sleep(0.02)
            assert not pending.done()
            gate.set()
            return await pending

        assert asyncio.run(main()) == "queued"

    def test_blocking_ask_from_the_runtime_loop_is_refused(self, system: ActorSystem) -> None:
        """A blocking ask on the runtime's own loop would stall it: it raises instead."""
        ref = system.spawn(Echo)

        async def on_loop() -> Any:
            with pytest.raises(ActorError, match="use ask_async"):
                ref.ask("x")
            return await ref.ask_async("fine")

        assert system.run_coroutine(on_loop()).result(5) == "fine"


class TestCycleFromHooks:
    def test_on_start_asking_itself_is_refused(self, system: ActorSystem) -> None:
        """An ask to itself from on_start raises AskCycleError instead of hanging."""
        errors: list[BaseException] = []

        class SelfAsker(Actor):
            def on_start(self) -> None:
                try:
                    self.context.ref.ask("x", timeout=5)
                except AskCycleError as exc:
                    errors.append(exc)

            def receive(self, message: Any) -> Any:
                return message

        ref = system.spawn(SelfAsker)
        assert ref.ask("after") == "after"
        assert len(errors) == 1

import threading
from typing import Any, NamedTuple

import pykka
import pytest

from agentic.actors import (
    Actor,
    ActorDeadError,
    ActorError,
    ActorExistsError,
    ActorNotFoundError,
    ActorState,
    ActorSystem,
    SystemShutdownError,
)


class Echo(Actor):
    def receive(self, message: Any) -> Any:
        return message


class Recorder(Actor):
    """Appends lifecycle events to a shared journal (a test probe, not actor state)."""

    def __init__(self, label: str, journal: list[str]) -> None:
        self.label = label
        self.journal = journal

    def on_start(self) -> None:
        self.journal.append(f"start {self.label}")

    def on_stop(self) -> None:
        self.journal.append(f"stop {self.label}")

    def receive(self, message: Any) -> Any:
        match message:
            case SpawnChild(label):
                return self.context.spawn(Recorder, label, self.journal, name=label)
            case Note(text):
                self.journal.append(text)
                return None
            case _:
                return message


class SpawnChild(NamedTuple):
    label: str


class Note(NamedTuple):
    text: str


class TestSpawnAndLookup:
    def test_spawned_actor_answers_under_its_name(self, system: ActorSystem) -> None:
        """A spawned actor is found by name and answers asks."""
        ref = system.spawn(Echo, name="echo")
        assert system.lookup("echo") == ref
        assert ref.ask("hi") == "hi"
        assert ref.name == "echo"
        assert system.names() == ["echo"]

    def test_generated_names_are_unique(self, system: ActorSystem) -> None:
        """Actors spawned without a name get distinct generated names."""
        refs = [system.spawn(Echo) for _ in range(5)]
        assert len({r.name for r in refs}) == 5
        assert all(r.name.startswith("echo-") for r in refs)

    def test_duplicate_name_is_refused(self, system: ActorSystem) -> None:
        """A second live actor with the same name raises ActorExistsError (a ValueError)."""
        system.spawn(Echo, name="x")
        with pytest.raises(ActorExistsError, match="'x'") as info:
            system.spawn(Echo, name="x")
        assert isinstance(info.value, ValueError)

    def test_unknown_name_is_not_found(self, system: ActorSystem) -> None:
        """Looking up an unknown name raises ActorNotFoundError (a KeyError)."""
        with pytest.raises(ActorNotFoundError, match="nobody") as info:
            system.lookup("nobody")
        assert isinstance(info.value, KeyError)

    @pytest.mark.parametrize("name", ["a.b", "a*", "has space", ""])
    def test_bad_names_are_refused(self, system: ActorSystem, name: str) -> None:
        """Names must be usable as a bus topic segment."""
        with pytest.raises(ValueError, match="bad actor name"):
            system.spawn(Echo, name=name)

    def test_factory_must_build_an_actor(self, system: ActorSystem) -> None:
        """A factory returning a non-Actor raises TypeError."""
        with pytest.raises(TypeError, match="not an Actor"):
            system.spawn(object)  # type: ignore[type-var]

    def test_no_pykka_global_registry(self, system: ActorSystem) -> None:
        """Spawning registers nothing in pykka's global ActorRegistry."""
        system.spawn(Echo)
        assert pykka.ActorRegistry.get_all() == []

    def test_two_systems_are_independent(self) -> None:
        """The same name may live in two systems; each sees only its own actors."""
        with ActorSystem("one") as one, ActorSystem("two") as two:
            a = one.spawn(Echo, name="same")
            b = two.spawn(Echo, name="same")
            assert a != b
            assert one.lookup("same") == a
            assert two.lookup("same") == b


class TestStop:
    def test_stop_runs_on_stop_and_frees_the_name(self, system: ActorSystem) -> None:
        """stop() waits for on_stop; the name is free again afterwards."""
        journal: list[str] = []
        ref = system.spawn(Recorder, "a", journal, name="a")
        assert ref.ask("ping") == "ping"
        assert system.stop("a") is True
        assert journal == ["start a", "stop a"]
        assert not ref.is_alive
        assert ref.health().state is ActorState.STOPPED
        with pytest.raises(ActorDeadError):
            ref.tell("late")
        assert system.stop(ref) is False
        system.spawn(Recorder, "a", journal, name="a")

    def test_messages_queued_before_stop_are_handled(self, system: ActorSystem) -> None:
        """Stop is graceful: tells already in the mailbox are processed first."""
        journal: list[str] = []
        ref = system.spawn(Recorder, "a", journal)
        for i in range(50):
            ref.tell(Note(f"n{i}"))
        ref.stop()
        assert journal == ["start a", *(f"n{i}" for i in range(50)), "stop a"]

    def test_children_stop_before_parents(self, system: ActorSystem) -> None:
        """Stopping a parent stops its children (and theirs) first."""
        journal: list[str] = []
        root = system.spawn(Recorder, "root", journal, name="root")
        child = root.ask(SpawnChild("child"))
        child.ask(SpawnChild("grandchild"))
        assert root.health().children == ("child",)
        assert system.lookup("grandchild").health().parent == "child"
        system.stop(root)
        assert journal[-3:] == ["stop grandchild", "stop child", "stop root"]
        assert system.names() == []

    def test_spawn_with_parent_by_name(self, system: ActorSystem) -> None:
        """A parent may be given by name; a missing parent raises ActorNotFoundError."""
        system.spawn(Echo, name="p")
        system.spawn(Echo, name="c", parent="p")
        assert system.lookup("c").health().parent == "p"
        with pytest.raises(ActorNotFoundError):
            system.spawn(Echo, parent="missing")


class TestShutdown:
    def test_shutdown_stops_everything_and_joins_threads(self) -> None:
        """After shutdown no runtime thread is left and every on_stop ran, children first."""
        before = set(threading.enumerate())
        journal: list[str] = []
        system = ActorSystem()
        roots = [system.spawn(Recorder, f"r{i}", journal, name=f"r{i}") for i in range(5)]
        for i, root in enumerate(roots):
            root.ask(SpawnChild(f"k{i}"))
        system.run_coroutine(_noop()).result(5)
        system.shutdown()
        assert [t for t in threading.enumerate() if t not in before] == []
        for i in range(5):
            assert journal.index(f"stop k{i}") < journal.index(f"stop r{i}")
        assert sum(1 for line in journal if line.startswith("stop")) == 10

    def test_shutdown_refuses_new_work(self) -> None:
        """After shutdown, spawn and run_coroutine raise SystemShutdownError."""
        system = ActorSystem()
        system.shutdown()
        system.shutdown()  # idempotent
        with pytest.raises(SystemShutdownError):
            system.spawn(Echo)
        with pytest.raises(SystemShutdownError):
            system.run_coroutine(_noop())
        with pytest.raises(SystemShutdownError):
            _ = system.loop

    def test_context_manager_shuts_down(self) -> None:
        """Leaving the with-block shuts the system down."""
        with ActorSystem() as system:
            ref = system.spawn(Echo)
        assert not ref.is_alive
        assert system.names() == []

    def test_health_lists_every_actor(self, system: ActorSystem) -> None:
        """system.health() reports each live actor."""
        system.spawn(Echo, name="a")
        system.spawn(Echo, name="b")
        assert [h.name for h in system.health()] == ["a", "b"]


async def _noop() -> None:
    return None


class TestFromInside:
    def test_shutdown_from_an_actor_is_refused(self, system: ActorSystem) -> None:
        """An actor cannot shut down its own system (it would wait for itself)."""

        class Shutter(Actor):
            def receive(self, message: Any) -> Any:
                self.context.system.shutdown()

        ref = system.spawn(Shutter)
        with pytest.raises(ActorError, match="cannot shut down from inside"):
            ref.ask("go")

    def test_actor_stops_another_without_waiting(self, system: ActorSystem) -> None:
        """stop() from an actor's thread starts the stop and returns at once."""
        journal: list[str] = []
        target = system.spawn(Recorder, "target", journal, name="target")

        class Stopper(Actor):
            def receive(self, message: Any) -> Any:
                return self.context.system.stop("target")

        assert system.spawn(Stopper).ask("go") is True
        system.stop(target)  # from the host: waits until it has ended
        assert journal == ["start target", "stop target"]

    def test_system_default_policy_applies(self) -> None:
        """ActorSystem(supervision=...) is the default policy of spawned actors."""
        from agentic.actors import Directive, SupervisionPolicy

        with ActorSystem(supervision=SupervisionPolicy(directive=Directive.STOP)) as system:

            class Fails(Actor):
                def receive(self, message: Any) -> Any:
                    raise RuntimeError("x")

            ref = system.spawn(Fails)
            with pytest.raises(RuntimeError):
                ref.ask("go")
            assert not ref.is_alive


class TestAsyncHost:
    def test_stop_and_shutdown_from_an_asyncio_host(self) -> None:
        """stop_async and shutdown_async let the host loop keep running."""
        import asyncio

        before = set(threading.enumerate())
        journal: list[str] = []

        async def main() -> int:
            system = ActorSystem()
            ref = system.spawn(Recorder, "a", journal, name="a")
            system.spawn(Recorder, "b", journal, name="b")
            assert await ref.ask_async(Note("hello")) is None
            assert await system.stop_async("a") is True
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0)
                    ticks += 1

            ticker = asyncio.ensure_future(tick())
            await system.shutdown_async()
            ticker.cancel()
            return ticks

        assert asyncio.run(main()) > 0
        assert sorted(journal) == ["hello", "start a", "start b", "stop a", "stop b"]
        assert journal.index("start a") < journal.index("hello") < journal.index("stop a")
        assert journal.index("stop a") < journal.index("stop b")
        assert [t for t in threading.enumerate() if t not in before] == []

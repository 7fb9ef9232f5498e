import threading
import time
from typing import Any

import pytest

from agentic.actors import (
    Actor,
    ActorDeadError,
    ActorNotFoundError,
    ActorRef,
    ActorSystem,
    Directive,
    SupervisionPolicy,
)
from agentic.actors._cell import Cell

ROUNDS = 30
STOPPERS = 16


class _SlowFlag:
    """Wraps the `Cell.accepting` slot: every read yields the GIL for a moment after
    reading the value.

    That widens the gap between reading the flag and acting on it, so an unlocked
    check-then-set loses to other threads in every round instead of once in a while.
    """

    def __init__(self, slot: Any) -> None:
        self.slot = slot

    def __get__(self, cell: Cell | None, owner: type[Cell]) -> Any:
        if cell is None:
            return self
        value = self.slot.__get__(cell, owner)
        time.sleep(0.0002)
        return value

    def __set__(self, cell: Cell, value: bool) -> None:
        self.slot.__set__(cell, value)


@pytest.fixture(autouse=True)
def _slow_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test here with the widened race window."""
    monkeypatch.setattr(Cell, "accepting", _SlowFlag(Cell.__dict__["accepting"]))


class Echo(Actor):
    def receive(self, message: Any) -> Any:
        return message


class Fragile(Actor):
    """Raises on "boom" (after signalling it); its STOP policy then stops it itself."""

    def __init__(self, failing: threading.Event) -> None:
        self.failing = failing

    def receive(self, message: Any) -> Any:
        if message == "boom":
            self.failing.set()
            raise RuntimeError("boom")
        return message


def _actor_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before and t.name.startswith("actor-")]


def _stop_at_once(system: ActorSystem, ref: ActorRef[Any]) -> list[bool]:
    """Release STOPPERS threads together on `system.stop(ref)`; return their answers."""
    barrier = threading.Barrier(STOPPERS)
    results: list[bool] = []
    lock = threading.Lock()

    def stopper() -> None:
        barrier.wait()
        won = system.stop(ref)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=stopper) for _ in range(STOPPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _spawn_racing(
    system: ActorSystem, parent: ActorRef[Any], start: threading.Event, delay: float
) -> tuple[threading.Thread, list[ActorRef[Any] | None]]:
    """Start a thread spawning a child of `parent` once `start` is set; return it and the child."""
    spawned: list[ActorRef[Any] | None] = []

    def spawner() -> None:
        start.wait()
        time.sleep(delay)
        try:
            spawned.append(system.spawn(Echo, parent=parent))
        except (ActorDeadError, ActorNotFoundError):
            spawned.append(None)

    thread = threading.Thread(target=spawner)
    thread.start()
    return thread, spawned


def _assert_stopped(child: ActorRef[Any] | None) -> None:
    if child is not None:
        assert not child.is_alive
        assert child._cell.finished  # the child's thread has ended


class TestConcurrentStop:
    def test_many_threads_stopping_one_actor_exactly_one_wins(self, system: ActorSystem) -> None:
        """Of many threads stopping one actor at once, exactly one gets True."""
        for n in range(ROUNDS):
            ref = system.spawn(Echo, name=f"target-{n}")
            results = _stop_at_once(system, ref)
            assert sorted(results) == [False] * (STOPPERS - 1) + [True]
            assert not ref.is_alive
            assert f"target-{n}" not in system.names()


class TestSpawnRacingParentStop:
    def test_child_spawned_during_parent_stop_ends_stopped(self, system: ActorSystem) -> None:
        """A spawn racing its parent's stop() is refused or its child stops with the parent."""
        before = set(threading.enumerate())
        for n in range(ROUNDS):
            parent = system.spawn(Echo, name=f"parent-{n}")
            go = threading.Event()
            thread, spawned = _spawn_racing(system, parent, go, 0.0)
            go.set()
            assert system.stop(parent)
            thread.join()
            assert not parent.is_alive
            _assert_stopped(spawned[0])
        assert system.names() == []
        assert _actor_threads(before) == []

    def test_child_spawned_while_parent_fails_and_stops_ends_stopped(
        self, system: ActorSystem
    ) -> None:
        """A spawn racing a parent its policy stops is refused or stopped with the parent."""
        before = set(threading.enumerate())
        for n in range(ROUNDS * 2):
            failing = threading.Event()
            parent = system.spawn(
                Fragile,
                failing,
                name=f"fragile-{n}",
                supervision=SupervisionPolicy(directive=Directive.STOP),
            )
            # Sweep the spawn across the parent's stop, which its failure begins.
            thread, spawned = _spawn_racing(system, parent, failing, (n % 6) * 0.0001)
            parent.tell("boom")
            thread.join()
            system.stop(parent)  # waits for the stop the failure began
            _assert_stopped(spawned[0])
        assert system.names() == []
        assert _actor_threads(before) == []

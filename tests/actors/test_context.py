import asyncio
import concurrent.futures
import threading
import time
from typing import Any, NamedTuple

import pytest

from agentic.actors import (
    Actor,
    ActorError,
    ActorSystem,
    MailboxFullError,
)


class Fetch(NamedTuple):
    key: str
    delay: float = 0.0
    fail: bool = False


class Fetched(NamedTuple):
    key: str
    value: Any


class FetchFailed(NamedTuple):
    key: str
    error: str


async def fetch(key: str, delay: float, fail: bool) -> str:
    await asyncio.sleep(delay)
    if fail:
        raise LookupError(f"no {key}")
    return key.upper()


def completion(key: str) -> Any:
    """Build the on_done callback: outcome -> message."""

    def on_done(outcome: Any) -> Any:
        if isinstance(outcome, BaseException):
            return FetchFailed(key, f"{type(outcome).__name__}: {outcome}")
        return Fetched(key, outcome)

    return on_done


class Fetcher(Actor):
    def __init__(self) -> None:
        self.results: dict[str, Any] = {}
        self.threads: set[str] = set()

    def receive(self, message: Any) -> Any:
        match message:
            case Fetch(key, delay, fail):
                self.context.run_async(fetch(key, delay, fail), on_done=completion(key))
                return "started"
            case Fetched(key, value) | FetchFailed(key, value):
                self.threads.add(threading.current_thread().name)
                self.results[key] = value
                return None
            case "results":
                return dict(self.results)
            case "threads":
                return set(self.threads)
            case _:
                return super().receive(message)


def wait_for(predicate: Any, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.002)


class TestRunAsync:
    def test_completion_comes_back_as_a_message(self, system: ActorSystem) -> None:
        """run_async returns at once; the outcome arrives later in the actor's thread."""
        ref = system.spawn(Fetcher, name="f")
        assert ref.ask(Fetch("a", 0.01)) == "started"
        wait_for(lambda: "a" in ref.ask("results"))
        assert ref.ask("results") == {"a": "A"}
        assert ref.ask("threads") == {"actor-f"}

    def test_mailbox_is_free_while_io_runs(self, system: ActorSystem) -> None:
        """While many coroutines are in flight, the actor still answers at once."""
        ref = system.spawn(Fetcher)
        for i in range(50):
            ref.tell(Fetch(f"k{i}", 0.2))
        assert ref.ask("results", timeout=1) == {}
        wait_for(lambda: len(ref.ask("results")) == 50)

    def test_exception_outcome_is_delivered(self, system: ActorSystem) -> None:
        """A failing coroutine gives on_done the exception."""
        ref = system.spawn(Fetcher)
        ref.tell(Fetch("b", fail=True))
        wait_for(lambda: "b" in ref.ask("results"))
        assert ref.ask("results") == {"b": "LookupError: no b"}

    def test_shutdown_cancels_and_delivers_cancellation(self) -> None:
        """At shutdown in-flight coroutines are cancelled; the actor hears of it before stopping."""
        seen: list[Any] = []

        class Recorder(Fetcher):
            def on_stop(self) -> None:
                seen.append(dict(self.results))

        system = ActorSystem()
        ref = system.spawn(Recorder)
        ref.ask(Fetch("slow", 60))
        system.shutdown(timeout=5)
        assert seen == [{"slow": "CancelledError: "}]

    def test_on_done_returning_none_delivers_nothing(self, system: ActorSystem) -> None:
        """on_done may return None to ignore an outcome."""
        received: list[Any] = []

        class Quiet(Actor):
            def receive(self, message: Any) -> Any:
                if message == "go":
                    return self.context.run_async(fetch("q", 0, False), on_done=lambda _: None)
                received.append(message)
                return None

        ref = system.spawn(Quiet)
        future = ref.ask("go")
        assert isinstance(future, concurrent.futures.Future)
        assert future.result(5) == "Q"
        ref.ask("sync")
        assert received == ["sync"]

    def test_failing_completion_handler_is_supervised(self, system: ActorSystem) -> None:
        """An error in on_done counts as a failure of the actor, like a tell."""

        def broken(_outcome: Any) -> Any:
            raise ValueError("bad on_done")

        class Broken(Actor):
            def receive(self, message: Any) -> Any:
                if message == "go":
                    self.context.run_async(fetch("z", 0, False), on_done=broken)
                return message

        ref = system.spawn(Broken)
        ref.ask("go")
        wait_for(lambda: ref.health().failures == 1)
        assert ref.health().restarts == 1
        assert ref.ask("ok") == "ok"

    def test_pipe_delivers_an_existing_future(self, system: ActorSystem) -> None:
        """pipe() delivers the outcome of a future started elsewhere."""
        future: concurrent.futures.Future[str] = concurrent.futures.Future()

        class Piper(Fetcher):
            def receive(self, message: Any) -> Any:
                if message == "pipe":
                    self.context.pipe(future, completion("piped"))
                    return None
                return super().receive(message)

        ref = system.spawn(Piper)
        ref.ask("pipe")
        future.set_result("value")
        wait_for(lambda: "piped" in ref.ask("results"))
        assert ref.ask("results") == {"piped": "value"}


class TestContext:
    def test_context_knows_name_ref_system_parent(self, system: ActorSystem) -> None:
        """The context exposes the actor's name, ref, system and parent."""

        class Introspect(Actor):
            def receive(self, message: Any) -> Any:
                ctx = self.context
                if message == "child":
                    return ctx.spawn(Introspect, name="kid")
                parent = ctx.parent
                return (ctx.name, ctx.ref, ctx.system is system, parent.name if parent else None)

        ref = system.spawn(Introspect, name="top")
        assert ref.ask("who") == ("top", ref, True, None)
        kid = ref.ask("child")
        assert kid.ask("who")[3] == "top"

    def test_context_before_spawn_raises(self) -> None:
        """Using the context in __init__ (before spawn) raises ActorError."""
        with pytest.raises(ActorError, match="no context yet"):
            _ = Actor().context

    def test_tell_self_queues_behind(self, system: ActorSystem) -> None:
        """tell_self appends to the actor's own mailbox."""

        class Looper(Actor):
            def __init__(self) -> None:
                self.seen: list[int] = []

            def receive(self, message: Any) -> Any:
                if message == "seen":
                    return list(self.seen)
                self.seen.append(message)
                if message < 5:
                    self.context.tell_self(message + 1)
                return None

        ref = system.spawn(Looper)
        ref.tell(0)
        wait_for(lambda: len(ref.ask("seen")) == 6)
        assert ref.ask("seen") == [0, 1, 2, 3, 4, 5]

    def test_tell_self_fails_fast_when_full(self, system: ActorSystem) -> None:
        """tell_self never waits on its own full mailbox: it raises MailboxFullError."""

        class Flooder(Actor):
            def receive(self, message: Any) -> Any:
                for i in range(10):
                    self.context.tell_self(i)
                return None

        ref = system.spawn(Flooder, mailbox_size=5)
        with pytest.raises(MailboxFullError):
            ref.ask("flood")

    def test_stop_self(self, system: ActorSystem) -> None:
        """stop_self stops the actor after its queued messages."""

        class Quitter(Actor):
            def receive(self, message: Any) -> Any:
                self.context.stop_self()
                return "bye"

        ref = system.spawn(Quitter)
        assert ref.ask("quit") == "bye"
        wait_for(lambda: ref.health().state == "stopped")

    def test_publish_from_actor(self, system: ActorSystem) -> None:
        """An actor publishes on the system bus through its context."""
        sub = system.bus.subscribe("news.*")

        class Publisher(Actor):
            def receive(self, message: Any) -> Any:
                return self.context.publish(f"news.{self.context.name}", message)

        ref = system.spawn(Publisher, name="pub")
        assert ref.ask("hello") == 1
        event = sub.get(timeout=1)
        assert event is not None
        assert event.topic == "news.pub"


class TestLoop:
    def test_run_coroutine_runs_on_the_loop_thread(self, system: ActorSystem) -> None:
        """run_coroutine runs on the runtime's single loop thread."""

        async def where() -> str:
            return threading.current_thread().name

        assert system.run_coroutine(where()).result(5) == "test-loop"
        assert system.loop.is_running()

    def test_loop_starts_lazily(self, system: ActorSystem) -> None:
        """No loop thread exists until something needs it."""
        system.spawn(Actor)
        assert "test-loop" not in {t.name for t in threading.enumerate()}

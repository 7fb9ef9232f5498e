"""The `ActorContext`: an actor's view of the runtime that hosts it."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from pykka._envelope import Envelope

from agentic.actors._errors import MailboxFullError
from agentic.actors._mailbox import Letter, MailboxClosed
from agentic.actors._ref import ActorRef

if TYPE_CHECKING:
    from agentic.actors._actor import Actor
    from agentic.actors._cell import Cell
    from agentic.actors._supervision import SupervisionPolicy
    from agentic.actors._system import ActorSystem

__all__ = ["ActorContext", "Completion"]

T = TypeVar("T")
A = TypeVar("A", bound="Actor")

_log = structlog.get_logger("agentic.actors")


class Completion:
    """Internal: a finished piece of async work on its way back to its actor.

    The actor's thread calls `on_done(outcome)` and handles what it returns as a
    message, so `on_done` runs serialized with the actor's handlers.
    """

    __slots__ = ("on_done", "outcome")

    def __init__(self, on_done: Callable[[Any], Any], outcome: Any) -> None:
        self.on_done = on_done
        self.outcome = outcome


class ActorContext:
    """What an actor knows about its place in the runtime (`Actor.context`).

    One context serves an actor for its whole life, across restarts.
    """

    __slots__ = ("_cell", "ref")

    def __init__(self, cell: Cell) -> None:
        self._cell = cell
        self.ref: ActorRef[Any] = ActorRef(cell)
        """The actor's own ref (hand it to others so they can reply by `tell`)."""

    @property
    def name(self) -> str:
        """The actor's name, unique in its system while it lives."""
        return self._cell.name

    @property
    def system(self) -> ActorSystem:
        """The system that hosts the actor."""
        return self._cell.system

    @property
    def parent(self) -> ActorRef[Any] | None:
        """The parent's ref, or None for a top-level actor."""
        parent = self._cell.parent
        return None if parent is None else ActorRef(parent)

    def tell_self(self, message: Any) -> None:
        """Queue `message` for this actor, behind what is already in its mailbox.

        Raises:
            MailboxFullError: if the mailbox is full (it never waits: the only thread
                that could make room is this one).
        """
        cell = self._cell
        try:
            put = cell.mailbox.put(Envelope(Letter(message, (), ask=False)), 0)
        except MailboxClosed:
            return  # stopping: the message would never be handled anyway
        if not put:
            msg = f"mailbox of actor {cell.name!r} is full ({cell.mailbox.capacity})"
            raise MailboxFullError(msg, name=cell.name, capacity=cell.mailbox.capacity)

    def run_async(
        self,
        coro: Coroutine[Any, Any, T],
        on_done: Callable[[Any], Any],
    ) -> concurrent.futures.Future[T]:
        """Run `coro` on the system's asyncio loop; its outcome comes back as a message.

        The handler returns at once (the mailbox never blocks on I/O). When the
        coroutine ends, this actor's thread calls `on_done(outcome)` - `outcome` is
        the result, or the exception raised (an `asyncio.CancelledError` if it was
        cancelled, at shutdown say) - and handles the value it returns as a later
        message, exactly like a `tell`. Return None from `on_done` to deliver nothing.
        A completion bypasses the mailbox bound. If the actor has stopped by then,
        the completion is dropped (and logged at debug level).

        Args:
            coro: the coroutine to run.
            on_done: turns the outcome into a message; runs in the actor's thread.

        Returns:
            A future of the coroutine's result (rarely needed; do not block on it in
            a handler).
        """
        future = self._cell.system.run_coroutine(coro)
        self.pipe(future, on_done)
        return future

    def pipe(self, future: concurrent.futures.Future[T], on_done: Callable[[Any], Any]) -> None:
        """Deliver the outcome of an already running `future` as a later message.

        Works like [`run_async()`][agentic.actors.ActorContext.run_async] for work
        someone else started (an executor's future, say).

        Args:
            future: the future to watch.
            on_done: turns its outcome into a message; runs in the actor's thread.
        """
        cell = self._cell

        def deliver(done: concurrent.futures.Future[T]) -> None:
            outcome: Any
            if done.cancelled():
                outcome = asyncio.CancelledError()
            else:
                error = done.exception()
                outcome = error if error is not None else done.result()
            if not cell.mailbox.put_internal(Envelope(Completion(on_done, outcome))):
                _log.debug("actor.completion_dropped", actor=cell.name)

        future.add_done_callback(deliver)

    def spawn(
        self,
        factory: Callable[..., A],
        *args: Any,
        name: str | None = None,
        supervision: SupervisionPolicy | None = None,
        mailbox_size: int | None = None,
    ) -> ActorRef[A]:
        """Spawn a child of this actor (stopped before it; escalates to it).

        Same arguments as [`ActorSystem.spawn()`][agentic.actors.ActorSystem.spawn].
        """
        return self._cell.system.spawn(
            factory,
            *args,
            name=name,
            supervision=supervision,
            mailbox_size=mailbox_size,
            parent=self.ref,
        )

    def stop_self(self) -> None:
        """Stop this actor after the messages already in its mailbox (and its children first)."""
        self._cell.system.stop(self.ref)

    def publish(self, topic: str, payload: Any = None) -> int:
        """Publish on the system's bus; return how many subscribers took the event."""
        return self._cell.system.bus.publish(topic, payload)

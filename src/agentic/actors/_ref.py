"""`ActorRef`: the handle through which everyone talks to an actor."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from threading import current_thread, get_ident
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pykka import Future, Timeout
from pykka._envelope import Envelope
from pykka._threading import ThreadingFuture

from agentic.actors._errors import (
    ActorDeadError,
    ActorError,
    AskCycleError,
    MailboxFullError,
    translate_pykka_error,
)
from agentic.actors._mailbox import Letter, MailboxClosed, thread_state

if TYPE_CHECKING:
    from pykka._types import OptExcInfo

    from agentic.actors._actor import Actor
    from agentic.actors._cell import ActorHealth, Cell

__all__ = ["ActorRef"]

A = TypeVar("A", bound="Actor")

# An ask_async whose mailbox is full polls for room at most this often (seconds).
_POLL_MAX = 0.01


class _AsyncReply(Future[Any]):
    """A reply slot that resolves an asyncio future on its own loop, never blocking it."""

    __slots__ = ("_future", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        super().__init__()
        self._loop = loop
        self._future = future

    def set(self, value: Any | None = None) -> None:
        self._resolve(_set_result, value)

    def set_exception(self, exc_info: OptExcInfo | None = None) -> None:
        info = exc_info if exc_info is not None else sys.exc_info()
        self._resolve(_set_exception, info[1])

    def _resolve(self, how: Any, value: Any) -> None:
        # RuntimeError: the host's loop is closed, so nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(how, self._future, value)


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


class ActorRef(Generic[A]):
    """A handle to an actor: send it messages, probe its health.

    Refs are cheap, compare equal when they name the same actor incarnation, and stay
    valid after a restart (the actor keeps its mailbox). Every blocking call has a
    finite timeout, by default the system's.
    """

    __slots__ = ("_cell",)

    def __init__(self, cell: Cell) -> None:
        self._cell = cell

    @property
    def name(self) -> str:
        """The actor's name."""
        return self._cell.name

    @property
    def is_alive(self) -> bool:
        """Whether the actor still takes messages."""
        return self._cell.accepting

    def health(self) -> ActorHealth:
        """Return the actor's health, read without going through its mailbox."""
        return self._cell.health()

    def _chain(self) -> tuple[str, ...]:
        """Return the ask chain for an ask sent from this thread, refusing a cycle."""
        current = getattr(thread_state, "current", None)
        if current is None:
            cell = self._cell
            if get_ident() == cell.system._loop_thread.ident:  # noqa: SLF001
                msg = (
                    f"blocking ask to actor {cell.name!r} from the runtime's event loop: "
                    "use ask_async there"
                )
                raise ActorError(msg, name=cell.name)
            return ()
        me, upstream = current
        chain = (*upstream, me)
        if self._cell.name in chain:
            path = " -> ".join((*chain, self._cell.name))
            msg = f"ask to actor {self._cell.name!r} would deadlock: {path}"
            raise AskCycleError(msg, name=self._cell.name, chain=chain)
        return chain

    def _dead(self) -> ActorDeadError:
        msg = f"actor {self._cell.name!r} is not alive"
        return ActorDeadError(msg, name=self._cell.name)

    def _full(self, waited: float) -> MailboxFullError:
        cell = self._cell
        msg = f"mailbox of actor {cell.name!r} stayed full ({cell.mailbox.capacity}) for {waited} s"
        return MailboxFullError(msg, name=cell.name, capacity=cell.mailbox.capacity)

    def tell(self, message: Any, *, timeout: float | None = None) -> None:
        """Send `message` without waiting for a reply.

        A failure while handling it is not lost: it is logged, counted in
        [`health()`][agentic.actors.ActorRef.health], published on the bus and handed
        to supervision.

        Args:
            message: the message, a serializable value.
            timeout: seconds to wait for room in a full mailbox (0: fail at once);
                None means the system's `send_timeout`. A tell never waits from the
                target's own thread, nor from an actor the target is blocked asking
                (directly or down a chain of asks): only that thread could make room.

        Raises:
            ActorDeadError: if the actor has stopped.
            MailboxFullError: if the mailbox stayed full for `timeout` seconds.
        """
        cell = self._cell
        if not cell.accepting:
            raise self._dead()
        wait = cell.system.send_timeout if timeout is None else timeout
        current = getattr(thread_state, "current", None)
        if current is not None and (cell.name in current[1] or cell.thread is current_thread()):
            # The target is this actor, or blocked in an ask waiting on it: only this
            # thread could make it take messages again, so waiting would deadlock.
            wait = 0
        try:
            put = cell.mailbox.put(Envelope(Letter(message, (), ask=False)), wait)
        except MailboxClosed:
            raise self._dead() from None
        if not put:
            raise self._full(wait)

    def ask(self, message: Any, *, timeout: float | None = None) -> Any:
        """Send `message` and wait for the reply.

        Args:
            message: the message, a serializable value.
            timeout: seconds for the whole ask (room in the mailbox, then the reply);
                None means the system's `ask_timeout` (always finite).

        Returns:
            What the actor's `receive` returned.

        Raises:
            AskTimeoutError: if no reply came in time (the message may still be
                handled later; its reply is then dropped).
            AskCycleError: if the ask would wait on an actor already waiting in this
                chain of asks (itself included).
            ActorDeadError: if the actor has stopped, or stops before replying.
            MailboxFullError: if the mailbox stayed full for the whole timeout.
            Exception: whatever the actor's handler raised.
        """
        cell = self._cell
        if not cell.accepting:
            raise self._dead()
        chain = self._chain()
        wait = cell.system.ask_timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        reply: ThreadingFuture[Any] = ThreadingFuture()
        try:
            put = cell.mailbox.put(Envelope(Letter(message, chain, ask=True), reply), wait)
        except MailboxClosed:
            raise self._dead() from None
        if not put:
            raise self._full(wait)
        try:
            return reply.get(timeout=max(deadline - time.monotonic(), 0.0))
        except Timeout as exc:
            raise translate_pykka_error(exc, name=cell.name, timeout=wait) from exc

    async def ask_async(
        self,
        message: Any,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the same finite timeout as ask()
    ) -> Any:
        """Send `message` and await the reply without blocking the running loop.

        The actor's thread resolves the reply on the caller's loop
        (`call_soon_threadsafe`); a full mailbox is polled, never waited on with a
        lock. Same arguments, result and errors as
        [`ask()`][agentic.actors.ActorRef.ask].
        """
        cell = self._cell
        if not cell.accepting:
            raise self._dead()
        wait = cell.system.ask_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        future: asyncio.Future[Any] = loop.create_future()
        envelope = Envelope(Letter(message, (), ask=True), _AsyncReply(loop, future))
        pause = 0.0005
        try:
            while not cell.mailbox.put(envelope, 0):
                if loop.time() >= deadline:
                    raise self._full(wait)
                await asyncio.sleep(pause)
                pause = min(pause * 2, _POLL_MAX)
        except MailboxClosed:
            raise self._dead() from None
        try:
            async with asyncio.timeout_at(deadline):
                return await future
        except TimeoutError as exc:
            if future.done() and not future.cancelled():
                raise  # the handler itself raised a TimeoutError
            raise translate_pykka_error(Timeout(), name=cell.name, timeout=wait) from exc

    def stop(self, *, timeout: float | None = None) -> bool:
        """Stop the actor (see [`ActorSystem.stop()`][agentic.actors.ActorSystem.stop])."""
        return self._cell.system.stop(self, timeout=timeout)

    def __eq__(self, other: object) -> bool:
        """Refs are equal when they point at the same actor incarnation."""
        return isinstance(other, ActorRef) and other._cell is self._cell

    def __hash__(self) -> int:
        """Hash by actor incarnation."""
        return id(self._cell)

    def __repr__(self) -> str:
        """Name the actor and its state."""
        return f"<ActorRef {self._cell.name!r} {self._cell.state}>"

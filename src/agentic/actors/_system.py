"""`ActorSystem`: the explicit object that spawns, names, supervises and stops actors."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

import structlog
from pykka._envelope import Envelope

from agentic.actors._actor import Actor
from agentic.actors._bus import EventBus
from agentic.actors._cell import ActorHealth, Cell
from agentic.actors._context import ActorContext
from agentic.actors._errors import (
    ActorDeadError,
    ActorError,
    ActorExistsError,
    ActorNotFoundError,
    SystemShutdownError,
)
from agentic.actors._host import Escalated, Host, StopSignal
from agentic.actors._loop import LoopThread
from agentic.actors._mailbox import current_letter
from agentic.actors._ref import ActorRef
from agentic.actors._supervision import ActorFailure, ChildFailed, SupervisionPolicy

__all__ = ["ActorSystem"]

A = TypeVar("A", bound=Actor)
T = TypeVar("T")

_log = structlog.get_logger("agentic.actors")

# Names become bus topic segments (`actor.<name>.failed`): no dots, stars or spaces.
_NAME = re.compile(r"[^.*\s]+")


class ActorSystem:
    """Hosts actors: one thread each, one shared asyncio loop, one event bus.

    There is no global registry: names are unique within one system, and two systems
    in one process know nothing of each other. Use it as a context manager (or call
    [`shutdown()`][agentic.actors.ActorSystem.shutdown]) so every actor's `on_stop`
    runs and no thread is left behind; runtime threads are daemons, so a forgotten
    system does not hang interpreter exit.

    Example:
        ```python
        with ActorSystem() as system:
            counter = system.spawn(Counter, name="counter")
            counter.tell(Add(2))
            assert counter.ask(Add(3)) == 5
        ```

    Args:
        name: a label for threads and logs.
        mailbox_size: the default bound on each actor's mailbox.
        ask_timeout: the default `ask` timeout, in seconds (always finite).
        send_timeout: the default time a `tell` waits for room in a full mailbox.
        stop_timeout: the default time `stop` waits for an actor to end.
        supervision: the default policy of spawned actors.
        on_escalation: called (in the failing actor's thread, or in its parent's when
            the parent stopped before handling it) with every failure that
            escalates past the top-level actors or to a stopping parent; the failure is also kept in
            `escalations`, logged, and published as `actor.<name>.escalated`.
    """

    def __init__(
        self,
        name: str = "agentic",
        *,
        mailbox_size: int = 1000,
        ask_timeout: float = 30.0,
        send_timeout: float = 5.0,
        stop_timeout: float = 10.0,
        supervision: SupervisionPolicy | None = None,
        on_escalation: Callable[[ActorFailure], None] | None = None,
    ) -> None:
        if mailbox_size < 1:
            msg = f"ActorSystem {name!r}: mailbox_size must be at least 1, not {mailbox_size}"
            raise ValueError(msg)
        self.name = name
        """The system's label."""
        self.mailbox_size = mailbox_size
        """The default mailbox bound."""
        self.ask_timeout = ask_timeout
        """The default ask timeout, in seconds."""
        self.send_timeout = send_timeout
        """How long a tell waits for room in a full mailbox, by default."""
        self.stop_timeout = stop_timeout
        """How long a stop waits for an actor to end, by default."""
        self.supervision = supervision or SupervisionPolicy()
        """The default supervision policy."""
        self.bus = EventBus()
        """The event bus. The runtime publishes `actor.<name>.failed`,
        `actor.<name>.escalated` (payload: `ActorFailure`) and `actor.<name>.stopped`
        (payload: `ActorHealth`)."""
        self.escalations: deque[ActorFailure] = deque(maxlen=1000)
        """The latest failures that escalated past the top-level actors."""
        self._on_escalation = on_escalation
        self._lock = threading.RLock()
        self._cells: dict[str, Cell] = {}
        self._counter = itertools.count(1)
        self._loop_thread = LoopThread(name)
        self._closing = False
        self._closed = False

    # --- the asyncio loop --------------------------------------------------------------

    @property
    def _loop_ident(self) -> int:
        return self._loop_thread.ident

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runtime's asyncio loop (started on first use, stopped at shutdown).

        Raises:
            SystemShutdownError: after shutdown.
        """
        if self._closed:
            msg = f"ActorSystem {self.name!r} is shut down: its loop is gone"
            raise SystemShutdownError(msg)
        return self._loop_thread.start()

    def run_coroutine(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `coro` on the runtime's loop and return a thread-safe future of its result.

        Raises:
            SystemShutdownError: after shutdown (the coroutine is closed unrun).
        """
        if self._closed:
            coro.close()
            msg = f"ActorSystem {self.name!r} is shut down: cannot run {coro!r}"
            raise SystemShutdownError(msg)
        try:
            return self._loop_thread.submit(coro)
        except RuntimeError as exc:  # the loop closed between the check and the call
            coro.close()
            msg = f"ActorSystem {self.name!r} is shutting down: cannot run {coro!r}"
            raise SystemShutdownError(msg) from exc

    # --- actors ------------------------------------------------------------------------

    def spawn(
        self,
        factory: Callable[..., A],
        *args: Any,
        name: str | None = None,
        supervision: SupervisionPolicy | None = None,
        mailbox_size: int | None = None,
        parent: ActorRef[Any] | str | None = None,
    ) -> ActorRef[A]:
        """Create an actor with `factory(*args)` and start it on its own thread.

        The factory (an `Actor` subclass or any callable returning an `Actor`) runs
        in the caller's thread now, and again in the actor's thread for every
        restart; pass keyword arguments with `functools.partial` or a lambda.
        `on_start` then runs in the actor's thread before its first message.

        Args:
            factory: builds the actor.
            *args: positional arguments for the factory.
            name: a unique name (no dots, stars or spaces); generated if None.
            supervision: the actor's policy; the system's default if None.
            mailbox_size: the actor's mailbox bound; the system's default if None.
            parent: the parent actor (ref or name), which stops after this one and
                receives its escalations.

        Returns:
            A ref to the new actor.

        Raises:
            ActorExistsError: if a live actor already has `name`.
            ActorNotFoundError: if `parent` names no live actor.
            ActorDeadError: if `parent` is stopping, or began to stop during the spawn
                (its policy stopping it after a failure): the child is then stopped
                (and, from a host thread, joined) before this raises.
            SystemShutdownError: if the system is shutting down.
            TypeError: if the factory returns something that is not an `Actor`.
            ValueError: for an invalid name or mailbox size.
        """
        self._check_open()
        actor = factory(*args)
        if not isinstance(actor, Actor):
            msg = f"actor factory {factory!r} returned {type(actor).__name__}, not an Actor"
            raise TypeError(msg)
        size = self.mailbox_size if mailbox_size is None else mailbox_size
        if size < 1:
            msg = f"mailbox_size must be at least 1, not {size}"
            raise ValueError(msg)
        with self._lock:
            self._check_open()
            name = self._name_for(actor) if name is None else name
            if not _NAME.fullmatch(name):
                msg = f"bad actor name {name!r}: use no dots, stars or whitespace"
                raise ValueError(msg)
            if name in self._cells:
                msg = f"an actor named {name!r} already exists in system {self.name!r}"
                raise ActorExistsError(msg, name=name)
            parent_cell = None if parent is None else self._cell_of(parent)
            if parent_cell is not None and not parent_cell.accepting:
                msg = f"parent actor {parent_cell.name!r} is stopping: cannot spawn {name!r}"
                raise ActorDeadError(msg, name=parent_cell.name)
            cell = Cell(
                name=name,
                system=self,
                factory=factory,
                args=args,
                actor=actor,
                policy=supervision or self.supervision,
                mailbox_size=size,
                parent=parent_cell,
            )
            cell.context = ActorContext(cell)
            actor._context = cell.context  # noqa: SLF001 - the runtime sets the context
            self._cells[name] = cell
            if parent_cell is not None:
                parent_cell.children.append(cell)
        Host(cell)._start_actor_loop()  # noqa: SLF001 - pykka's start() would register globally
        if parent_cell is not None and not parent_cell.accepting:
            # The parent began to stop after the check above without the lock (a failure
            # its policy stops it for): its snapshot of children may miss this one.
            wait = current_letter() is None and threading.get_ident() != self._loop_ident
            self._stop_cell(cell, wait=wait)
            msg = f"parent actor {parent_cell.name!r} stopped while spawning {name!r}"
            raise ActorDeadError(msg, name=parent_cell.name)
        return cell.context.ref

    def _name_for(self, actor: Actor) -> str:
        base = type(actor).__name__.lower()
        while True:
            name = f"{base}-{next(self._counter)}"
            if name not in self._cells:
                return name

    def _check_open(self) -> None:
        if self._closing:
            msg = f"ActorSystem {self.name!r} is shut down (or shutting down)"
            raise SystemShutdownError(msg)

    def _cell_of(self, ref_or_name: ActorRef[Any] | str) -> Cell:
        if isinstance(ref_or_name, ActorRef):
            return ref_or_name._cell  # noqa: SLF001 - the system owns the cells
        cell = self._cells.get(ref_or_name)
        if cell is None:
            msg = f"no actor named {ref_or_name!r} in system {self.name!r}"
            raise ActorNotFoundError(msg, name=ref_or_name)
        return cell

    def lookup(self, name: str) -> ActorRef[Any]:
        """Return a ref to the live actor called `name`.

        Raises:
            ActorNotFoundError: if no live actor has that name (or it is stopping).
        """
        cell = self._cells.get(name)
        if cell is None or not cell.accepting:
            msg = f"no live actor named {name!r} in system {self.name!r}"
            raise ActorNotFoundError(msg, name=name)
        return ActorRef(cell)

    def names(self) -> list[str]:
        """Return the names of the actors not yet fully stopped, in spawn order."""
        with self._lock:
            return list(self._cells)

    def health(self) -> list[ActorHealth]:
        """Return the health of every actor not yet fully stopped, in spawn order."""
        with self._lock:
            cells = list(self._cells.values())
        return [cell.health() for cell in cells]

    def stop(self, ref_or_name: ActorRef[Any] | str, *, timeout: float | None = None) -> bool:
        """Stop an actor after the messages already in its mailbox; its children first.

        The actor takes no new messages at once. Called from a host thread, this waits
        (up to `timeout`, default `stop_timeout`) until the actor's thread has ended;
        called from an actor's thread or the runtime loop, it only starts the stop
        (waiting there could deadlock with an actor asking the caller).

        Returns:
            True if this call stopped the actor, False if it had already stopped.

        Raises:
            ActorNotFoundError: if a name is given and no such actor exists.
        """
        cell = self._cell_of(ref_or_name)
        wait = current_letter() is None and threading.get_ident() != self._loop_ident
        return self._stop_cell(cell, wait=wait, timeout=timeout)

    def _stop_cell(self, cell: Cell, *, wait: bool, timeout: float | None = None) -> bool:
        # Check and clear under the lock: one caller of many wins, and a spawn (which
        # checks its parent under the lock) either sees the parent stopping or has put
        # its child into `children` before the parent's stop takes its snapshot of them.
        # The join below runs without the lock: the stopping actor may need it.
        with self._lock:
            first = cell.accepting and not cell.finished
            cell.accepting = False
        if first:
            cell.mailbox.put_internal(Envelope(StopSignal()))
        if wait and cell.thread is not threading.current_thread():
            self._join(cell, timeout)
        return first

    def _join(self, cell: Cell, timeout: float | None) -> None:
        limit = self.stop_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        thread = cell.thread
        if thread is not None:
            thread.join(max(deadline - time.monotonic(), 0.0))
        if thread is not None and thread.is_alive():
            _log.warning("actor.stop_timeout", actor=cell.name, timeout=limit)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop everything: no more spawns, cancel loop work, stop actors, stop the loop.

        In order: refuse new spawns; cancel the tasks on the runtime loop (their
        completions reach their actors as messages); stop every top-level actor after
        its queued messages, each stopping its children first; stop the loop and join
        every thread. Idempotent.

        Args:
            timeout: the whole budget, in seconds; actors still running after it are
                logged and left (daemon threads).

        Raises:
            ActorError: if called from an actor's thread or the runtime loop.
        """
        if current_letter() is not None or threading.get_ident() == self._loop_ident:
            msg = f"ActorSystem {self.name!r} cannot shut down from inside one of its actors"
            raise ActorError(msg)
        with self._lock:
            if self._closing:
                return
            self._closing = True
        deadline = time.monotonic() + timeout
        if self._loop_thread.started:
            self._loop_thread.cancel_all(max(min(timeout / 4, 2.0), 0.1))
        self._stop_all(deadline)
        if not self._loop_thread.stop(max(deadline - time.monotonic(), 0.5)):
            _log.warning("actors.loop_stop_timeout", system=self.name)
        self._closed = True
        self.bus.close()
        if self._cells:
            _log.warning("actors.shutdown_incomplete", system=self.name, left=list(self._cells))

    def _stop_all(self, deadline: float) -> None:
        """Stop the top-level actors together (each stops its children first)."""
        while True:
            with self._lock:
                cells = [cell for cell in self._cells.values() if cell.parent is None]
                if not cells:
                    cells = list(self._cells.values())
            if not cells or time.monotonic() >= deadline:
                break
            for cell in reversed(cells):
                self._stop_cell(cell, wait=False)
            for cell in reversed(cells):
                self._join(cell, max(deadline - time.monotonic(), 0.0))

    async def stop_async(
        self,
        ref_or_name: ActorRef[Any] | str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the same finite timeout as stop()
    ) -> bool:
        """Like [`stop()`][agentic.actors.ActorSystem.stop], awaited on a worker thread.

        The host's event loop keeps running while the actor finishes.
        """
        return await asyncio.to_thread(self.stop, ref_or_name, timeout=timeout)

    async def shutdown_async(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - as shutdown()
        """Like [`shutdown()`][agentic.actors.ActorSystem.shutdown], awaited on a worker thread.

        For asyncio hosts (a web service's lifespan, say): the host's loop keeps
        running while actors finish.
        """
        await asyncio.to_thread(self.shutdown, timeout)

    def __enter__(self) -> Self:
        """Return the system itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Shut the system down."""
        self.shutdown()

    def __repr__(self) -> str:
        """Name the system and count its actors."""
        return f"<ActorSystem {self.name!r} actors={len(self._cells)}>"

    # --- called from actor threads -----------------------------------------------------

    def _forget(self, cell: Cell) -> None:
        with self._lock:
            if self._cells.get(cell.name) is cell:
                del self._cells[cell.name]
            parent = cell.parent
            if parent is not None and cell in parent.children:
                parent.children.remove(cell)
        self.bus.unsubscribe_actor(ActorRef(cell))
        self.bus.publish(f"actor.{cell.name}.stopped", cell.health())

    def _escalate(self, cell: Cell, failure: ActorFailure, exc: BaseException) -> None:
        self.bus.publish(f"actor.{cell.name}.escalated", failure)
        parent = cell.parent
        if parent is not None:
            notice = ChildFailed(child=cell.name, error=failure.error, reason=failure.reason)
            if parent.mailbox.put_internal(Envelope(Escalated(notice, exc, failure))):
                return
        self._escalate_to_system(failure)

    def _escalate_to_system(self, failure: ActorFailure) -> None:
        """Keep, log and report a failure no parent will handle."""
        self.escalations.append(failure)
        _log.error(
            "actor.escalated",
            actor=failure.actor,
            reason=failure.reason,
            error=failure.error.message,
            system=self.name,
        )
        if self._on_escalation is not None:
            try:
                self._on_escalation(failure)
            except Exception:  # noqa: BLE001 - logged with its traceback
                _log.exception("actors.on_escalation_failed", actor=failure.actor)

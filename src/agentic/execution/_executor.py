"""Executor: runs Events from many callers concurrently through one chain."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from typing import Any
from uuid import UUID

from agentic.errors import ElementExistsError
from agentic.execution._audit import AuditProcessor
from agentic.execution._call import Call
from agentic.execution._chain import Chain
from agentic.execution._defaults import default_chain
from agentic.execution._errors import ExecutionError, ExecutorClosedError, TargetNotFoundError
from agentic.execution.types import CallNext, Processor, Resolver
from agentic.primitives import Event, EventStatus, Log, Pile, Progression, to_id

__all__ = ["Executor"]


class Executor:
    """Take Events from any number of callers and run each through the chain as a task.

    * Every Event submitted is kept in [`events`][agentic.execution.Executor.events]
      (a Pile whose order is the order of arrival).
    * A [`Call`][agentic.execution.Call] is bound to its target through the
      resolver before the chain runs (an unknown name fails the Call, clearly, in
      the chain).
    * Every Event ends terminal: completed, failed, denied, skipped or cancelled.
      Nothing raises out of a run except the submitting caller's own cancellation.
    * An Event cancelled before it reached the chain is shown to each processor
      that has a `record(event)` method (the audit), so it is logged too.

    The executor creates nothing loop-bound until its first Event, and then uses
    the running loop: build it on any thread, use it on one loop thread at a time
    (the runtime's I/O loop, or the host's). Its methods are not thread-safe; from
    another thread use `asyncio.run_coroutine_threadsafe(executor.submit(e), loop)`.

    Example:
        >>> registry = ToolRegistry([Tool(read_notes)])  # doctest: +SKIP
        >>> executor = Executor(registry, default_chain(policy=policy))  # doctest: +SKIP
        >>> call = Call(target="read_notes", arguments={"day": "mon"}, caller="alice")
        >>> event = await executor.submit(call)  # doctest: +SKIP
        >>> event.status, event.execution.response  # doctest: +SKIP
        (<EventStatus.COMPLETED: 'completed'>, [...])
    """

    def __init__(
        self,
        resolver: Resolver | None = None,
        processors: Sequence[Processor] | None = None,
        *,
        name: str | None = None,
        inner: CallNext | None = None,
    ) -> None:
        """Create an executor.

        Args:
            resolver: Finds the target of each Call (a `ToolRegistry`, say).
            processors: The chain, outermost first (default: `default_chain()`;
                pass `()` for none).
            name: A label for the Pile of events.
            inner: The innermost step (default: one attempt of the Event).
        """
        if processors is None:
            processors = default_chain()
        self.resolver = resolver
        """Finds the target of each Call."""
        self.chain = Chain(processors, inner=inner)
        """The composed chain."""
        self._events: Pile[Event] = Pile(item_type=Event, name=name)
        self._tasks: dict[UUID, asyncio.Task[Event]] = {}
        self._started: set[UUID] = set()
        self._closed = False

    # -- reading ------------------------------------------------------------------

    @property
    def events(self) -> Pile[Event]:
        """Every Event submitted (and not pruned), in order of arrival."""
        return self._events

    @property
    def arrivals(self) -> Progression:
        """The ids of the events in order of arrival (a copy)."""
        return self._events.order

    @property
    def closed(self) -> bool:
        """Whether [`stop()`][agentic.execution.Executor.stop] was called."""
        return self._closed

    @property
    def in_flight(self) -> int:
        """How many Events are submitted and not yet finished."""
        return len(self._tasks)

    def status_counts(self) -> dict[EventStatus, int]:
        """Return how many kept Events are in each status (every status is a key)."""
        counts = dict.fromkeys(EventStatus, 0)
        for event in self._events.values():
            counts[event.status] += 1
        return counts

    @property
    def logs(self) -> Pile[Log] | None:
        """The Logs kept by the first audit processor in the chain (None without one)."""
        for processor in self.chain.processors:
            if isinstance(processor, AuditProcessor):
                return processor.logs
        return None

    # -- running ------------------------------------------------------------------

    def start_soon(self, event: Event) -> asyncio.Task[Event]:
        """Accept `event` and start running it; return the task that finishes with it.

        Must be called on the loop thread. The task's result is the Event, terminal.

        Raises:
            ExecutorClosedError: The executor was stopped.
            ExecutionError: The Event is not pending (it ran already), or no loop runs.
            ElementExistsError: An Event with this id was submitted before.
        """
        if self._closed:
            msg = (
                f"executor {self._events.name or self._events.id} is stopped; it accepts no Events"
            )
            raise ExecutorClosedError(msg)
        if event.status is not EventStatus.PENDING:
            msg = (
                f"{event.type_name} {event.id} is {event.status}; "
                "only pending Events can be submitted"
            )
            raise ExecutionError(msg)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            msg = "Executor.start_soon() needs a running asyncio loop (call it from a coroutine)"
            raise ExecutionError(msg) from None
        if event.id in self._events:
            msg = f"{event.type_name} {event.id} was already submitted to this executor"
            raise ElementExistsError(msg, key=event.id)
        self._events.include(event)
        if isinstance(event, Call) and not event.is_bound:
            self._bind(event)
        task = loop.create_task(self._run(event))
        self._tasks[event.id] = task
        task.add_done_callback(partial(self._finished, event))
        return task

    submit_nowait = start_soon
    """Alias of [`start_soon()`][agentic.execution.Executor.start_soon]."""

    async def submit(self, event: Event) -> Event:
        """Run `event` through the chain and return it, terminal.

        Cancelling the caller cancels the Event too.

        Raises:
            ExecutorClosedError: The executor was stopped.
        """
        task = self.start_soon(event)
        current = asyncio.current_task()
        before = 0 if current is None else current.cancelling()
        # Awaiting the task directly (no shield) passes the caller's cancellation on
        # to the task, which ends the Event cancelled and returns it; the caller must
        # still see its own cancellation, so it is re-raised here.
        result = await task
        if current is not None and current.cancelling() > before:
            raise asyncio.CancelledError
        return result

    def cancel(self, event_id: Any, reason: str = "cancelled by Executor.cancel()") -> bool:
        """Cancel one running or waiting Event (call on the loop thread).

        Returns:
            True if a cancellation was requested, False if the Event is unknown or
            already finished.
        """
        key = to_id(event_id)
        task = self._tasks.get(key)
        if task is None or task.done():
            return False
        if key not in self._started:
            # The task has not run yet: cancelling it would leave its awaiters a
            # CancelledError instead of the Event (and the audit would never see it).
            # End the Event; the task returns it. Cancelled already: nothing to do.
            event = self._events.get(key)
            if event is None or event.status is not EventStatus.PENDING:
                return False
            event.cancel(reason)
            return True
        return task.cancel(reason)

    async def drain(self) -> None:
        """Wait until every Event submitted so far (and any submitted meanwhile) finished."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def stop(self, *, cancel_pending: bool = False, grace: float | None = None) -> None:
        """Refuse new Events and finish the ones in flight; none is left unfinished.

        Args:
            cancel_pending: Cancel the Events in flight instead of letting them finish.
            grace: Let them finish for at most this many seconds, then cancel the rest.
        """
        self._closed = True
        if cancel_pending:
            self._cancel_all("executor stopped")
        elif grace is not None and self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=grace)
            self._cancel_all(f"executor stopped after a grace period of {grace}s")
        await self.drain()
        for event in self._events.values():
            if not event.status.is_terminal:
                event.cancel("executor stopped")

    def prune(self) -> int:
        """Forget finished Events (keeps memory bounded); return how many were dropped."""
        done = [e.id for e in self._events.values() if e.status.is_terminal]
        self._events.exclude(done)
        return len(done)

    # -- internals ----------------------------------------------------------------

    def _bind(self, call: Call) -> None:
        resolver = self.resolver
        if resolver is None:
            msg = f"no resolver: the executor cannot find target {call.target!r}"
            call.bind(None, TargetNotFoundError(msg, name=call.target))
            return
        try:
            call.bind(resolver.resolve(call.target))
        except ExecutionError as exc:
            call.bind(None, exc)
        except Exception as exc:  # noqa: BLE001 - a foreign resolver's failure, made clear
            msg = f"resolving target {call.target!r} failed: {type(exc).__name__}: {exc}"
            call.bind(None, TargetNotFoundError(msg, name=call.target))

    async def _run(self, event: Event) -> Event:
        self._started.add(event.id)
        if event.status.is_terminal:  # cancelled before it started
            self._bypassed(event)
            return event
        try:
            return await self.chain(event)
        except asyncio.CancelledError:
            return event  # the chain marked it cancelled; the task ends with the Event

    def _finished(self, event: Event, _task: asyncio.Task[Event]) -> None:
        self._tasks.pop(event.id, None)
        ran = event.id in self._started
        self._started.discard(event.id)
        if not event.status.is_terminal:
            event.cancel("cancelled before it started")  # the task never ran
            self._bypassed(event)
        elif not ran:
            # Ended by cancel() while waiting to start, then its task was cancelled
            # too (its submitter was): _run never showed it to the audit.
            self._bypassed(event)

    def _bypassed(self, event: Event) -> None:
        # An Event that ended without passing the chain is still shown to every
        # processor that records finished Events (the audit), so none goes unlogged.
        for processor in self.chain.processors:
            record = getattr(processor, "record", None)
            if callable(record):
                record(event)

    def _cancel_all(self, reason: str) -> None:
        for key in list(self._tasks):
            self.cancel(key, reason)

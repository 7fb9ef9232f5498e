"""Cancelling a Branch's request: a queued or running turn, or a tool invocation.

Everything here runs in the Branch's handlers (its actor thread), like the agent loop.
The Events of a cancelled turn are cancelled on the runtime's loop; their outcomes
still come back as messages, and reach runs that are already over (a no-op).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from agentic.branches._errors import RequestCancelledError
from agentic.branches._messages import ToolResultMessage
from agentic.branches._runs import ChatRun, ModelRun, PlanRun
from agentic.errors import AgenticError

if TYPE_CHECKING:
    from agentic.actors import ActorContext
    from agentic.execution import Executor
    from agentic.primitives import Event

__all__ = ["CancelHandlers"]


class CancelHandlers:
    """The Cancel handler a [`Branch`][agentic.branches.Branch] mixes in (not used alone)."""

    executor: Executor
    _waiting: dict[UUID, tuple[Event, str, tuple[Any, ...]]]
    _turn: Any
    _queue: list[Any]
    _open: set[UUID]

    if TYPE_CHECKING:  # provided by Actor, AgentLoop and Branch

        @property
        def context(self) -> ActorContext:
            """The actor context."""

        def _add(self, added: list[str], message: Any) -> Any: ...

        def _end(self, run: Any, result: Any, error: Exception | None) -> None: ...

        def _reply(
            self, ticket: UUID | None, result: Any = None, error: Exception | None = None
        ) -> None: ...

        def _refresh(self) -> None: ...

    def _cancel_request(self, ticket: UUID | None, reason: str) -> bool:
        """End request `ticket` (None: the running turn) early (see `Cancel`)."""
        if ticket is None:
            request = getattr(self._turn, "request", None)
            if request is None:
                return False  # no turn is running
            error = self._cancelled(request.ticket, reason)
            self._cancel_turn(self._turn, error, reason)
            return True
        if ticket not in self._open:
            return False
        error = self._cancelled(ticket, reason)
        for position, queued in enumerate(self._queue):
            if getattr(queued, "ticket", None) == ticket:
                del self._queue[position]
                self._reply(ticket, error=error)
                self._refresh()
                return True
        request = getattr(self._turn, "request", None)
        if request is not None and request.ticket == ticket:
            self._cancel_turn(self._turn, error, reason)
            return True
        # A tool invocation: cancel its Event; its caller gets the cancelled Event.
        invoked = [
            event.id
            for event, step, args in self._waiting.values()
            if step == "_invoked" and args == (ticket,)
        ]
        self._cancel_events(invoked, reason)
        return bool(invoked)

    def _cancelled(self, ticket: UUID | None, reason: str) -> RequestCancelledError:
        name = self.context.name
        what = "the running turn" if ticket is None else f"request {ticket}"
        msg = f"branch {name!r}: {what} was cancelled: {reason}"
        return RequestCancelledError(msg, branch=name, ticket=ticket)

    def _cancel_turn(
        self, run: ChatRun | PlanRun | ModelRun, error: Exception, reason: str
    ) -> None:
        runs: list[Any] = [run]
        run.cancelled = error
        inner = run.current if isinstance(run, PlanRun) else None
        if inner is not None and not inner.done:
            runs.append(inner)
            inner.cancelled = error
            self._close_batch(inner, reason)
            self._end(inner, None, error)  # records the step `cancelled`, then ends the plan
        if isinstance(run, ChatRun):
            self._close_batch(run, reason)
        self._end(run, None, error)  # a no-op if the plan already ended through its step
        in_flight = [
            event.id for event, _, args in self._waiting.values() if args and args[0] in runs
        ]
        self._cancel_events(in_flight, reason)

    def _close_batch(self, run: ChatRun, reason: str) -> None:
        """Give every tool call of the batch in flight a result: the cancelled ones an error."""
        if not run.batch:
            return
        pending = {
            args[1]: (args[3], event)
            for event, step, args in self._waiting.values()
            if step == "_tool_done" and args[0] is run
        }
        for index, call_id in enumerate(run.batch):
            if index in run.results:
                continue
            tool, event = pending.get(index, ("", None))
            run.results[index] = ToolResultMessage(
                call_id=call_id,
                tool=tool,
                content=f"error: tool {tool!r} cancelled: {reason}",
                is_error=True,
                event_id=str(event.id) if event is not None else None,
            )
        for index in range(len(run.batch)):
            self._add(run.added, run.results[index])
        run.batch, run.results = [], {}

    def _cancel_events(self, event_ids: Iterable[UUID], reason: str) -> None:
        ids = list(event_ids)
        if not ids:
            return
        # A coroutine, not a plain callback: it runs after the tasks that submitted
        # these Events (FIFO on the loop), so the executor knows every one of them.
        with contextlib.suppress(AgenticError, RuntimeError):  # the loop may be gone
            self.context.system.run_coroutine(_cancel(self.executor, ids, reason))


async def _cancel(executor: Executor, event_ids: list[UUID], reason: str) -> None:
    for event_id in event_ids:
        executor.cancel(event_id, reason)

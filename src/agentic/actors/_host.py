"""The pykka actor that hosts one of our actors: its thread, mailbox loop and supervision.

This is the only module that subclasses pykka. pykka runs the loop (take an envelope,
call `_handle_receive`, set the reply); the host adds what pykka lacks: a bounded
mailbox, the ask chain, restart-in-place supervision instead of stopping on a failed
tell, children stopped before their parent, and no global registry.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from typing import TYPE_CHECKING, Any

import pykka
import structlog

from agentic.actors._cell import ActorState
from agentic.actors._context import Completion
from agentic.actors._errors import ActorDeadError, EscalationError
from agentic.actors._mailbox import Letter, set_current_letter, thread_state
from agentic.actors._supervision import ActorFailure, ChildFailed, Directive
from agentic.primitives import ErrorInfo, Pile, Progression

if TYPE_CHECKING:
    from pykka._envelope import Envelope

    from agentic.actors._actor import Actor
    from agentic.actors._cell import Cell
    from agentic.actors._mailbox import Mailbox

__all__ = ["Escalated", "Host", "StopSignal"]

_log = structlog.get_logger("agentic.actors")


class StopSignal:
    """Internal: stop after the messages queued before this one."""

    __slots__ = ()


class Escalated:
    """Internal: a child's failure, delivered to its parent."""

    __slots__ = ("cause", "failure", "report")

    def __init__(self, failure: ChildFailed, cause: BaseException, report: ActorFailure) -> None:
        self.failure = failure
        self.cause = cause
        self.report = report
        """The child's failure as the system keeps it, should the parent stop first."""


def carry_state(old: Actor, new: Actor) -> None:
    """Move Piles, Progressions and `restart_keeps` attributes from `old` to `new`."""
    keep = set(type(old).restart_keeps)
    state = getattr(old, "__dict__", {})
    for attr, value in state.items():
        if attr == "_context":
            continue
        if attr in keep or isinstance(value, (Pile, Progression)):
            setattr(new, attr, value)
    for attr in keep.difference(state):
        if hasattr(old, attr):
            setattr(new, attr, getattr(old, attr))


class Host(pykka.ThreadingActor):
    """Runs one actor on its own thread. Internal."""

    use_daemon_thread = True

    def __init__(self, cell: Cell) -> None:
        self._cell = cell
        self._started = False
        super().__init__()

    def _create_actor_inbox(self) -> Mailbox:  # type: ignore[override]  # pykka's is static
        return self._cell.mailbox

    def _start_actor_loop(self) -> None:
        # pykka does not keep its thread; we do, to join it at stop.
        thread = threading.Thread(
            target=self._actor_loop, name=f"actor-{self._cell.name}", daemon=True
        )
        self._cell.thread = thread
        thread.start()

    # --- lifecycle -------------------------------------------------------------------

    def on_start(self) -> None:
        """Run the actor's `on_start`; a failure stops it and escalates."""
        cell = self._cell
        # Asks from on_start carry this actor in their chain, so asking itself is refused.
        set_current_letter((cell.name, ()))
        try:
            cell.actor.on_start()
        except Exception as exc:  # noqa: BLE001 - any failure in user code is reported
            cell.failures += 1
            cell.last_error = ErrorInfo.from_exception(exc)
            cell.state = ActorState.FAILED
            failure = self._report(exc, None, Directive.ESCALATE, "start-failed", ask=False)
            cell.system._escalate(cell, failure, exc)  # noqa: SLF001
            self._stop()
            return
        finally:
            set_current_letter(None)
        self._started = True
        if cell.state is ActorState.STARTING:
            cell.state = ActorState.RUNNING

    def on_stop(self) -> None:
        """Stop taking messages, stop the children, then run the actor's `on_stop`."""
        cell = self._cell
        cell.accepting = False
        if cell.state is not ActorState.FAILED:
            cell.state = ActorState.STOPPING
        # Close first: a child blocked asking us gets ActorDeadError instead of
        # waiting for a reply we will never send while we wait for it to stop.
        _fail_pending(cell, cell.mailbox.close())
        children = list(reversed(cell.children))
        for child in children:  # all at once, then wait for each
            cell.system._stop_cell(child, wait=False)  # noqa: SLF001
        for child in children:
            cell.system._stop_cell(child, wait=True)  # noqa: SLF001
        if self._started:
            set_current_letter((cell.name, ()))
            try:
                cell.actor.on_stop()
            except Exception:  # noqa: BLE001 - logged with its traceback
                _log.exception("actor.on_stop_failed", actor=cell.name)
            finally:
                set_current_letter(None)
        if cell.state is ActorState.STOPPING:
            cell.state = ActorState.STOPPED

    def _actor_loop_teardown(self) -> None:
        cell = self._cell
        cell.accepting = False
        _fail_pending(cell, cell.mailbox.close())
        set_current_letter(None)
        cell.system._forget(cell)  # noqa: SLF001
        cell.finished = True

    # --- messages ----------------------------------------------------------------------

    def _handle_receive(self, message: Any) -> Any:
        # A BaseException (KeyboardInterrupt, SystemExit) is not caught here: pykka's
        # loop then stops this actor and every actor in its global registry, where we
        # never register, so it reaches nobody else.
        kind = type(message)
        if kind is Letter:
            cell = self._cell
            state = thread_state
            state.current = (cell.name, message.chain)
            try:
                return cell.actor.receive(message.message)
            except Exception as exc:
                self._supervise(exc, message.message, ask=message.ask)
                if message.ask:
                    raise
                return None
            finally:
                cell.processed += 1
                state.current = None
        if kind is Completion:
            return self._complete(message)
        if kind is Escalated:
            return self._child_failed(message)
        if kind is StopSignal:
            self._stop()
            return None
        return super()._handle_receive(message)

    def _complete(self, completion: Completion) -> None:
        cell = self._cell
        set_current_letter((cell.name, ()))
        body: Any = None
        try:
            body = completion.on_done(completion.outcome)
            if body is not None:
                cell.actor.receive(body)
        except Exception as exc:  # noqa: BLE001 - handed to supervision
            self._supervise(exc, body, ask=False)
        finally:
            cell.processed += 1
            set_current_letter(None)

    def _child_failed(self, escalated: Escalated) -> None:
        cell = self._cell
        set_current_letter((cell.name, ()))
        try:
            cell.actor.on_child_failed(escalated.failure)
        except Exception as exc:  # noqa: BLE001 - handed to supervision
            if isinstance(exc, EscalationError) and exc.cause is None:
                exc.cause = escalated.cause
            self._supervise(exc, escalated.failure, ask=False)
        finally:
            cell.processed += 1
            set_current_letter(None)

    # --- supervision -------------------------------------------------------------------

    def _supervise(self, exc: Exception, message: Any, *, ask: bool) -> None:
        cell = self._cell
        cell.failures += 1
        cell.last_error = ErrorInfo.from_exception(exc)
        try:
            cell.actor.on_failure(exc)
        except Exception:  # noqa: BLE001 - logged with its traceback
            _log.exception("actor.on_failure_failed", actor=cell.name)
        directive = cell.policy.directive
        reason = "escalate" if directive is Directive.ESCALATE else ""
        if directive is Directive.RESTART:
            if not cell.window.allow():
                directive, reason = Directive.ESCALATE, "crash-loop"
            elif not self._restart(exc):
                directive, reason = Directive.ESCALATE, "restart-failed"
        failure = self._report(exc, message, directive, reason, ask=ask)
        if directive is Directive.STOP or directive is Directive.ESCALATE:
            cell.state = ActorState.FAILED
            if directive is Directive.ESCALATE:
                cell.system._escalate(cell, failure, exc)  # noqa: SLF001
            self._stop()

    def _restart(self, exc: Exception) -> bool:
        cell = self._cell
        cell.state = ActorState.RESTARTING
        try:
            new = cell.factory(*cell.args)
            carry_state(cell.actor, new)
            new._context = cell.context  # noqa: SLF001 - the runtime sets the context
            new.on_restart(exc)
        except Exception:  # noqa: BLE001 - logged; the failure escalates
            _log.exception("actor.restart_failed", actor=cell.name)
            return False
        cell.actor = new
        cell.restarts += 1
        cell.state = ActorState.RUNNING
        return True

    def _report(
        self, exc: Exception, message: Any, directive: Directive, reason: str, *, ask: bool
    ) -> ActorFailure:
        cell = self._cell
        failure = ActorFailure(
            actor=cell.name,
            error=ErrorInfo.from_exception(exc),
            message_type=None if message is None else type(message).__name__,
            directive=directive,
            reason=reason,
            restarts=cell.restarts,
        )
        # An asker receives the exception itself; a tell's failure is only seen here.
        log = _log.warning if ask else _log.error
        log(
            "actor.failed",
            actor=cell.name,
            message_type=failure.message_type,
            directive=str(directive),
            reason=reason or None,
            error=failure.error.message,
            error_type=failure.error.type,
            ask=ask,
            exc_info=exc,
        )
        cell.system.bus.publish(f"actor.{cell.name}.failed", failure)
        return failure


def _fail_pending(cell: Cell, envelopes: list[Envelope[Any]]) -> None:
    """Answer the asks left in a closed mailbox with ActorDeadError; log dropped tells.

    A child's escalation left there goes to the system (`ActorSystem.escalations`).
    """
    dropped = 0
    for envelope in envelopes:
        if type(envelope.message) is Escalated:
            # The child escalated to a parent that stopped first: nobody above it
            # will see the failure, so it escalates past the top, as to a gone parent.
            cell.system._escalate_to_system(envelope.message.report)  # noqa: SLF001
            continue
        if envelope.reply_to is None:
            dropped += type(envelope.message) is Letter or type(envelope.message) is Completion
            continue
        msg = f"actor {cell.name!r} stopped before handling the message"
        error = ActorDeadError(msg, name=cell.name)
        # queue.Full: the reply slot was already used.
        with contextlib.suppress(queue.Full):
            envelope.reply_to.set_exception((ActorDeadError, error, None))
    if dropped:
        # Tells (or completions) that arrived after the stop began are not handled.
        _log.warning("actor.messages_dropped", actor=cell.name, count=dropped)

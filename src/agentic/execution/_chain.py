"""Chain: processors composed once around the innermost invoke step.

The chain owns both ends, as starlette owns its outermost error middleware and its
router: the outer layer turns anything that escapes the processors into the Event's
terminal status, and the inner step runs one attempt of the Event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from agentic.execution._errors import ProcessingError, TargetExitError
from agentic.execution.types import CallNext, Processor
from agentic.primitives import ErrorInfo, Event, EventStatus

__all__ = ["Chain", "fail_event", "invoke_event", "note"]

_CANCELLED_ATTEMPT = ErrorInfo(type="CancelledError", message="attempt cancelled")


def note(event: Event, by: str, decision: str, reason: str) -> None:
    """Record a decision on the Event (`metadata["decisions"]`), for the audit log.

    Args:
        event: The Event decided about.
        by: The component that decided (`"policy"`, `"rate_limit"`, `"retry"`, ...).
        decision: What it decided (`"allow"`, `"deny"`, `"wait"`, `"retry"`, ...).
        reason: Why, naming the rule or limit.
    """
    event.metadata.setdefault("decisions", []).append(
        {"by": by, "decision": decision, "reason": reason}
    )


def fail_event(event: Event, error: BaseException | ErrorInfo) -> Event:
    """End `event` as failed with `error`, starting it first if it is still pending.

    A terminal Event is left as it is (its first ending stands).

    Returns:
        The Event.
    """
    status = event.status
    if status is EventStatus.PENDING:
        event.start()
        event.fail(error)
    elif status is EventStatus.PROCESSING:
        event.fail(error)
    return event


async def invoke_event(event: Event) -> Event:
    """Run one attempt of `event`: the innermost step of every chain.

    Starts the Event if it is pending, records the attempt, awaits `execute()` and
    completes the Event with the result. An exception is recorded on the attempt and
    raised to the processors (retry decides whether to try again); a `SystemExit`
    from the target is raised as a [`TargetExitError`][agentic.execution.TargetExitError],
    so that it fails the Event instead of stopping the event loop.

    Returns:
        The completed Event (or failed, if its result cannot be serialized).
    """
    if event.status is EventStatus.PENDING:
        event.start()
    attempt = event.begin_attempt()
    try:
        result = await event.execute()
    except asyncio.CancelledError:
        event.end_attempt(attempt, _CANCELLED_ATTEMPT)
        raise
    except SystemExit as exc:
        # A target's sys.exit() (or argparse's) fails its Event: escaping the task, it
        # would stop the host's event loop, and every other Event with it.
        error = _exit_error(event, exc)
        event.end_attempt(attempt, error)
        raise error from exc
    except BaseException as exc:
        event.end_attempt(attempt, exc)
        raise
    event.end_attempt(attempt, None)
    event.complete(result)
    return event


class _Link:
    """One processor bound to the rest of the chain (no extra coroutine frame)."""

    __slots__ = ("call_next", "processor")

    def __init__(self, processor: Processor, call_next: CallNext) -> None:
        self.processor = processor
        self.call_next = call_next

    def __call__(self, event: Event) -> Any:
        return self.processor(event, self.call_next)


class Chain:
    """Processors composed once, outermost first, around an innermost step.

    Calling the chain always returns the Event in a terminal status: an exception
    that escapes the processors fails the Event (recorded as its error), a
    cancellation cancels it (and propagates), and a processor that returns an
    unfinished Event fails it with a [`ProcessingError`][agentic.execution.ProcessingError].

    Example:
        >>> chain = Chain([ValidationProcessor(), PolicyProcessor(policy)])  # doctest: +SKIP
        >>> event = await chain(call)  # doctest: +SKIP
    """

    __slots__ = ("_handler", "_processors")

    def __init__(
        self, processors: Sequence[Processor] = (), *, inner: CallNext | None = None
    ) -> None:
        """Compose the chain.

        Args:
            processors: The processors, outermost first.
            inner: The innermost step (default: [`invoke_event`][agentic.execution.invoke_event]).
                Tests pass a fake here, as httpx tests pass a `MockTransport`.
        """
        self._processors = tuple(processors)
        handler: CallNext = inner or invoke_event
        for processor in reversed(self._processors):
            handler = _Link(processor, handler)
        self._handler = handler

    @property
    def processors(self) -> tuple[Processor, ...]:
        """The processors, outermost first."""
        return self._processors

    async def __call__(self, event: Event) -> Event:
        """Run `event` through the chain and return it, terminal.

        Raises:
            asyncio.CancelledError: The run was cancelled (the Event is marked cancelled
                first, with the cancellation's message as its reason).
        """
        try:
            result = await self._handler(event)
        except asyncio.CancelledError as exc:
            if not event.status.is_terminal:
                event.cancel(str(exc) or "cancelled")
            raise
        except Exception as exc:  # noqa: BLE001 - the outer layer records whatever escaped
            return fail_event(event, exc)
        if result is not event:
            fail_event(event, _contract(event, f"returned {type(result).__name__}, not the Event"))
        elif not event.status.is_terminal:
            fail_event(event, _contract(event, f"returned it unfinished ({event.status})"))
        return event


def _exit_error(event: Event, exc: SystemExit) -> TargetExitError:
    target = getattr(event, "target", None)
    what = f"target {target!r}" if isinstance(target, str) else f"{event.type_name} {event.id}"
    msg = f"{what} called sys.exit({exc.code!r}); the exit ends only this invocation"
    return TargetExitError(msg, code=exc.code)


def _contract(event: Event, what: str) -> ProcessingError:
    msg = f"the processor chain {what} for {event.type_name} {event.id}"
    return ProcessingError(msg, event_id=event.id)

"""ValidationProcessor: arguments checked against the target's schema before anything runs."""

from __future__ import annotations

from agentic.execution._call import Call
from agentic.execution._chain import fail_event
from agentic.execution._errors import ArgumentValidationError, ExecutionError
from agentic.execution.types import CallNext
from agentic.primitives import Event

__all__ = ["ValidationProcessor"]


class ValidationProcessor:
    """Fail a Call whose target is unknown or whose arguments do not fit its schema.

    The target's `validate()` checks and coerces the arguments; the coerced form is
    what the target is later invoked with. On failure the Event fails with an
    [`ArgumentValidationError`][agentic.execution.ArgumentValidationError] (or the
    resolver's [`TargetNotFoundError`][agentic.execution.TargetNotFoundError]) and the
    rest of the chain, the target included, never runs. Events that are not Calls
    pass through.
    """

    __slots__ = ()

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Validate, then continue; or fail the Event and stop."""
        if isinstance(event, Call):
            try:
                target = event.bound_target()
                checked = target.validate(event.arguments)
            except ExecutionError as exc:
                return fail_event(event, exc)
            except (ValueError, TypeError) as exc:
                msg = f"arguments for {event.target!r} are invalid: {exc}"
                return fail_event(event, ArgumentValidationError(msg, target=event.target))
            event.set_validated(checked)
        return await call_next(event)

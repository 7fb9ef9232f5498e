"""TimeoutProcessor: a deadline per invocation that really cancels it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from agentic.execution._call import Call
from agentic.execution._chain import note
from agentic.execution._errors import InvocationTimeoutError
from agentic.execution.types import CallNext
from agentic.primitives import Event

__all__ = ["TimeoutProcessor"]


class TimeoutProcessor:
    """Cancel the rest of the chain after `seconds` and fail with a timeout error.

    The invocation's coroutine is cancelled (it sees `CancelledError` at its current
    `await`). A sync target running in a worker thread cannot be interrupted: the
    thread is abandoned, and the target's runner counts it. The raised
    [`InvocationTimeoutError`][agentic.execution.InvocationTimeoutError] is not
    retryable unless `retryable=True`.
    """

    def __init__(
        self,
        seconds: float,
        *,
        overrides: Mapping[str, float] | None = None,
        retryable: bool = False,
    ) -> None:
        """Configure the deadline.

        Args:
            seconds: The deadline for each pass through the rest of the chain.
            overrides: Deadlines per target name.
            retryable: Whether a timeout may be retried by an outer retry processor.
        """
        if seconds <= 0:
            msg = f"timeout must be positive, got {seconds}"
            raise ValueError(msg)
        self.seconds = seconds
        """The default deadline in seconds."""
        self.overrides = dict(overrides or {})
        """Deadlines per target name."""
        self.retryable = retryable
        """Whether the timeout error is marked retryable."""
        self.timed_out = 0
        """How many invocations this processor has cancelled."""

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Run the rest of the chain under a deadline."""
        target = event.target if isinstance(event, Call) else event.type_name
        seconds = self.overrides.get(target, self.seconds) if self.overrides else self.seconds
        try:
            async with asyncio.timeout(seconds) as deadline:
                return await call_next(event)
        except TimeoutError as exc:
            if not deadline.expired():
                raise  # the target's own TimeoutError, not our deadline
            self.timed_out += 1
            msg = f"{target!r} timed out after {seconds}s and was cancelled"
            note(event, "timeout", "cancel", msg)
            raise InvocationTimeoutError(
                msg, seconds=seconds, target=target, retryable=self.retryable
            ) from exc

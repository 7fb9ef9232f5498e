"""AuditProcessor: every finished Event becomes a Log, kept in a Pile and emitted via structlog."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import structlog

from agentic.execution._call import Call
from agentic.execution._chain import fail_event
from agentic.execution._redact import DEFAULT_SECRET_KEYS, redact
from agentic.execution.types import CallNext
from agentic.primitives import Event, EventStatus, Log, Pile

__all__ = ["AuditProcessor"]

_DECISIONS = {
    EventStatus.COMPLETED: "allow",
    EventStatus.FAILED: "allow",
    EventStatus.DENIED: "deny",
    EventStatus.CANCELLED: "cancel",
    EventStatus.SKIPPED: "skip",
}


class AuditProcessor:
    """Record every Event that passes as an immutable [`Log`][agentic.primitives.Log].

    Place it outermost, so denials and validation failures are recorded too. The
    Log's `record` is the whole Event (caller, target, arguments, status, decisions
    noted by the gates, reason, response or error, attempts and timings) with the
    values of secret-looking argument keys replaced by `"***"`; its `metadata` holds
    the summary (`decision`, `reason`). Each Log is appended to `logs` and emitted
    as one structlog event, `"event.finished"`, at info level (warning when the
    Event failed). The library never configures structlog: the host decides where
    the lines go.
    """

    def __init__(
        self,
        logs: Pile[Log] | None = None,
        *,
        secret_keys: re.Pattern[str] = DEFAULT_SECRET_KEYS,
        logger: Any = None,
        max_logs: int | None = None,
    ) -> None:
        """Configure the audit.

        Args:
            logs: The Pile the Logs go to (default: a new one).
            secret_keys: Argument keys whose values are redacted.
            logger: A structlog logger (default: `structlog.get_logger("agentic.audit")`).
            max_logs: Keep only the newest this many Logs in `logs`.
        """
        self.logs: Pile[Log] = logs if logs is not None else Pile(item_type=Log, name="audit")
        """The Logs, oldest first."""
        self.secret_keys = secret_keys
        self.max_logs = max_logs
        self._logger = logger if logger is not None else structlog.get_logger("agentic.audit")

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Run the rest of the chain, then record the finished Event."""
        try:
            event = await call_next(event)
        except asyncio.CancelledError as exc:
            if not event.status.is_terminal:
                event.cancel(str(exc) or "cancelled")
            self.record(event)
            raise
        except Exception as exc:  # noqa: BLE001 - recorded on the Event, then logged
            fail_event(event, exc)
        self.record(event)
        return event

    def record(self, event: Event) -> Log | None:
        """Make, keep and emit the Log of a finished Event (None if it is not finished)."""
        status = event.status
        if not status.is_terminal:
            return None
        record = event.to_dict()
        arguments = record.get("arguments")
        if arguments:
            record["arguments"] = redact(arguments, self.secret_keys)
        execution = event.execution
        error = execution.error
        reason = execution.reason or (error.message if error is not None else None)
        log = Log(
            event_id=event.id,
            event_type=event.type_name,
            status=status.value,
            record=record,
            metadata={"decision": _DECISIONS.get(status, status.value), "reason": reason},
        )
        self.logs.include(log)
        if self.max_logs is not None and len(self.logs) > self.max_logs:
            self.logs.pop(0)
        call = event if isinstance(event, Call) else None
        emit = self._logger.warning if status is EventStatus.FAILED else self._logger.info
        emit(
            "event.finished",
            event_id=str(event.id),
            event_type=event.type_name,
            target=None if call is None else call.target,
            caller=None if call is None else call.caller,
            arguments=record.get("arguments"),
            status=status.value,
            reason=reason,
            error=None if error is None else error.type,
            duration=execution.duration,
            attempts=len(execution.attempts),
        )
        return log

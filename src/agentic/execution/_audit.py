"""AuditProcessor: every finished Event becomes a Log, kept in a Pile and emitted via structlog."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import structlog

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

    With `lazy=True` (the default) the Event's document is snapshotted when it
    finishes, but the immutable Log is built from that snapshot only when the Logs
    are next read (through [`logs`][agentic.execution.AuditProcessor.logs] or
    [`flush()`][agentic.execution.AuditProcessor.flush]): the content is the same,
    and the hot path stays cheap.
    """

    def __init__(
        self,
        logs: Pile[Log] | None = None,
        *,
        secret_keys: re.Pattern[str] = DEFAULT_SECRET_KEYS,
        logger: Any = None,
        max_logs: int | None = None,
        lazy: bool = True,
    ) -> None:
        """Configure the audit.

        Args:
            logs: The Pile the Logs go to (default: a new one).
            secret_keys: Argument keys whose values are redacted.
            logger: A structlog logger (default: `structlog.get_logger("agentic.audit")`).
            max_logs: Keep only the newest this many Logs in `logs`.
            lazy: Build each Log when the Logs are next read (True) or at once.
        """
        self._logs: Pile[Log] = logs if logs is not None else Pile(item_type=Log, name="audit")
        self.secret_keys = secret_keys
        self.max_logs = max_logs
        self.lazy = lazy
        self._logger = logger if logger is not None else structlog.get_logger("agentic.audit")
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def logs(self) -> Pile[Log]:
        """The Logs of every Event recorded so far, oldest first."""
        if self._pending:
            self.flush()
        return self._logs

    def flush(self) -> int:
        """Build the Logs still pending (lazy mode); return how many were built."""
        with self._lock:
            pending, self._pending = self._pending, []
            built = [_log(entry) for entry in pending]
            self._logs.include(built)
            if self.max_logs is not None:
                while len(self._logs) > self.max_logs:
                    self._logs.pop(0)
        return len(built)

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

    def record(self, event: Event) -> None:
        """Snapshot, keep and emit the Log of a finished Event (ignored if not finished)."""
        status = event.status
        if not status.is_terminal:
            return
        record = event.to_dict()
        arguments = record.get("arguments")
        if arguments:
            arguments = record["arguments"] = redact(arguments, self.secret_keys)
        execution = record["execution"]
        error = execution["error"]
        reason = execution["reason"] or (error["message"] if error is not None else None)
        record["$audit"] = {"decision": _DECISIONS.get(status, status.value), "reason": reason}
        if self.lazy:
            with self._lock:
                self._pending.append(record)
        else:
            with self._lock:
                self._logs.include(_log(record))
                if self.max_logs is not None and len(self._logs) > self.max_logs:
                    self._logs.pop(0)
        emit = self._logger.warning if status is EventStatus.FAILED else self._logger.info
        emit(
            "event.finished",
            event_id=record["id"],
            event_type=record["$type"],
            target=record.get("target"),
            caller=record.get("caller"),
            arguments=arguments,
            status=record["status"],
            reason=reason,
            error=None if error is None else error["type"],
            duration=execution["duration"],
            attempts=len(execution["attempts"]),
        )


def _log(record: dict[str, Any]) -> Log:
    summary = record.pop("$audit")
    return Log(
        event_id=record["id"],
        event_type=record["$type"],
        status=record["status"],
        record=record,
        metadata=summary,
    )

"""AuditProcessor: every finished Event becomes a Log, kept in a Pile and emitted via structlog."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

import structlog
from pydantic_core import PydanticSerializationError

from agentic.errors import SerializationError
from agentic.execution._chain import fail_event
from agentic.execution._redact import DEFAULT_SECRET_KEYS, REDACTED, is_secret_key, redact
from agentic.execution._summary import bound, is_summary, summarize
from agentic.execution.types import CallNext
from agentic.primitives import Event, EventStatus, Log, Pile

__all__ = ["DEFAULT_LINE_VALUE_BYTES", "DEFAULT_MAX_VALUE_BYTES", "AuditProcessor"]

_DECISIONS = {
    EventStatus.COMPLETED: "allow",
    EventStatus.FAILED: "allow",
    EventStatus.DENIED: "deny",
    EventStatus.CANCELLED: "cancel",
    EventStatus.SKIPPED: "skip",
}

_EXCLUDE: dict[str, Any] = {"arguments": True, "execution": {"response"}}

_INT_LIMIT = 10**18
_INT_BYTES = 20  # the longest JSON of an int within ±_INT_LIMIT

DEFAULT_MAX_VALUE_BYTES = 4096
"""Argument values and responses whose JSON is longer are summarized in the Log."""
DEFAULT_LINE_VALUE_BYTES = 256
"""Argument values whose JSON is longer are summarized in the log line."""
_MIN_SCRUBBED = 4  # secret values this long or longer are redacted where texts quote them


class AuditProcessor:
    """Record every Event that passes as an immutable [`Log`][agentic.primitives.Log].

    Place it outermost, so denials and validation failures are recorded too. The
    Log's `record` is the whole Event (caller, target, arguments, status, decisions
    noted by the gates, reason, response or error, attempts and timings) with the
    values of secret-looking argument keys replaced by `"***"` (also where an error
    message, the reason or a decision note quotes such a value of 4 characters or
    more, as written, as `repr()` or as JSON writes it); its `metadata` holds
    the summary (`decision`, `reason`). Each Log is appended to `logs` and emitted
    as one structlog event, `"event.finished"`, at info level (warning when the
    Event failed). The library never configures structlog: the host decides where
    the lines go.

    Large values are bounded, so that a Log's size does not grow with what a Call
    carries (a provider Call carries the whole conversation, every turn, so whole
    copies would make the Logs grow with the square of its length). In the Log, each
    argument value and the response whose JSON is longer than `max_value_bytes`
    (default 4 KB: tool arguments and most tool results stay whole, conversations
    and file contents do not) is replaced by its
    [summary][agentic.execution.summarize]:

    ```
    {"$summary": true, "type": "array", "items": 800, "bytes": 183204, "sha256": "..."}
    ```

    The Log stays an exact account: `sha256` is the digest of the value's canonical
    JSON (after redaction, which changes nothing in a value without secret keys), so
    `summarize(value)` equals the stored summary for exactly the value that was
    sent. The Event itself keeps its full arguments and response. The log line
    shows argument values longer than `line_value_bytes` (default 256) as summaries
    too (and never more than the Log holds); `metadata` is never summarized. With
    `max_value_bytes=None` every value is kept whole, as a JSON-mode copy. A large
    value is still read once per Event (to redact and hash it), but never copied.
    A value JSON cannot hold (an object in the metadata or the arguments) is shown
    as `"<unserializable TYPE>"`: the Event is logged all the same.

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
        max_value_bytes: int | None = DEFAULT_MAX_VALUE_BYTES,
        line_value_bytes: int = DEFAULT_LINE_VALUE_BYTES,
    ) -> None:
        """Configure the audit.

        Args:
            logs: The Pile the Logs go to (default: a new one).
            secret_keys: Argument keys whose values are redacted.
            logger: A structlog logger (default: `structlog.get_logger("agentic.audit")`).
            max_logs: Keep only the newest this many Logs in `logs`.
            lazy: Build each Log when the Logs are next read (True) or at once.
            max_value_bytes: In the Log, replace each argument value and the
                response whose JSON is longer than this by its summary (None: keep
                every value whole).
            line_value_bytes: In the log line, replace each argument value whose
                JSON is longer than this by its summary.

        Raises:
            ValueError: A size limit is negative.
        """
        if (max_value_bytes is not None and max_value_bytes < 0) or line_value_bytes < 0:
            msg = (
                f"AuditProcessor size limits must be >= 0, not max_value_bytes="
                f"{max_value_bytes}, line_value_bytes={line_value_bytes}"
            )
            raise ValueError(msg)
        self.max_value_bytes = max_value_bytes
        self.line_value_bytes = line_value_bytes
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
        arguments: dict[str, Any] | None = getattr(event, "arguments", None)
        try:
            # Arguments and response are taken apart: a provider Call carries the
            # whole conversation, which must be bounded here, not copied first.
            record = event.model_dump(mode="json", exclude=_EXCLUDE)
        except PydanticSerializationError:
            # Something JSON cannot hold (an object in the metadata): the Event is
            # still logged, with that value shown as its type (never its repr).
            record = event.model_dump(mode="json", exclude=_EXCLUDE, fallback=_unserializable)
        line_arguments: dict[str, Any] | None = None
        if arguments:
            secrets: list[str] = []
            record["arguments"], line_arguments = self._arguments(arguments, secrets)
            if secrets:  # a secret quoted back in an error or a reason is redacted there too
                _scrub_texts(record, secrets)
        elif isinstance(arguments, dict):
            record["arguments"] = line_arguments = {}
        execution = record["execution"]
        execution["response"], _ = _bound(event.execution.response, self.max_value_bytes)
        error = execution["error"]
        reason = execution["reason"] or (error["message"] if error is not None else None)
        record["$audit"] = {"decision": _DECISIONS.get(status, status.value), "reason": reason}
        if self.lazy:
            with self._lock:
                pending = self._pending
                pending.append(record)
                # Logs nobody has read yet are bounded too: only the newest max_logs
                # could survive the next flush, so the older ones are dropped now.
                if self.max_logs is not None and len(pending) > self.max_logs:
                    del pending[: len(pending) - self.max_logs]
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
            arguments=line_arguments,
            status=record["status"],
            reason=reason,
            error=None if error is None else error["type"],
            duration=execution["duration"],
            attempts=len(execution["attempts"]),
        )

    def _arguments(
        self, arguments: dict[str, Any], secrets: list[str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return the arguments as the Log stores them and as the log line shows them.

        The secret values redacted are added to `secrets` (as strings).
        """
        stored: dict[str, Any] = {}
        shown: dict[str, Any] = {}
        secret_keys = self.secret_keys
        max_value_bytes = self.max_value_bytes
        line_value_bytes = self.line_value_bytes
        # A string this short fits both limits whatever it holds (a character takes at
        # most 6 bytes of JSON, "\u001f"), so it is kept as it is, unmeasured.
        small = (
            line_value_bytes if max_value_bytes is None else min(line_value_bytes, max_value_bytes)
        )
        short = small // 6 - 1
        for key, value in arguments.items():
            if is_secret_key(key, secret_keys):
                stored[key] = shown[key] = REDACTED
                _leaves(value, secrets)
            elif (type(value) is str and len(value) <= short) or (
                type(value) is int and small >= _INT_BYTES and -_INT_LIMIT < value < _INT_LIMIT
            ):
                stored[key] = shown[key] = value
            else:
                redacted = redact(value, secret_keys)
                if redacted is not value:  # it held a secret key somewhere inside
                    _secrets_inside(value, secret_keys, secrets)
                kept, size = _bound(redacted, max_value_bytes)
                stored[key] = kept
                if size <= line_value_bytes or is_summary(kept):
                    shown[key] = kept
                else:
                    shown[key] = summarize(kept)
        return stored, shown


def _unserializable(value: Any) -> str:
    return f"<unserializable {type(value).__name__}>"


def _bound(value: Any, max_bytes: int | None) -> tuple[Any, int]:
    """`bound()`, or the value's type when JSON cannot hold it (the Log is kept)."""
    try:
        return bound(value, max_bytes)
    except SerializationError:
        shown = _unserializable(value)
        return shown, len(shown) + 2


def _log(record: dict[str, Any]) -> Log:
    summary = record.pop("$audit")
    return Log(
        event_id=record["id"],
        event_type=record["$type"],
        status=record["status"],
        record=record,
        metadata=summary,
    )


def _leaves(value: Any, out: list[str]) -> None:
    """Add every string in `value` (a secret, or a container of secrets) to `out`.

    Numbers are left out: the secret-key pattern also matches counts (`max_tokens`,
    `input_tokens`), and scrubbing "1500" from every error message would garble it.
    """
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _leaves(item, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _leaves(item, out)


def _secrets_inside(value: Any, secret_keys: re.Pattern[str], out: list[str]) -> None:
    """Add the values under secret keys anywhere in `value` to `out`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key, secret_keys):
                _leaves(item, out)
            else:
                _secrets_inside(item, secret_keys, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _secrets_inside(item, secret_keys, out)


def _scrub_texts(record: dict[str, Any], secrets: list[str]) -> None:
    """Redact secret values where the record quotes them: errors, the reason, decision notes.

    A target's error may quote its arguments (`f"refused {password!r}"`), and retry
    notes quote the error. Each secret of `_MIN_SCRUBBED` characters or more is
    replaced as written, as `repr()` writes it and as JSON writes it.
    """
    execution = record["execution"]
    errors = [execution["error"], *(a.get("error") for a in execution["attempts"])]
    metadata = record.get("metadata")
    decisions = metadata.get("decisions") if isinstance(metadata, dict) else None
    candidates: list[tuple[Any, str]] = [
        (execution, "reason"),
        *((error, "message") for error in errors),
        *((decision, "reason") for decision in (decisions if isinstance(decisions, list) else ())),
    ]
    places = [
        (holder, key)
        for holder, key in candidates
        if isinstance(holder, dict) and isinstance(holder.get(key), str)
    ]
    if not places:  # the common case: a Call that succeeded without notes
        return
    forms = {
        form
        for secret in secrets
        if len(secret) >= _MIN_SCRUBBED
        for form in (
            secret,
            repr(secret)[1:-1],
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
        )
    }
    ordered = sorted(forms, key=len, reverse=True)  # a longer form before its own substrings
    for holder, key in places:
        text = holder[key]
        for form in ordered:
            if form in text:
                text = text.replace(form, REDACTED)
        holder[key] = text

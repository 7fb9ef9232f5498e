"""Event: an Element that can be invoked, with a checked status and an execution record."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from agentic.errors import InvalidTransitionError, SerializationError
from agentic.primitives import _codec
from agentic.primitives.element import Element
from agentic.primitives.log import Log

__all__ = ["Attempt", "ErrorInfo", "Event", "EventStatus", "Execution"]


class EventStatus(StrEnum):
    """Where an Event stands. Terminal statuses never change again."""

    PENDING = "pending"
    """Created, not yet started."""
    PROCESSING = "processing"
    """Running (possibly through several attempts)."""
    COMPLETED = "completed"
    """Finished with a response."""
    FAILED = "failed"
    """Finished with an error."""
    CANCELLED = "cancelled"
    """Stopped before it finished, by a caller or a shutdown."""
    DENIED = "denied"
    """Refused before it started (a policy, a rate limit, a validation gate)."""
    SKIPPED = "skipped"
    """Not run because it was not needed (a dependency failed, a cache answered)."""

    @property
    def is_terminal(self) -> bool:
        """Whether the status is final."""
        return self not in (EventStatus.PENDING, EventStatus.PROCESSING)


_TRANSITIONS: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.PENDING: frozenset(
        {EventStatus.PROCESSING, EventStatus.DENIED, EventStatus.SKIPPED, EventStatus.CANCELLED}
    ),
    EventStatus.PROCESSING: frozenset(
        {EventStatus.COMPLETED, EventStatus.FAILED, EventStatus.CANCELLED}
    ),
}


# One lock for every Event's transitions: each holds it for a few microseconds, and a
# per-instance lock would make Events uncopyable and unpicklable.
_transition_lock = threading.RLock()


class ErrorInfo(BaseModel):
    """A serializable description of an exception."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    """The exception's class name (qualified for non-builtins)."""
    message: str
    """Its message."""
    retryable: bool = False
    """Whether a retry may succeed (set by whoever knows, such as a provider)."""
    retry_after: float | None = None
    """Seconds the failing service asked us to wait before retrying, if it said."""

    @classmethod
    def from_exception(cls, exc: BaseException, *, retryable: bool | None = None) -> ErrorInfo:
        """Describe `exc`.

        `retryable` and `retry_after` default to the exception's own attributes of
        those names, which is how invokers (a provider's rate-limit error, say) tell
        the retry processor what to do.
        """
        kind = type(exc)
        name = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}"
        )
        flag = bool(getattr(exc, "retryable", False)) if retryable is None else retryable
        after = getattr(exc, "retry_after", None)
        wait = float(after) if isinstance(after, (int, float)) else None
        return cls(type=name, message=str(exc), retryable=flag, retry_after=wait)


class Attempt(BaseModel):
    """One try at running an Event."""

    model_config = ConfigDict(extra="forbid")

    number: int
    """1 for the first attempt."""
    started_at: datetime
    """When it began (UTC)."""
    duration: float | None = None
    """Seconds it took."""
    error: ErrorInfo | None = None
    """Why it failed, if it did."""


class Execution(BaseModel):
    """What happened when an Event ran."""

    model_config = ConfigDict(extra="forbid")

    started_at: datetime | None = None
    """When processing began (UTC)."""
    finished_at: datetime | None = None
    """When the Event reached a terminal status (UTC)."""
    duration: float | None = None
    """Seconds from start to finish (monotonic clock)."""
    response: Any = None
    """The JSON-compatible result."""
    error: ErrorInfo | None = None
    """The error the Event failed with."""
    reason: str | None = None
    """Why it was denied, skipped or cancelled (and by which rule or component)."""
    attempts: list[Attempt] = Field(default_factory=list)
    """Every attempt, in order."""


class Event(Element):
    """An Element that can be invoked asynchronously.

    Its [`status`][agentic.primitives.Event.status] moves only along legal transitions:

    ```
    pending ──▶ processing ──▶ completed | failed | cancelled
       └──▶ denied | skipped | cancelled
    ```

    Any other move raises [`InvalidTransitionError`][agentic.errors.InvalidTransitionError]
    and changes nothing. Each transition is atomic: when two threads race to finish
    an Event (complete and cancel, say), exactly one wins and the other gets the error.
    Assigning `event.status` directly is checked the same way (but records nothing in
    `execution`; prefer the transition methods). Subclasses implement
    [`execute()`][agentic.primitives.Event.execute]; callers run them with
    [`invoke()`][agentic.primitives.Event.invoke] (or through an executor's chain, which
    drives the same transitions). A finished Event becomes an immutable
    [`Log`][agentic.primitives.Log] with [`to_log()`][agentic.primitives.Event.to_log].
    """

    type_name: ClassVar[str] = "Event"

    status: EventStatus = EventStatus.PENDING
    """Where the Event stands; change it only through the transition methods."""
    execution: Execution = Field(default_factory=Execution)
    """The record of the run."""

    _clock: float | None = PrivateAttr(default=None)

    def __setattr__(self, name: str, value: Any) -> None:
        """Set a field; `status` only along a legal transition."""
        if name == "status":
            with _transition_lock:
                self._move(_as_status(self, value))
            return
        super().__setattr__(name, value)

    async def execute(self) -> Any:
        """Do the Event's work and return its JSON-compatible result.

        Raises:
            NotImplementedError: The base Event has nothing to do.
        """
        msg = f"{self.type_name} does not implement execute()"
        raise NotImplementedError(msg)

    async def invoke(self) -> Event:
        """Run [`execute()`][agentic.primitives.Event.execute] with status and timings.

        An exception from `execute()` fails the Event (it is recorded, not raised);
        cancellation marks it cancelled and propagates.

        Returns:
            The Event itself, now terminal.
        """
        self.start()
        attempt = self.begin_attempt()
        try:
            result = await self.execute()
        except asyncio.CancelledError:
            self.end_attempt(attempt, None)
            self.cancel("cancelled while running")
            raise
        except Exception as exc:  # noqa: BLE001 - the Event records whatever its work raised
            info = ErrorInfo.from_exception(exc)
            self.end_attempt(attempt, info)
            self.fail(info)
        else:
            self.end_attempt(attempt, None)
            self.complete(result)
        return self

    # -- transitions --------------------------------------------------------------

    def start(self) -> None:
        """Move pending → processing and start the clock."""
        with _transition_lock:
            self._move(EventStatus.PROCESSING)
            self.execution.started_at = datetime.now(UTC)
            self._clock = time.perf_counter()

    def complete(self, response: Any = None) -> None:
        """Move processing → completed with `response`.

        A response that JSON cannot hold fails the Event instead, with a
        `SerializationError` naming the value's type.
        """
        if self.status is not EventStatus.PROCESSING:
            raise self._illegal(EventStatus.COMPLETED)
        try:
            response = _jsonable(response)  # outside the lock: it may be large
        except SerializationError as exc:
            self.fail(ErrorInfo.from_exception(exc))
            return
        with _transition_lock:
            if self.status is not EventStatus.PROCESSING:
                raise self._illegal(EventStatus.COMPLETED)
            self.execution.response = response
            self._finish(EventStatus.COMPLETED)

    def fail(self, error: BaseException | ErrorInfo) -> None:
        """Move processing → failed, recording `error`."""
        info = error if isinstance(error, ErrorInfo) else ErrorInfo.from_exception(error)
        with _transition_lock:
            if self.status is not EventStatus.PROCESSING:
                raise self._illegal(EventStatus.FAILED)
            self.execution.error = info
            self._finish(EventStatus.FAILED)

    def cancel(self, reason: str = "cancelled") -> None:
        """Move pending or processing → cancelled, with a reason."""
        with _transition_lock:
            self._move(EventStatus.CANCELLED)
            self.execution.reason = reason
            self._stop_clock()

    def deny(self, reason: str) -> None:
        """Move pending → denied; `reason` should name the rule or gate that refused."""
        with _transition_lock:
            self._move(EventStatus.DENIED)
            self.execution.reason = reason
            self.execution.finished_at = datetime.now(UTC)

    def skip(self, reason: str) -> None:
        """Move pending → skipped, with a reason."""
        with _transition_lock:
            self._move(EventStatus.SKIPPED)
            self.execution.reason = reason
            self.execution.finished_at = datetime.now(UTC)

    def begin_attempt(self) -> Attempt:
        """Record the start of an attempt (the Event must be processing)."""
        with _transition_lock:
            if self.status is not EventStatus.PROCESSING:
                msg = f"{self._describe()} is {self.status}; attempts happen while processing"
                raise InvalidTransitionError(msg, source=self.status, target=self.status)
            number = len(self.execution.attempts) + 1
            attempt = Attempt(number=number, started_at=datetime.now(UTC))
            self.execution.attempts.append(attempt)
            return attempt

    def end_attempt(self, attempt: Attempt, error: BaseException | ErrorInfo | None) -> None:
        """Record how an attempt ended."""
        attempt.duration = (datetime.now(UTC) - attempt.started_at).total_seconds()
        if error is not None:
            attempt.error = (
                error if isinstance(error, ErrorInfo) else ErrorInfo.from_exception(error)
            )

    # -- audit --------------------------------------------------------------------

    def to_log(self) -> Log:
        """Return an immutable [`Log`][agentic.primitives.Log] of this finished Event.

        Raises:
            InvalidTransitionError: The Event is not terminal yet.
        """
        if not self.status.is_terminal:
            msg = f"{self._describe()} is {self.status}; only a finished Event becomes a Log"
            raise InvalidTransitionError(msg, source=self.status, target=None)
        return Log.of(self.to_dict())

    # -- internals ----------------------------------------------------------------

    def _describe(self) -> str:
        return f"{self.type_name} {self.id}"

    def _illegal(self, target: EventStatus) -> InvalidTransitionError:
        msg = f"{self._describe()} cannot move from {self.status} to {target}"
        return InvalidTransitionError(msg, source=self.status, target=target)

    def _move(self, target: EventStatus) -> None:
        if target not in _TRANSITIONS.get(self.status, ()):
            raise self._illegal(target)
        self.__dict__["status"] = target

    def _finish(self, target: EventStatus) -> None:
        self._move(target)
        self._stop_clock()

    def _stop_clock(self) -> None:
        self.execution.finished_at = datetime.now(UTC)
        if self._clock is not None:
            self.execution.duration = time.perf_counter() - self._clock
        elif self.execution.started_at is not None:
            elapsed = self.execution.finished_at - self.execution.started_at
            self.execution.duration = elapsed.total_seconds()


def _as_status(event: Event, value: Any) -> EventStatus:
    """Return `value` as an EventStatus, or raise InvalidTransitionError naming it."""
    try:
        return EventStatus(value)
    except ValueError:
        msg = f"{event._describe()} cannot move to {value!r}: not an event status"  # noqa: SLF001
        raise InvalidTransitionError(msg, source=event.status, target=value) from None


def _jsonable(value: Any) -> Any:
    """Return `value` in a JSON-compatible form, or raise SerializationError."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    # orjson knows dicts, lists, UUIDs, datetimes, enums, dataclasses: go through it once
    # so what is stored is exactly what a JSON reader will see.
    return _codec.loads(_codec.dumps(value, what=f"a response of type {type(value).__name__}"))

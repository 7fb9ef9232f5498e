"""TimeoutProcessor: a deadline per invocation that really cancels it."""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Mapping

from agentic.execution._call import Call
from agentic.execution._chain import note
from agentic.execution._errors import InvocationTimeoutError
from agentic.execution.types import CallNext
from agentic.primitives import Event

__all__ = ["TimeoutProcessor"]


class _Deadline:
    """One guarded run: its task, when it is due, and whether the watchdog fired."""

    __slots__ = ("active", "due", "expired", "task")

    def __init__(self, task: asyncio.Task[object], due: float) -> None:
        self.task: asyncio.Task[object] | None = task
        self.due = due
        self.active = True
        self.expired = False


class _Watchdog:
    """Deadlines of one duration on one loop, in a FIFO, served by a single timer.

    With one duration per watchdog, deadlines fall due in the order they were set,
    so a deque replaces a heap and one `call_at` at a time serves every run: far
    cheaper than a timer handle per run (`asyncio.timeout`). A watchdog belongs to
    one loop; it holds no reference to it (its processor keeps watchdogs per loop
    weakly), and the loop's pending timer refers to the watchdog, not the reverse.
    """

    __slots__ = ("_armed", "_queue", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._queue: deque[_Deadline] = deque()
        self._armed = False

    def arm(self, task: asyncio.Task[object]) -> _Deadline:
        loop = task.get_loop()
        deadline = _Deadline(task, loop.time() + self.seconds)
        self._queue.append(deadline)
        if not self._armed:
            self._armed = True
            loop.call_at(deadline.due, self._fire)
        return deadline

    def _fire(self) -> None:
        self._armed = False
        loop, queue = asyncio.get_running_loop(), self._queue
        now = loop.time()
        while queue and (not queue[0].active or queue[0].due <= now):
            deadline = queue.popleft()
            if deadline.active and deadline.task is not None:
                deadline.active = False
                deadline.expired = True
                deadline.task.cancel()
        if queue:
            self._armed = True
            loop.call_at(queue[0].due, self._fire)

    def disarm(self, deadline: _Deadline) -> None:
        deadline.active = False
        deadline.task = None  # finished runs must not keep their tasks alive
        queue = self._queue
        while queue and not queue[0].active:
            queue.popleft()


class TimeoutProcessor:
    """Cancel the rest of the chain after `seconds` and fail with a timeout error.

    The invocation's coroutine is cancelled (it sees `CancelledError` at its current
    `await`). A sync target running in a worker thread cannot be interrupted: the
    thread is abandoned, and the target's runner counts it. The raised
    [`InvocationTimeoutError`][agentic.execution.InvocationTimeoutError] is not
    retryable unless `retryable=True`. A cancellation from elsewhere (a caller, a
    shutdown) passes through unchanged.
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
        for value in (seconds, *(overrides or {}).values()):
            if not value > 0:  # NaN too: it would mean no deadline at all
                msg = f"timeout must be positive, got {value}"
                raise ValueError(msg)
        self.seconds = seconds
        """The default deadline in seconds."""
        self.overrides = dict(overrides or {})
        """Deadlines per target name."""
        self.retryable = retryable
        """Whether the timeout error is marked retryable."""
        self.timed_out = 0
        """How many invocations this processor has cancelled."""
        # Per loop (weakly: a finished loop takes its watchdogs with it), then per
        # duration. Two loops on two threads never share a watchdog or its queue.
        self._watchdogs: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[float, _Watchdog]
        ] = weakref.WeakKeyDictionary()
        # The last loop's table, read and replaced as one tuple (thread-safe).
        self._last: tuple[weakref.ref[asyncio.AbstractEventLoop], dict[float, _Watchdog]] | None = (
            None
        )

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Run the rest of the chain under a deadline."""
        seconds = self.seconds
        if self.overrides and isinstance(event, Call):
            seconds = self.overrides.get(event.target, seconds)
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - a coroutine always runs in a task here
            msg = "TimeoutProcessor must run inside an asyncio task"
            raise RuntimeError(msg)
        loop = task.get_loop()
        last = self._last
        if last is not None and last[0]() is loop:
            watchdogs = last[1]
        else:
            table = self._watchdogs.get(loop)
            if table is None:
                table = self._watchdogs.setdefault(loop, {})
            watchdogs = table
            self._last = (weakref.ref(loop), table)
        watchdog = watchdogs.get(seconds)
        if watchdog is None:
            watchdog = watchdogs[seconds] = _Watchdog(seconds)
        deadline = watchdog.arm(task)
        try:
            return await call_next(event)
        except asyncio.CancelledError as exc:
            if not deadline.expired:
                raise
            deadline.expired = False  # our cancel, taken back here
            if task.uncancel() > 0:
                raise  # someone else cancelled too: let that win
            self.timed_out += 1
            target = event.target if isinstance(event, Call) else event.type_name
            msg = f"{target!r} timed out after {seconds}s and was cancelled"
            note(event, "timeout", "cancel", msg)
            raise InvocationTimeoutError(
                msg, seconds=seconds, target=target, retryable=self.retryable
            ) from exc
        finally:
            watchdog.disarm(deadline)
            if deadline.expired:
                # The target turned our cancel into an error of its own (or swallowed
                # it): take it back all the same, or the task stays "cancelling" and a
                # later deadline's cancel would be taken for someone else's.
                task.uncancel()

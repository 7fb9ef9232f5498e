"""ThreadRunner: sync callables in worker threads, abandoned (and counted) on cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ThreadRunner"]

T = TypeVar("T")


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(result)
        return
    if isinstance(error, StopIteration):
        # A future refuses StopIteration (TypeError, in this callback: the awaiter would
        # never wake). As a coroutine would (PEP 479), raise it as a RuntimeError.
        wrapped = RuntimeError(f"the call raised StopIteration: {error!r}")
        wrapped.__cause__ = error
        error = wrapped
    future.set_exception(error)


class ThreadRunner:
    """Run blocking callables in daemon threads, one thread per call.

    A thread cannot be interrupted, so when the awaiting coroutine is cancelled (a
    timeout, say) while the call still runs, the thread is *abandoned*: it finishes
    on its own, its result is dropped, and `abandoned` counts it. One thread per call
    (rather than a fixed pool) means abandoned calls can never starve later ones. A
    `StopIteration` from the call is raised as a `RuntimeError`, as a coroutine's is.
    """

    def __init__(self, name: str = "agentic-worker") -> None:
        """Create a runner.

        Args:
            name: The name given to its threads.
        """
        self.name = name
        """The name given to the threads."""
        self._lock = threading.Lock()
        self._started = 0
        self._running = 0
        self._abandoned = 0

    @property
    def started(self) -> int:
        """How many calls have been started."""
        return self._started

    @property
    def running(self) -> int:
        """How many threads are running now (abandoned ones included)."""
        return self._running

    @property
    def abandoned(self) -> int:
        """How many calls were still running when their awaiter was cancelled."""
        return self._abandoned

    async def run(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `func(*args, **kwargs)` in a new daemon thread and await its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        context = contextvars.copy_context()

        def work() -> None:
            result: Any = None
            error: BaseException | None = None
            try:
                result = context.run(func, *args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                error = exc
            with self._lock:
                self._running -= 1
            # A closed loop raises RuntimeError: nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, result, error)

        with self._lock:
            self._started += 1
            self._running += 1
        thread = threading.Thread(target=work, name=self.name, daemon=True)
        try:
            thread.start()
        except BaseException:  # no thread (the system's limit): nothing started or runs
            with self._lock:
                self._started -= 1
                self._running -= 1
            raise
        try:
            return await future
        except asyncio.CancelledError:
            if thread.is_alive():
                with self._lock:
                    self._abandoned += 1
            raise

"""The runtime's asyncio loop, on a thread of its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import structlog

__all__ = ["LoopThread"]

T = TypeVar("T")

_log = structlog.get_logger("agentic.actors")


class LoopThread:
    """One asyncio event loop running forever on a daemon thread, until `stop`.

    Actors hand it coroutines (`ActorContext.run_async`); hosts may too
    (`ActorSystem.run_coroutine`). It is started by `start` and stopped once, after
    its remaining tasks are cancelled.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.ident = 0
        """The loop thread's identifier (0 until started)."""

    @property
    def started(self) -> bool:
        """Whether the loop has been started."""
        return self._loop is not None

    def start(self) -> asyncio.AbstractEventLoop:
        """Start the loop if it is not running yet, and return it."""
        with self._lock:
            if self._loop is not None:
                return self._loop
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=self._run, args=(loop, ready), name=f"{self._name}-loop", daemon=True
            )
            thread.start()
            ready.wait()
            self._loop, self._thread = loop, thread
            return loop

    def _run(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        self.ident = threading.get_ident()
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(_cancel_all(loop, 1.0))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the loop (starting it if needed) and return its future."""
        return asyncio.run_coroutine_threadsafe(coro, self.start())

    def cancel_all(self, timeout: float) -> int:
        """Cancel every task on the loop and wait up to `timeout` s for them to end.

        Returns:
            The number of tasks cancelled.
        """
        loop = self._loop
        if loop is None or loop.is_closed():
            return 0
        future = asyncio.run_coroutine_threadsafe(_cancel_all(loop, timeout), loop)
        try:
            return future.result(timeout + 1.0)
        except (TimeoutError, concurrent.futures.TimeoutError):
            _log.warning("actors.loop_cancel_timeout", timeout=timeout)
            return 0

    def stop(self, timeout: float) -> bool:
        """Stop the loop after cancelling its tasks; join its thread.

        Returns:
            True if the thread ended within `timeout` seconds.
        """
        with self._lock:
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return True
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        return not thread.is_alive()


async def _cancel_all(loop: asyncio.AbstractEventLoop, limit: float) -> int:
    current = asyncio.current_task(loop)
    tasks = [task for task in asyncio.all_tasks(loop) if task is not current]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=limit)
    # One more turn, so done-callbacks (completions bound for actors) run now.
    await asyncio.sleep(0)
    return len(tasks)

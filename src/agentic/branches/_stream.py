"""Streaming chats: the answer's text as the model produces it, then the ChatResult."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from agentic.actors import BusEvent, OverflowPolicy
from agentic.branches._protocol import Chat, ChatDelta, ChatResult, Outcome, StreamStart

if TYPE_CHECKING:
    from agentic.branches._ref import BranchRef

__all__ = ["AsyncChatStream", "ChatStream"]

BUFFER = 10_000
"""Pieces of text kept for a reader that falls behind; beyond that the oldest are dropped."""


class _Stream:
    """What the sync and async streams share: the subscription and reading one event."""

    _cancel_wait: float | None = None
    """How long a Cancel may wait for room in a full mailbox (None: the system's bound)."""

    def __init__(self, ref: BranchRef, request: Callable[[UUID], Chat]) -> None:
        self._ref = ref
        self._request = request
        self.ticket = uuid.uuid4()
        """The chat's ticket (see [`Cancel`][agentic.branches.Cancel])."""
        self.result: ChatResult | None = None
        """The chat's result, once the iteration has ended."""
        self._deadline = time.monotonic() + ref.timeout
        self._steps: set[int] = set()
        self._open = True
        # One subscription for text and outcome keeps their order: the text of a model
        # call is published before the call ends, so before the turn's outcome.
        pattern = f"branch.{ref.name}.*.{self.ticket.hex}"
        bus = ref.ref_system().bus
        self._sub = bus.subscribe(pattern, maxsize=BUFFER, policy=OverflowPolicy.DROP_OLDEST)

    @property
    def dropped(self) -> int:
        """Pieces of text lost because the reader fell more than 10,000 behind."""
        return self._sub.dropped

    @property
    def done(self) -> bool:
        """Whether the chat has ended (or the stream was closed)."""
        return not self._open

    def _remaining(self) -> float:
        return max(self._deadline - time.monotonic(), 0.0)

    def _take(self, event: BusEvent | None) -> ChatDelta | None:
        """Turn one bus event into what the reader sees; end the stream on the outcome."""
        if event is None:  # out of time, or the Branch stopped
            closed = self._sub.closed
            late = f"the caller stopped waiting after {self._ref.timeout} s"
            self._finish(None if closed else late)
            self._ref._outcome(None, closed=closed)  # noqa: SLF001 - raises the right error
        payload: Any = event.payload if event is not None else None
        if isinstance(payload, Outcome):
            self._finish(None)
            self.result = self._ref._outcome(payload, closed=False)  # noqa: SLF001
            return None
        if isinstance(payload, StreamStart):
            if payload.step in self._steps:  # an attempt after a retryable failure
                return ChatDelta(step=payload.step, text="", restart=True)
            self._steps.add(payload.step)
            return None
        return payload if isinstance(payload, ChatDelta) else None

    def _finish(self, cancel: str | None) -> None:
        if not self._open:
            return
        self._open = False
        self._sub.close()
        if cancel is not None:
            self._ref._cancel(self.ticket, cancel, wait=self._cancel_wait)  # noqa: SLF001


class ChatStream(_Stream):
    """A streaming chat, read by iterating: its text as it arrives, then `result`.

    Iterating yields [`ChatDelta`][agentic.branches.ChatDelta]s until the turn ends;
    then `result` holds its [`ChatResult`][agentic.branches.ChatResult] (an error the
    turn ended with is raised by the iteration instead). A delta with `restart` means
    the step's model call is being tried again: drop the text that step streamed.
    Leaving early (`break`, an exception, `close()`, the `with` block) cancels the
    turn on the Branch. The whole stream is bounded by the ref's timeout. A stream you
    make but do not read to its end: close it (or use `with`), or its subscription
    stays on the bus, keeping up to 10,000 pieces nobody reads.

    Example:
        ```python
        stream = branch.stream_chat("tell me a story")
        for delta in stream:
            print(delta.text, end="", flush=True)
        print(stream.result.usage)
        ```
    """

    def __init__(self, ref: BranchRef, request: Callable[[UUID], Chat]) -> None:
        """Send the chat (see [`BranchRef.stream_chat()`][agentic.branches.BranchRef])."""
        super().__init__(ref, request)
        try:
            ref._ask(request(self.ticket))  # noqa: SLF001 - the ref's own request path
        except BaseException:
            self._finish("the caller was interrupted")
            raise

    def __iter__(self) -> Iterator[ChatDelta]:
        """Yield the text as it arrives until the turn ends."""
        try:
            while self._open:
                delta = self._take(self._sub.get(timeout=self._remaining()))
                if delta is not None:
                    yield delta
        finally:
            self._finish("the reader stopped reading")

    def close(self) -> None:
        """Stop reading; an unfinished chat is cancelled."""
        self._finish("the reader closed the stream")

    def __enter__(self) -> Self:
        """Use in a `with` block: leaving it closes the stream."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the stream."""
        self.close()


class AsyncChatStream(_Stream):
    """[`ChatStream`][agentic.branches.ChatStream] for coroutines: `async for` over it.

    Get one with `await branch.astream_chat(...)`. Reading never blocks the host's
    loop; `aclose()` (or the `async with` block) cancels an unfinished chat.
    """

    _cancel_wait = 0.0  # never block the host's loop: a full mailbox loses the Cancel

    async def _send(self) -> None:
        try:
            await self._ref._aask(self._request(self.ticket))  # noqa: SLF001
        except BaseException:
            self._finish("the caller was interrupted")
            raise

    async def __aiter__(self) -> AsyncIterator[ChatDelta]:
        """Yield the text as it arrives until the turn ends."""
        try:
            while self._open:
                event = await self._sub.get_async(timeout=self._remaining())
                delta = self._take(event)
                if delta is not None:
                    yield delta
        finally:
            self._finish("the reader stopped reading")

    async def aclose(self) -> None:
        """Stop reading; an unfinished chat is cancelled."""
        self._finish("the reader closed the stream")

    async def __aenter__(self) -> Self:
        """Use in an `async with` block: leaving it closes the stream."""
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the stream."""
        await self.aclose()

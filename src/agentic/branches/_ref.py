"""BranchRef: the host's handle on a Branch, with a synchronous and an async API."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from agentic.actors import ActorDeadError, ActorRef, ActorSystem, AskTimeoutError, MailboxFullError
from agentic.branches._branch import Branch, Fork, RegisterTool, SnapshotJournal
from agentic.branches._errors import BranchStoppedError
from agentic.branches._messages import Message
from agentic.branches._protocol import (
    AddMessage,
    BranchInfo,
    Cancel,
    ChatResult,
    Export,
    Import,
    Info,
    InvokeTool,
    Outcome,
    PlanResult,
    ReadMessages,
    Rejected,
    StructuredResult,
    reply_topic,
)
from agentic.branches._requests import (
    as_message,
    chat_request,
    plan_request,
    structured_request,
    validated,
)
from agentic.branches._stream import AsyncChatStream, ChatStream
from agentic.primitives import Event
from agentic.store import Snapshot
from agentic.tools import Tool

__all__ = ["DEFAULT_TIMEOUT", "BranchRef"]

M = TypeVar("M", bound=BaseModel)

_CANCELLED = "cancelled by the caller"
DEFAULT_TIMEOUT = 120.0
"""Seconds a BranchRef call waits by default (a chat may take several model calls)."""


class BranchRef:
    """A handle on a running Branch.

    Every method sends the Branch a message. The plain methods block the calling
    thread (for scripts); the `a`-prefixed ones are coroutines that never block the
    host's event loop. Every wait is bounded by `timeout`. A request the Branch
    refuses raises its error (a [`BranchError`][agentic.branches.BranchError] and
    so on); a stopped Branch raises
    [`BranchStoppedError`][agentic.branches.BranchStoppedError].

    Requests that take time (`invoke`, `chat`, `run_plan`, `chat_model`) travel as
    values: the ask is answered at once with a ticket, and the outcome comes back on
    the system's bus under that ticket. A caller that stops waiting (its call timed
    out, the awaiting task was cancelled, Ctrl-C) cancels the request on the Branch
    (see [`Cancel`][agentic.branches.Cancel]), so no turn goes on for nobody and the
    turns queued behind it start.

    Example:
        ```python
        with ActorSystem() as system:
            branch = spawn_branch(system, "helper", tools=[add])
            result = branch.chat("add 2 and 3")
            print(result.content)
        ```
    """

    def __init__(self, ref: ActorRef[Branch], *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wrap an actor ref of a Branch."""
        self.ref = ref
        """The underlying actor ref."""
        self.timeout = timeout
        """The default bound on each call, in seconds."""

    @property
    def name(self) -> str:
        """The Branch's name."""
        return self.ref.name

    @property
    def is_alive(self) -> bool:
        """Whether the Branch still takes requests."""
        return self.ref.is_alive

    def __repr__(self) -> str:
        """Show the name."""
        return f"BranchRef({self.name!r})"

    def ref_system(self) -> ActorSystem:
        """Return the system hosting the Branch."""
        return self.ref._cell.system  # noqa: SLF001 - the handle and the runtime are one package family

    # -- synchronous ----------------------------------------------------------------

    def add_message(self, message: Message | str) -> Message:
        """Append a message (a string becomes a UserMessage) to the conversation.

        During a turn the message joins the conversation when the turns before it end
        (or when the Branch stops); it is answered at once, so a journal records it
        only when it joins.
        """
        result: Message = self._ask(AddMessage(message=as_message(message)))
        return result

    def messages(self, last: int | None = None) -> list[Message]:
        """Return the conversation in order (the last `last` messages, if given)."""
        result: list[Message] = self._ask(ReadMessages(last=last))
        return result

    def register_tool(self, tool: Tool | Callable[..., Any], *, replace: bool = False) -> str:
        """Add a tool; returns its name."""
        result: str = self._ask(RegisterTool(tool, replace))
        return result

    def invoke(self, tool: str, /, **arguments: Any) -> Event:
        """Run a tool through the Branch's chain and return the finished Event (a copy)."""
        result: Event = self._call(
            lambda ticket: InvokeTool(tool=tool, arguments=arguments, ticket=ticket)
        )
        return result

    def chat(
        self, text: str, *, provider: str | None = None, max_steps: int = 8, use_tools: bool = True
    ) -> ChatResult:
        """Send `text` and run the agent loop until an answer or `max_steps` model calls.

        Raises:
            ChatFailedError: A provider call failed for good (after its retries).
        """
        result: ChatResult = self._call(chat_request(text, provider, max_steps, use_tools))
        return result

    def stream_chat(
        self, text: str, *, provider: str | None = None, max_steps: int = 8, use_tools: bool = True
    ) -> ChatStream:
        """Like [`chat()`][agentic.branches.BranchRef.chat], with the answer's text as it arrives.

        Iterate the returned [`ChatStream`][agentic.branches.ChatStream] for
        [`ChatDelta`][agentic.branches.ChatDelta]s; its `result` is the ChatResult.
        """
        return ChatStream(self, chat_request(text, provider, max_steps, use_tools, stream=True))

    def run_plan(
        self,
        goal: str,
        steps: Sequence[str] | None = None,
        *,
        provider: str | None = None,
        max_steps: int = 8,
        use_tools: bool = True,
    ) -> PlanResult:
        """Plan `goal` (or take `steps`) and run each step as a chat turn, in order.

        Without `steps` the model is asked for a plan; an answer that is not one (the
        offline provider echoes, say) makes the goal itself the single step.
        """
        result: PlanResult = self._call(
            lambda ticket: plan_request(goal, steps, provider, max_steps, use_tools, ticket)
        )
        return result

    def chat_model(
        self, text: str, model: type[M], *, provider: str | None = None, repair: bool = True
    ) -> M:
        """Ask for an answer shaped as `model`; with `repair`, one fix-up round trip.

        Raises:
            StructuredOutputError: The (last) answer did not parse or validate.
        """
        result: StructuredResult = self._call(
            lambda ticket: structured_request(text, model, provider, repair, ticket)
        )
        return validated(result, model)

    def fork(self, name: str | None = None, *, upto: int | None = None) -> BranchRef:
        """Start a new Branch with this one's tools, providers and first `upto` messages."""
        new_name: str = self._ask(Fork(name, upto))
        return BranchRef(self.ref_system().lookup(new_name), timeout=self.timeout)

    def export(self, upto: int | None = None) -> dict[str, Any]:
        """Return the Branch's state (messages, logs, plan steps) as JSON-compatible data."""
        result: dict[str, Any] = self._ask(Export(upto=upto))
        return result

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace the Branch's state with an exported one (refused unless it is idle)."""
        self._ask(Import(state=state))

    def snapshot(self) -> Snapshot | None:
        """Save the Branch's state as a snapshot of its journal, after its pending records.

        Returns:
            The snapshot (None if the stream is still empty).

        Raises:
            BranchError: The Branch has no journal.
        """
        result: Snapshot | None = self._ask(SnapshotJournal())
        return result

    def info(self) -> BranchInfo:
        """Return a summary of the Branch."""
        result: BranchInfo = self._ask(Info())
        return result

    def cancel(self, ticket: UUID | None = None, *, reason: str = _CANCELLED) -> bool:
        """End a request early: the one with `ticket` (a stream's `ticket`), else the running turn.

        Its caller hears [`RequestCancelledError`][agentic.branches.RequestCancelledError];
        see [`Cancel`][agentic.branches.Cancel]. Returns whether there was one to end.
        """
        result: bool = self._ask(Cancel(ticket=ticket, reason=reason))
        return result

    def stop(self) -> bool:
        """Stop the Branch: in-flight Events are cancelled, open requests fail."""
        return self.ref.stop()

    # -- async ----------------------------------------------------------------------

    async def aadd_message(self, message: Message | str) -> Message:
        """Async [`add_message()`][agentic.branches.BranchRef.add_message]."""
        result: Message = await self._aask(AddMessage(message=as_message(message)))
        return result

    async def amessages(self, last: int | None = None) -> list[Message]:
        """Async [`messages()`][agentic.branches.BranchRef.messages]."""
        result: list[Message] = await self._aask(ReadMessages(last=last))
        return result

    async def ainvoke(self, tool: str, /, **arguments: Any) -> Event:
        """Async [`invoke()`][agentic.branches.BranchRef.invoke]."""
        result: Event = await self._acall(
            lambda ticket: InvokeTool(tool=tool, arguments=arguments, ticket=ticket)
        )
        return result

    async def achat(
        self, text: str, *, provider: str | None = None, max_steps: int = 8, use_tools: bool = True
    ) -> ChatResult:
        """Async [`chat()`][agentic.branches.BranchRef.chat]."""
        result: ChatResult = await self._acall(chat_request(text, provider, max_steps, use_tools))
        return result

    async def astream_chat(
        self, text: str, *, provider: str | None = None, max_steps: int = 8, use_tools: bool = True
    ) -> AsyncChatStream:
        """Async [`stream_chat()`][agentic.branches.BranchRef.stream_chat]: `async for` the text."""
        stream = AsyncChatStream(
            self, chat_request(text, provider, max_steps, use_tools, stream=True)
        )
        await stream._send()  # noqa: SLF001 - the stream's own start, awaited here
        return stream

    async def arun_plan(
        self,
        goal: str,
        steps: Sequence[str] | None = None,
        *,
        provider: str | None = None,
        max_steps: int = 8,
        use_tools: bool = True,
    ) -> PlanResult:
        """Async [`run_plan()`][agentic.branches.BranchRef.run_plan]."""
        result: PlanResult = await self._acall(
            lambda ticket: plan_request(goal, steps, provider, max_steps, use_tools, ticket)
        )
        return result

    async def achat_model(
        self, text: str, model: type[M], *, provider: str | None = None, repair: bool = True
    ) -> M:
        """Async [`chat_model()`][agentic.branches.BranchRef.chat_model]."""
        result: StructuredResult = await self._acall(
            lambda ticket: structured_request(text, model, provider, repair, ticket)
        )
        return validated(result, model)

    async def aregister_tool(
        self, tool: Tool | Callable[..., Any], *, replace: bool = False
    ) -> str:
        """Async [`register_tool()`][agentic.branches.BranchRef.register_tool]."""
        result: str = await self._aask(RegisterTool(tool, replace))
        return result

    async def afork(self, name: str | None = None, *, upto: int | None = None) -> BranchRef:
        """Async [`fork()`][agentic.branches.BranchRef.fork]."""
        new_name: str = await self._aask(Fork(name, upto))
        return BranchRef(self.ref_system().lookup(new_name), timeout=self.timeout)

    async def astop(self) -> bool:
        """Async [`stop()`][agentic.branches.BranchRef.stop] (waits in a worker thread)."""
        return await asyncio.to_thread(self.stop)

    async def aexport(self, upto: int | None = None) -> dict[str, Any]:
        """Async [`export()`][agentic.branches.BranchRef.export]."""
        result: dict[str, Any] = await self._aask(Export(upto=upto))
        return result

    async def aimport_state(self, state: dict[str, Any]) -> None:
        """Async [`import_state()`][agentic.branches.BranchRef.import_state]."""
        await self._aask(Import(state=state))

    async def asnapshot(self) -> Snapshot | None:
        """Async [`snapshot()`][agentic.branches.BranchRef.snapshot]."""
        result: Snapshot | None = await self._aask(SnapshotJournal())
        return result

    async def ainfo(self) -> BranchInfo:
        """Async [`info()`][agentic.branches.BranchRef.info]."""
        result: BranchInfo = await self._aask(Info())
        return result

    async def acancel(self, ticket: UUID | None = None, *, reason: str = _CANCELLED) -> bool:
        """Async [`cancel()`][agentic.branches.BranchRef.cancel]."""
        result: bool = await self._aask(Cancel(ticket=ticket, reason=reason))
        return result

    # -- internals ------------------------------------------------------------------

    def _stopped(self) -> BranchStoppedError:
        msg = f"branch {self.name!r} is stopped"
        return BranchStoppedError(msg, branch=self.name)

    def _late(self) -> AskTimeoutError:
        msg = f"branch {self.name!r} did not finish within {self.timeout} s; request cancelled"
        return AskTimeoutError(msg, name=self.name, timeout=self.timeout)

    def _cancel(self, ticket: UUID, reason: str, *, wait: float | None = None) -> None:
        # Best effort: a stopped Branch has nothing left to cancel; a full mailbox
        # (after `wait` seconds) loses the Cancel, and the request runs to its end.
        with contextlib.suppress(ActorDeadError, MailboxFullError):
            self.ref.tell(Cancel(ticket=ticket, reason=reason), timeout=wait)

    def _ask(self, message: Any) -> Any:
        try:
            result = self.ref.ask(message, timeout=self.timeout)
        except ActorDeadError as exc:
            raise self._stopped() from exc
        if type(result) is Rejected:
            raise result.error
        return result

    async def _aask(self, message: Any) -> Any:
        try:
            result = await self.ref.ask_async(message, timeout=self.timeout)
        except ActorDeadError as exc:
            raise self._stopped() from exc
        if type(result) is Rejected:
            raise result.error
        return result

    def _call(self, request: Callable[[UUID], Any]) -> Any:
        ticket = uuid.uuid4()
        deadline = time.monotonic() + self.timeout
        with self.ref_system().bus.subscribe(reply_topic(self.name, ticket), maxsize=1) as sub:
            try:
                self._ask(request(ticket))
                event = sub.get(timeout=max(deadline - time.monotonic(), 0.0))
            except BaseException:  # e.g. KeyboardInterrupt, or the ask itself timed out
                self._cancel(ticket, "the caller was interrupted")
                raise
            closed = sub.closed
        if event is None and not closed:
            self._cancel(ticket, f"the caller stopped waiting after {self.timeout} s")
        return self._outcome(event.payload if event is not None else None, closed=closed)

    async def _acall(self, request: Callable[[UUID], Any]) -> Any:
        ticket = uuid.uuid4()
        deadline = time.monotonic() + self.timeout
        with self.ref_system().bus.subscribe(reply_topic(self.name, ticket), maxsize=1) as sub:
            try:
                await self._aask(request(ticket))
                event = await sub.get_async(timeout=max(deadline - time.monotonic(), 0.0))
            except BaseException:  # the awaiting task was cancelled, or the ask timed out
                # Never block the host's loop: a full mailbox loses the Cancel.
                self._cancel(ticket, "the awaiting task was cancelled", wait=0)
                raise
            closed = sub.closed
        if event is None and not closed:
            self._cancel(ticket, f"the caller stopped waiting after {self.timeout} s", wait=0)
        return self._outcome(event.payload if event is not None else None, closed=closed)

    def _outcome(self, outcome: Outcome | None, *, closed: bool) -> Any:
        if outcome is None:
            raise self._stopped() if closed or not self.ref.is_alive else self._late()
        if outcome.error is not None:
            raise outcome.error
        return outcome.result

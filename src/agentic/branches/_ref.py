"""BranchRef: the host's handle on a Branch, with a synchronous and an async API."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from agentic.actors import ActorRef, ActorSystem, AskTimeoutError, SupervisionPolicy
from agentic.branches._branch import Branch, Fork, RegisterTool
from agentic.branches._messages import Message, UserMessage
from agentic.branches._protocol import (
    AddMessage,
    BranchInfo,
    Chat,
    ChatResult,
    Export,
    Import,
    Info,
    InvokeTool,
    ReadMessages,
)
from agentic.execution import Policy
from agentic.primitives import Event
from agentic.providers import Provider
from agentic.tools import Tool

__all__ = ["BranchRef", "spawn_branch"]

T = TypeVar("T")

DEFAULT_TIMEOUT = 120.0
"""Seconds a BranchRef call waits by default (a chat may take several model calls)."""


class BranchRef:
    """A handle on a running Branch.

    Every method sends the Branch a message. The plain methods block the calling
    thread (for scripts); the `a`-prefixed ones are coroutines that never block the
    host's event loop. Every wait is bounded by `timeout`.

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

    def __repr__(self) -> str:
        """Show the name."""
        return f"BranchRef({self.name!r})"

    # -- synchronous ----------------------------------------------------------------

    def add_message(self, message: Message | str) -> Message:
        """Append a message (a string becomes a UserMessage) to the conversation."""
        result: Message = self._ask(AddMessage(message=_as_message(message)))
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
        """Run a tool through the Branch's chain and return the finished Event."""
        future: concurrent.futures.Future[Event] = self._ask(
            InvokeTool(tool=tool, arguments=arguments)
        )
        return self._wait(future)

    def chat(
        self, text: str, *, provider: str | None = None, max_steps: int = 8, use_tools: bool = True
    ) -> ChatResult:
        """Send `text` and run the agent loop until an answer or `max_steps` model calls."""
        request = Chat(text=text, provider=provider, max_steps=max_steps, use_tools=use_tools)
        future: concurrent.futures.Future[ChatResult] = self._ask(request)
        return self._wait(future)

    def fork(self, name: str | None = None, *, upto: int | None = None) -> BranchRef:
        """Start a new Branch with this one's tools, providers and first `upto` messages."""
        new_name: str = self._ask(Fork(name, upto))
        return BranchRef(self.ref_system().lookup(new_name), timeout=self.timeout)

    def export(self, upto: int | None = None) -> dict[str, Any]:
        """Return the Branch's state (messages and logs) as JSON-compatible data."""
        result: dict[str, Any] = self._ask(Export(upto=upto))
        return result

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace the Branch's messages and logs with an exported state."""
        self._ask(Import(state=state))

    def info(self) -> BranchInfo:
        """Return a summary of the Branch."""
        result: BranchInfo = self._ask(Info())
        return result

    def stop(self) -> bool:
        """Stop the Branch (in-flight Events are cancelled)."""
        return self.ref.stop()

    def ref_system(self) -> ActorSystem:
        """Return the system hosting the Branch."""
        return self.ref._cell.system  # noqa: SLF001 - the handle and the runtime are one package family

    # -- async ----------------------------------------------------------------------

    async def aadd_message(self, message: Message | str) -> Message:
        """Async [`add_message()`][agentic.branches.BranchRef.add_message]."""
        result: Message = await self._aask(AddMessage(message=_as_message(message)))
        return result

    async def amessages(self, last: int | None = None) -> list[Message]:
        """Async [`messages()`][agentic.branches.BranchRef.messages]."""
        result: list[Message] = await self._aask(ReadMessages(last=last))
        return result

    async def ainvoke(self, tool: str, /, **arguments: Any) -> Event:
        """Async [`invoke()`][agentic.branches.BranchRef.invoke]."""
        future: concurrent.futures.Future[Event] = await self._aask(
            InvokeTool(tool=tool, arguments=arguments)
        )
        return await self._await(future)

    async def achat(
        self, text: str, *, provider: str | None = None, max_steps: int = 8, use_tools: bool = True
    ) -> ChatResult:
        """Async [`chat()`][agentic.branches.BranchRef.chat]."""
        request = Chat(text=text, provider=provider, max_steps=max_steps, use_tools=use_tools)
        future: concurrent.futures.Future[ChatResult] = await self._aask(request)
        return await self._await(future)

    async def aexport(self, upto: int | None = None) -> dict[str, Any]:
        """Async [`export()`][agentic.branches.BranchRef.export]."""
        result: dict[str, Any] = await self._aask(Export(upto=upto))
        return result

    async def ainfo(self) -> BranchInfo:
        """Async [`info()`][agentic.branches.BranchRef.info]."""
        result: BranchInfo = await self._aask(Info())
        return result

    # -- internals ------------------------------------------------------------------

    def _ask(self, message: Any) -> Any:
        return self.ref.ask(message, timeout=self.timeout)

    async def _aask(self, message: Any) -> Any:
        return await self.ref.ask_async(message, timeout=self.timeout)

    def _wait(self, future: concurrent.futures.Future[T]) -> T:
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError as exc:
            msg = f"branch {self.name!r} did not finish within {self.timeout} s"
            raise AskTimeoutError(msg, name=self.name, timeout=self.timeout) from exc

    async def _await(self, future: concurrent.futures.Future[T]) -> T:
        try:
            async with asyncio.timeout(self.timeout):
                return await asyncio.wrap_future(future)
        except TimeoutError as exc:
            msg = f"branch {self.name!r} did not finish within {self.timeout} s"
            raise AskTimeoutError(msg, name=self.name, timeout=self.timeout) from exc


def _as_message(message: Message | str) -> Message:
    return UserMessage(content=message) if isinstance(message, str) else message


def spawn_branch(
    system: ActorSystem,
    name: str | None = None,
    *,
    tools: Iterable[Tool | Callable[..., Any]] = (),
    providers: Mapping[str, Provider] | Sequence[Provider] | None = None,
    default_provider: str | None = None,
    policy: Policy | None = None,
    timeout: float | None = 60.0,
    attempts: int = 3,
    requests_per_second: float | None = None,
    state: dict[str, Any] | None = None,
    supervision: SupervisionPolicy | None = None,
    call_timeout: float = DEFAULT_TIMEOUT,
) -> BranchRef:
    """Spawn a Branch in `system` and return its handle.

    Args:
        system: The actor system that hosts it.
        name: A unique name (generated if None).
        tools: Tools (or typed callables) it may call.
        providers: Model providers; the offline provider if none.
        default_provider: The provider a chat uses when it names none.
        policy: The policy gate of its chain.
        timeout: Seconds per attempt of each tool or provider call.
        attempts: Attempts for retryable failures.
        requests_per_second: A rate limit per target, if any.
        state: An exported state to start from.
        supervision: Its supervision policy (the system's default if None).
        call_timeout: The default bound on each BranchRef call.
    """
    tools = list(tools)

    def build() -> Branch:
        return Branch(
            tools=tools,
            providers=providers,
            default_provider=default_provider,
            policy=policy,
            timeout=timeout,
            attempts=attempts,
            requests_per_second=requests_per_second,
            state=state,
        )

    ref: ActorRef[Branch] = system.spawn(build, name=name, supervision=supervision)
    return BranchRef(ref, timeout=call_timeout)

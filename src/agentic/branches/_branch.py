"""Branch: one line of agent work, as an actor that owns its Managers."""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

import orjson

from agentic.actors import Actor
from agentic.branches._convert import to_chat_messages
from agentic.branches._errors import BranchError, BranchStateError, ChatFailedError
from agentic.branches._log_manager import LogManager
from agentic.branches._message_manager import MessageManager
from agentic.branches._messages import (
    AssistantMessage,
    Message,
    ToolCallMessage,
    ToolResultMessage,
    UserMessage,
)
from agentic.branches._protocol import (
    AddMessage,
    BranchInfo,
    BranchStatus,
    Chat,
    ChatResult,
    Export,
    Import,
    Info,
    InvokeTool,
    ReadMessages,
)
from agentic.branches._provider_manager import ProviderManager
from agentic.branches._tool_manager import BranchResolver, ToolManager
from agentic.execution import AuditProcessor, Call, Executor, Policy, default_chain
from agentic.primitives import Event, EventStatus
from agentic.providers import ChatResponse, Provider
from agentic.tools import Tool

__all__ = ["STATE_FORMAT", "Branch", "Fork", "RegisterTool"]

STATE_FORMAT = 1
"""The version of the exported state document."""

_STOP_GRACE = 5.0


class RegisterTool(NamedTuple):
    """Add a tool to the Branch (local only: a tool is code, not a value)."""

    tool: Tool | Callable[..., Any]
    replace: bool = False


class Fork(NamedTuple):
    """Start a new Branch with this one's tools, providers and state up to `upto` messages."""

    name: str | None = None
    upto: int | None = None


class _Done(NamedTuple):
    event_id: UUID
    outcome: Any


@dataclass
class _ChatRun:
    future: concurrent.futures.Future[ChatResult]
    provider: str | None
    max_steps: int
    use_tools: bool
    steps: int = 0
    tool_calls: int = 0
    reply: AssistantMessage | None = None
    pending: set[str] = field(default_factory=set)
    added: list[str] = field(default_factory=list)


class Branch(Actor):
    """An actor holding a conversation, its tools and providers, and the log of what it did.

    It owns its Managers directly: [`messages`][agentic.branches.MessageManager],
    [`tools`][agentic.branches.ToolManager], [`providers`][agentic.branches.ProviderManager]
    and [`logs`][agentic.branches.LogManager]. Every tool and provider call is an Event
    through its Executor's chain on the runtime's asyncio loop; the mailbox never waits on
    it: the outcome comes back as a later message, and only then does the Branch change
    its state. Requests that finish later (`InvokeTool`, `Chat`) answer with a
    `concurrent.futures.Future` that the Branch resolves once its state is updated;
    [`BranchRef`][agentic.branches.BranchRef] waits on it for you.

    A restart (after a handler raised) keeps the Managers, the Executor and the
    requests in flight, so nothing a caller was promised is lost.
    """

    restart_keeps = (
        "messages",
        "tools",
        "providers",
        "logs",
        "executor",
        "status",
        "_runs",
        "_waiting",
    )

    def __init__(
        self,
        *,
        tools: Iterable[Tool | Callable[..., Any]] = (),
        providers: Mapping[str, Provider] | Sequence[Provider] | None = None,
        default_provider: str | None = None,
        policy: Policy | None = None,
        timeout: float | None = 60.0,
        attempts: int = 3,
        requests_per_second: float | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        """Create a Branch (spawn it with [`spawn_branch()`][agentic.branches.spawn_branch]).

        Args:
            tools: Tools (or typed callables) it may call.
            providers: Model providers by name; the offline provider if none.
            default_provider: The provider used when a chat names none.
            policy: The policy gate of its chain (default: allow unguarded tools).
            timeout: Seconds per attempt of a tool or provider call.
            attempts: Attempts for retryable failures (429, 5xx, ...).
            requests_per_second: A rate limit per target, if any.
            state: An exported state to start from.
        """
        self._options: dict[str, Any] = {
            "tools": tools,
            "providers": providers,
            "default_provider": default_provider,
            "policy": policy,
            "timeout": timeout,
            "attempts": attempts,
            "requests_per_second": requests_per_second,
        }
        self.status = BranchStatus.CREATED
        self.messages = MessageManager()
        self.logs = LogManager()
        self.tools = ToolManager(tools)
        self.providers = ProviderManager(providers, default_provider)
        chain = [
            AuditProcessor(self.logs.logs, lazy=False),
            *default_chain(
                audit=False,
                policy=policy,
                timeout=timeout,
                attempts=attempts,
                requests_per_second=requests_per_second,
            ),
        ]
        self.executor = Executor(BranchResolver(self.tools, self.providers), chain)
        self._waiting: dict[UUID, tuple[Event, Callable[[Event], None]]] = {}
        self._runs: list[_ChatRun] = []
        if state is not None:
            self._import(state)

    # -- lifecycle ------------------------------------------------------------------

    def on_start(self) -> None:
        """Become ready."""
        self.status = BranchStatus.READY

    def on_stop(self) -> None:
        """Stop the executor (cancelling what is in flight) and fail open requests."""
        self.status = BranchStatus.STOPPED
        try:
            future = self.context.system.run_coroutine(self.executor.stop(cancel_pending=True))
            future.result(timeout=_STOP_GRACE)
        except Exception:  # noqa: BLE001, S110 - the loop may already be gone at shutdown
            pass
        error = BranchStateError(
            f"branch {self.context.name!r} stopped", branch=self.context.name, state=self.status
        )
        for run in self._runs:
            if not run.future.done():
                run.future.set_exception(error)
        for event, _ in self._waiting.values():
            if not event.status.is_terminal:
                event.cancel("branch stopped")
        self._runs.clear()
        self._waiting.clear()

    # -- messages -------------------------------------------------------------------

    def receive(self, message: Any) -> Any:  # noqa: C901, PLR0911 - one case per message type
        """Handle one request (see the message types in `agentic.branches`)."""
        match message:
            case _Done(event_id, outcome):
                self._done(event_id, outcome)
                return None
            case AddMessage(message=m):
                return self.messages.add(m)
            case ReadMessages(last=last):
                return self.messages.read(last=last)
            case InvokeTool(tool=tool, arguments=arguments):
                return self._invoke(tool, arguments)
            case Chat():
                return self._chat(message)
            case Export(upto=upto):
                return self._export(upto)
            case Import(state=state):
                if self._waiting:
                    busy = len(self._waiting)
                    msg = f"branch {self.context.name!r} is running {busy} Events; import when idle"
                    raise BranchStateError(msg, branch=self.context.name, state=self.status)
                self._import(state)
                return None
            case Info():
                return self._info()
            case RegisterTool(tool=tool, replace=replace):
                return self.tools.register(tool, replace=replace).name
            case Fork(name=name, upto=upto):
                return self._fork(name, upto)
            case _:
                return super().receive(message)

    # -- tools ----------------------------------------------------------------------

    def _invoke(self, tool: str, arguments: dict[str, Any]) -> concurrent.futures.Future[Event]:
        future: concurrent.futures.Future[Event] = concurrent.futures.Future()
        call = Call(target=tool, arguments=arguments, caller=self.context.name, kind="tool")
        self._submit(call, future.set_result)
        return future

    def _submit(self, event: Event, then: Callable[[Event], None]) -> None:
        self._waiting[event.id] = (event, then)
        self.status = BranchStatus.RUNNING
        event_id = event.id
        self.context.run_async(
            self.executor.submit(event), lambda outcome: _Done(event_id, outcome)
        )

    def _done(self, event_id: UUID, outcome: Any) -> None:
        entry = self._waiting.pop(event_id, None)
        if not self._waiting:
            self.status = BranchStatus.READY
        if entry is None:
            return
        event, then = entry
        if not event.status.is_terminal:  # the submit itself was cancelled or broke
            reason = "cancelled" if isinstance(outcome, BaseException) else "abandoned"
            event.cancel(f"{reason}: {outcome!r}" if isinstance(outcome, Exception) else reason)
        then(event)

    # -- the agent loop -------------------------------------------------------------

    def _chat(self, request: Chat) -> concurrent.futures.Future[ChatResult]:
        self.providers.target_name(request.provider)  # fail fast on an unknown provider
        run = _ChatRun(
            future=concurrent.futures.Future(),
            provider=request.provider,
            max_steps=request.max_steps,
            use_tools=request.use_tools,
        )
        self._runs.append(run)
        self._add(run, UserMessage(content=request.text))
        self._ask_model(run)
        return run.future

    def _add(self, run: _ChatRun, message: Message) -> Message:
        self.messages.add(message)
        run.added.append(str(message.id))
        return message

    def _ask_model(self, run: _ChatRun) -> None:
        conversation = to_chat_messages(self.messages.read())
        tools = self.tools.specs() if run.use_tools else []
        call = Call(
            target=self.providers.target_name(run.provider),
            arguments={
                "messages": [m.model_dump(mode="json") for m in conversation],
                "tools": [t.model_dump(mode="json") for t in tools],
            },
            caller=self.context.name,
            kind="provider",
        )
        run.steps += 1
        self._submit(call, functools.partial(self._guard, run, self._model_done))

    def _guard(self, run: _ChatRun, step: Callable[[_ChatRun, Event], None], event: Event) -> None:
        # A bug in a continuation must reach the caller waiting on the chat, not only
        # the supervisor.
        try:
            step(run, event)
        except Exception as exc:
            self._finish(run, error=exc)
            raise

    def _model_done(self, run: _ChatRun, event: Event) -> None:
        if event.status is not EventStatus.COMPLETED:
            execution = event.execution
            why = (
                execution.error.message
                if execution.error
                else execution.reason or str(event.status)
            )
            name = self.context.name
            msg = f"branch {name!r}: provider call {event.id} ended {event.status}: {why}"
            self._finish(run, error=ChatFailedError(msg, branch=self.context.name, event=event))
            return
        response = ChatResponse.model_validate(event.execution.response)
        if response.content or not response.tool_calls:
            usage = {
                "input_tokens": response.usage.input_tokens,
                "output_tokens": response.usage.output_tokens,
            }
            reply = AssistantMessage(
                content=response.content, provider=response.provider or None, usage=usage
            )
            self._add(run, reply)
            run.reply = reply
        if not response.tool_calls:
            self._finish(run, stopped="answer")
            return
        run.reply = None
        for request in response.tool_calls:
            self._add(
                run,
                ToolCallMessage(call_id=request.id, tool=request.name, arguments=request.arguments),
            )
            run.pending.add(request.id)
        for request in response.tool_calls:
            call = Call(
                target=request.name,
                arguments=request.arguments,
                caller=self.context.name,
                kind="tool",
            )
            call.metadata["tool_call_id"] = request.id
            step = functools.partial(self._tool_done, call_id=request.id, tool=request.name)
            self._submit(call, functools.partial(self._guard, run, step))

    def _tool_done(self, run: _ChatRun, event: Event, *, call_id: str, tool: str) -> None:
        execution = event.execution
        if event.status is EventStatus.COMPLETED:
            content = _as_text(execution.response)
            is_error = False
        else:
            detail = execution.error.message if execution.error else execution.reason or ""
            content = f"error: tool {tool!r} {event.status}: {detail}"
            is_error = True
        self._add(
            run,
            ToolResultMessage(
                call_id=call_id,
                tool=tool,
                content=content,
                is_error=is_error,
                event_id=str(event.id),
            ),
        )
        run.tool_calls += 1
        run.pending.discard(call_id)
        if run.pending:
            return
        if run.steps >= run.max_steps:
            self._finish(run, stopped="max_steps")
        else:
            self._ask_model(run)

    def _finish(
        self, run: _ChatRun, *, stopped: str = "answer", error: Exception | None = None
    ) -> None:
        if run in self._runs:
            self._runs.remove(run)
        if run.future.done():
            return
        if error is not None:
            run.future.set_exception(error)
            return
        run.future.set_result(
            ChatResult(
                reply=run.reply,
                steps=run.steps,
                tool_calls=run.tool_calls,
                stopped="answer" if stopped == "answer" else "max_steps",
                message_ids=run.added,
            )
        )

    # -- state ----------------------------------------------------------------------

    def _export(self, upto: int | None = None) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "messages": self.messages.fork(upto).to_dict(),
            "logs": self.logs.to_dict(),
        }

    def _import(self, state: Any) -> None:
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            found = state.get("format") if isinstance(state, dict) else type(state).__name__
            msg = f"not a branch state document (format {found!r}, expected {STATE_FORMAT})"
            raise BranchError(msg)
        try:  # build everything before replacing anything
            messages = MessageManager.from_dict(state["messages"])
            logs = LogManager.parse(state["logs"])
        except (KeyError, TypeError) as exc:
            msg = f"branch state document is missing or mangles {exc}"
            raise BranchError(msg) from exc
        self.messages = messages
        self.logs.replace(logs)

    def _info(self) -> BranchInfo:
        return BranchInfo(
            name=self.context.name,
            status=self.status,
            messages=len(self.messages),
            logs=len(self.logs.logs),
            in_flight=len(self._waiting),
            tools=self.tools.names(),
            providers=self.providers.names(),
            default_provider=self.providers.default,
        )

    def _fork(self, name: str | None, upto: int | None) -> str:
        options = dict(self._options)
        options["tools"] = list(self.tools.registry)
        state = self._export(upto)
        ref = self.context.system.spawn(lambda: Branch(state=state, **options), name=name)
        return ref.name


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()

"""Branch: one line of agent work, as an actor that owns its Managers."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from pydantic import ValidationError

from agentic.actors import Actor, ActorError
from agentic.branches._agent import AgentLoop
from agentic.branches._cancel import CancelHandlers
from agentic.branches._chain import branch_chain, copy_event
from agentic.branches._errors import BranchError, BranchStoppedError
from agentic.branches._log_manager import LogManager
from agentic.branches._message_manager import MessageManager
from agentic.branches._protocol import (
    Accepted,
    AddMessage,
    BranchInfo,
    BranchStatus,
    Cancel,
    Chat,
    ChatModel,
    Export,
    Import,
    Info,
    InvokeTool,
    Outcome,
    PlanStep,
    ReadMessages,
    Rejected,
    RunPlan,
    reply_topic,
)
from agentic.branches._provider_manager import ProviderManager
from agentic.branches._state import STATE_FORMAT, BranchStateHandlers
from agentic.branches._tool_manager import BranchResolver, ToolManager
from agentic.execution import Call, Executor, Policy
from agentic.primitives import Event, Pile
from agentic.providers import Provider
from agentic.tools import Tool, ToolError

if TYPE_CHECKING:
    from agentic.branches._journal import JournalWriter

__all__ = ["STATE_FORMAT", "Branch", "Fork", "RegisterTool", "SnapshotJournal"]

_STOP_GRACE = 5.0
_TURNS = (Chat, RunPlan, ChatModel)
# A refused request answers Rejected: the Branch is fine, so supervision is not involved.
_REQUEST_ERRORS = (BranchError, ToolError, ActorError, ValidationError)


class RegisterTool(NamedTuple):
    """Add a tool to the Branch (local only: a tool is code, not a value)."""

    tool: Tool | Callable[..., Any]
    replace: bool = False


class Fork(NamedTuple):
    """Start a new Branch with this one's tools, providers and state up to `upto` messages."""

    name: str | None = None
    upto: int | None = None


class SnapshotJournal(NamedTuple):
    """Save the Branch's state as a snapshot of its journal; answers the Snapshot."""


class _Done(NamedTuple):
    event_id: UUID
    outcome: Any


class Branch(AgentLoop, BranchStateHandlers, CancelHandlers, Actor):
    """An actor holding a conversation, its tools and providers, and the log of what it did.

    It owns its Managers directly: [`messages`][agentic.branches.MessageManager],
    [`tools`][agentic.branches.ToolManager], [`providers`][agentic.branches.ProviderManager]
    and [`logs`][agentic.branches.LogManager], plus `steps` (a Pile of the
    [`PlanStep`][agentic.branches.PlanStep]s its plans ran, made by the first plan).
    Every tool and provider call is an Event through its Executor's chain (audit →
    usage → validation → policy → rate limit → concurrency → retry → timeout) on the
    runtime's asyncio loop; the
    mailbox never waits on it: the outcome comes back as a later message, and only
    then does the Branch change its state.

    **Turns.** A chat, a plan or a structured chat is a *turn*; turns run one at a
    time in arrival order, and messages added during a turn wait behind it, so a
    turn's messages (user text, tool calls, their results, the answer) stay together.
    Tool calls of one model answer run concurrently. [`Cancel`][agentic.branches.Cancel]
    ends a queued or running turn early (a `BranchRef` sends it when its caller stops
    waiting).

    **Lifecycle.** `created` (built, not started) → `ready` (idle) ⇄ `running` (a turn
    or an Event in flight) → `stopped`. Importing a state is refused unless idle; a
    stopped Branch takes nothing, and every open request ends with
    [`BranchStoppedError`][agentic.branches.BranchStoppedError] (its Events are
    cancelled); a message added during a turn still joins the conversation.

    **Failures.** A refused request (unknown provider, bad state document, a fork
    name in use...) answers [`Rejected`][agentic.branches.Rejected]; the Branch goes
    on as it was. Anything else a handler raises (a bug, a Manager failing) reaches
    the caller and the supervisor; a restart keeps the Managers, the executor, the
    turns and the Events in flight, so nothing a caller was promised is lost.
    """

    restart_keeps = (
        "messages",
        "tools",
        "providers",
        "logs",
        "executor",
        "status",
        "_turn",
        "_queue",
        "_waiting",
        "_open",
        "_options",
        "steps",
        "_journal",
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
        concurrency: int | None = 64,
        max_logs: int | None = None,
        state: dict[str, Any] | None = None,
        journal: JournalWriter | None = None,
    ) -> None:
        """Create a Branch (spawn it with [`spawn_branch()`][agentic.branches.spawn_branch]).

        Args:
            tools: Tools (or typed callables) it may call.
            providers: Model providers by name; the offline provider if none.
            default_provider: The provider used when a chat names none.
            policy: The policy gate of its chain (default: allow unguarded tools).
            timeout: Seconds per attempt of a tool or provider call.
            attempts: Attempts for retryable failures (429, 5xx, ...), which wait
                at least the `retry_after` the provider sent.
            requests_per_second: A rate limit per target (each provider is its own
                target, `provider:<name>`), if any.
            concurrency: The most Events in flight per target.
            max_logs: Keep only the newest this many Logs (None: all of them).
            state: An exported state to start from.
            journal: Record every change in an event store (see
                [`BranchJournal`][agentic.branches.BranchJournal]); a writer that
                replayed an existing stream brings the state to start from.
        """
        self._options: dict[str, Any] = {
            "tools": tools,
            "providers": providers,
            "default_provider": default_provider,
            "policy": policy,
            "timeout": timeout,
            "attempts": attempts,
            "requests_per_second": requests_per_second,
            "concurrency": concurrency,
            "max_logs": max_logs,
        }
        self.status = BranchStatus.CREATED
        self.messages = MessageManager()
        self.logs = LogManager(max_logs=max_logs)
        self.steps: Pile[PlanStep] | None = None  # made by the first plan
        self.tools = ToolManager(tools)
        self.providers = ProviderManager(providers, default_provider)
        chain = branch_chain(self.logs, policy, timeout, attempts, requests_per_second, concurrency)
        self.executor = Executor(BranchResolver(self.tools, self.providers), chain)
        # Event id -> (Event, the step that continues with it, its first arguments).
        self._waiting: dict[UUID, tuple[Event, str, tuple[Any, ...]]] = {}
        self._turn: Any = None
        self._queue: list[Any] = []  # a list: 56 bytes while empty, a deque's block is 600
        self._open: set[UUID] = set()
        self._info_cache: tuple[tuple[Any, ...], BranchInfo] | None = None
        if state is not None:
            self._import(state)
        self._journal = journal
        if journal is not None and not journal.attached:  # not on a restart
            if journal.state is not None:
                self._import(journal.state)
            journal.attach(self)

    # -- lifecycle ------------------------------------------------------------------

    def on_start(self) -> None:
        """Become ready; streamed text goes to the system's bus."""
        self.providers.bind(self.context.system.bus.publish)
        self.status = BranchStatus.READY

    def on_stop(self) -> None:
        """Cancel the Events in flight, end every open request, and become stopped.

        Messages added during the turn cut short join the conversation (their callers
        were answered); queued turns end with the other open requests.
        """
        self.status = BranchStatus.STOPPED
        try:
            future = self.context.system.run_coroutine(self.executor.stop(cancel_pending=True))
            future.result(timeout=_STOP_GRACE)
        except Exception:  # noqa: BLE001, S110 - the loop may already be gone at shutdown
            pass
        for event, _, _ in self._waiting.values():
            if not event.status.is_terminal:
                event.cancel("branch stopped")
        self._waiting.clear()
        self._turn = None
        queued, self._queue = self._queue, []
        name = self.context.name
        for ticket in list(self._open):
            msg = f"branch {name!r} stopped before request {ticket} finished"
            self._reply(ticket, error=BranchStoppedError(msg, branch=name))
        # After the replies: a Manager refusing one of these must not leave callers waiting.
        for request in queued:  # already answered: it joins the conversation as promised
            if isinstance(request, AddMessage):
                self.messages.add(request.message)
        if self._journal is not None:  # e.g. the Logs of the Events just cancelled
            with contextlib.suppress(Exception):  # the store may be closed at shutdown
                self._journal.sync(self)

    def _refresh(self) -> None:
        if self.status is not BranchStatus.STOPPED:
            busy = self._waiting or self._turn is not None
            self.status = BranchStatus.RUNNING if busy else BranchStatus.READY

    # -- messages -------------------------------------------------------------------

    def receive(self, message: Any) -> Any:
        """Handle one request (see the message types in `agentic.branches`).

        A journaled Branch appends what the handler changed before it answers; if
        that append fails, the handler fails with the store's error (the changes
        stay in memory and the next handler appends them).
        """
        try:
            return self._handle(message)
        except _REQUEST_ERRORS as exc:
            if isinstance(exc, BranchError) and exc.branch is None:
                exc.branch = self.context.name
            return Rejected(exc)
        finally:
            if self._journal is not None:
                self._journal.sync(self)

    def _handle(self, message: Any) -> Any:  # noqa: C901, PLR0911, PLR0912 - one case per type
        match message:
            case _Done(event_id, outcome):
                self._done(event_id, outcome)
                return None
            case AddMessage(message=m):
                if self._turn is not None:
                    self._queue.append(message)
                    return m
                return self.messages.add(m)
            case ReadMessages(last=last):
                return self.messages.read(last=last)
            case Info():
                return self._info()
            case InvokeTool():
                return self._invoke(message)
            case Chat() | RunPlan() | ChatModel():
                return self._accept_turn(message)
            case Cancel(ticket=ticket, reason=reason):
                return self._cancel_request(ticket, reason)
            case Export(upto=upto):
                return self._export(upto)
            case Import(state=state):
                self._import_when_idle(state)
                return None
            case RegisterTool(tool=tool, replace=replace):
                return self.tools.register(tool, replace=replace).name
            case Fork(name=name, upto=upto):
                return self._fork(name, upto)
            case SnapshotJournal():
                return self._snapshot_journal()
            case _:
                return super().receive(message)

    def _reply(
        self, ticket: UUID | None, result: Any = None, error: Exception | None = None
    ) -> None:
        if ticket is None:
            return
        self._open.discard(ticket)
        if self._journal is not None and self.status is not BranchStatus.STOPPED:
            try:  # an answered change is a recorded change
                self._journal.sync(self)
            except Exception as exc:  # noqa: BLE001 - the caller hears of it; receive re-raises
                result, error = None, exc
        self.context.publish(reply_topic(self.context.name, ticket), Outcome(ticket, result, error))

    # -- events ---------------------------------------------------------------------

    def _invoke(self, request: InvokeTool) -> Accepted | None:
        call = Call(
            target=request.tool, arguments=request.arguments, caller=self.context.name, kind="tool"
        )
        ticket = request.ticket
        if ticket is not None:
            self._open.add(ticket)
        self._submit(call, "_invoked", ticket)
        return None if ticket is None else Accepted(ticket)

    def _invoked(self, ticket: UUID | None, event: Event) -> None:
        self._reply(ticket, copy_event(event))
        self.logs.audit.flush()  # after the answer: pending Logs stay few

    def _submit(self, event: Event, step: str, *args: Any) -> None:
        self._waiting[event.id] = (event, step, args)
        self.status = BranchStatus.RUNNING
        self.context.run_async(self.executor.submit(event), functools.partial(_Done, event.id))

    def _done(self, event_id: UUID, outcome: Any) -> None:
        entry = self._waiting.pop(event_id, None)
        # The Branch keeps Events only as Logs: the executor need not hold them.
        self.executor.events.exclude(event_id)
        if entry is not None:
            event, step, args = entry
            if not event.status.is_terminal:  # the submit itself was cancelled or broke
                reason = (
                    f"abandoned: {outcome!r}" if isinstance(outcome, Exception) else "abandoned"
                )
                event.cancel(reason)
            try:
                self._resume(step, args, event)
            finally:
                self._refresh()
        else:
            self._refresh()

    # -- turns ----------------------------------------------------------------------

    def _accept_turn(self, request: Chat | RunPlan | ChatModel) -> Accepted | None:
        self.providers.target_name(request.provider)  # refuse an unknown provider now
        ticket = request.ticket
        if ticket is not None:
            self._open.add(ticket)
        if self._turn is None and not self._queue:
            self._begin(request)
        else:
            self._queue.append(request)
        return None if ticket is None else Accepted(ticket)

    def _begin(self, request: Any) -> None:
        if isinstance(request, AddMessage):
            self.messages.add(request.message)
            return
        finish = ("_turn_finished", (request.ticket,))
        self.status = BranchStatus.RUNNING
        self._turn = request  # marks the Branch busy while the first call is set up
        try:
            match request:
                case Chat():
                    run: Any = self._start_chat(request, finish)
                case RunPlan():
                    run = self._start_plan(request, finish)
                case _:
                    run = self._start_structured(request, finish)
        except Exception:
            self._turn = None
            if request.ticket is not None:
                self._open.discard(request.ticket)
            raise
        if not run.done:  # a run that ended at once has already handed over the turn
            self._turn = run

    def _turn_finished(self, ticket: UUID | None, result: Any, error: Exception | None) -> None:
        self._turn = None
        try:
            self._reply(ticket, result, error)
            # Build the turn's Logs now that its caller has the answer, so pending
            # snapshots never pile up in a Branch whose Logs nobody reads.
            self.logs.audit.flush()
        finally:  # even if that failed: the turns behind this one must still start
            self._next_turns()

    def _next_turns(self) -> None:
        while self._queue and self._turn is None:
            request = self._queue.pop(0)
            try:
                self._begin(request)
            except Exception as exc:  # noqa: BLE001 - reported to that request's caller
                self._turn = None
                self._reply(getattr(request, "ticket", None), error=exc)
        self._refresh()

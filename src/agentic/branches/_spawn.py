"""spawn_branch: start a Branch in an actor system and get its handle."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from agentic.actors import ActorRef, ActorSystem, SupervisionPolicy
from agentic.branches._branch import Branch
from agentic.branches._journal import BranchJournal
from agentic.branches._ref import DEFAULT_TIMEOUT, BranchRef
from agentic.execution import Policy
from agentic.providers import Provider
from agentic.store import EventStore
from agentic.tools import Tool

__all__ = ["spawn_branch"]


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
    concurrency: int | None = 64,
    max_logs: int | None = None,
    state: dict[str, Any] | None = None,
    supervision: SupervisionPolicy | None = None,
    mailbox_size: int | None = None,
    call_timeout: float = DEFAULT_TIMEOUT,
    journal: BranchJournal | EventStore | None = None,
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
        attempts: Attempts for retryable failures (429 and 5xx honour `retry_after`).
        requests_per_second: A rate limit per target (each provider is one target).
        concurrency: The most Events in flight per target.
        max_logs: Keep only the newest this many Logs (None: all of them).
        state: An exported state to start from.
        supervision: Its supervision policy (the system's default if None).
        mailbox_size: Its mailbox bound (the system's default if None).
        call_timeout: The default bound on each BranchRef call.
        journal: Record every change in this journal (an event store: the default
            journal of that store, stream `branch-<name>`). An existing stream is
            replayed now and the Branch continues from it; a new one starts with
            the Branch's initial state (`state`, if given).

    Raises:
        ValueError: A journal without a name or fixed stream, or `state` given for
            a stream that already holds a Branch.
        CorruptRecordError: The journal's stream cannot be replayed.
    """
    tools = list(tools)
    writer = None
    if journal is not None:
        if not isinstance(journal, BranchJournal):
            journal = BranchJournal(journal)
        writer = journal.open(name)
        if writer.state is not None and state is not None:
            msg = f"stream {writer.stream!r} already holds a branch: do not pass a state too"
            raise ValueError(msg)

    def build() -> Branch:
        return Branch(
            tools=tools,
            providers=providers,
            default_provider=default_provider,
            policy=policy,
            timeout=timeout,
            attempts=attempts,
            requests_per_second=requests_per_second,
            concurrency=concurrency,
            max_logs=max_logs,
            state=state,
            journal=writer,
        )

    ref: ActorRef[Branch] = system.spawn(
        build, name=name, supervision=supervision, mailbox_size=mailbox_size
    )
    return BranchRef(ref, timeout=call_timeout)

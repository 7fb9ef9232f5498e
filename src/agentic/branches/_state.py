"""The state side of a Branch: its exported document, import, fork, summary and snapshot.

Everything here runs in the Branch's handlers (its actor thread), like the agent loop.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agentic.branches._errors import BranchError, BranchStateError
from agentic.branches._log_manager import LogManager
from agentic.branches._message_manager import MessageManager
from agentic.branches._protocol import BranchInfo, BranchStatus, PlanStep
from agentic.branches._runs import turn_messages
from agentic.errors import AgenticError

if TYPE_CHECKING:
    from agentic.actors import ActorContext
    from agentic.branches._journal import JournalWriter
    from agentic.branches._provider_manager import ProviderManager
    from agentic.branches._tool_manager import ToolManager
    from agentic.primitives import Log, Pile
    from agentic.store import Snapshot

__all__ = ["STATE_FORMAT", "BranchStateHandlers", "parse_state"]

STATE_FORMAT = 1
"""The version of the exported state document."""


def parse_state(state: Any) -> tuple[MessageManager, list[Log], list[PlanStep]]:
    """Read an exported state document into its parts (as `Branch` imports it).

    Raises:
        BranchError: `state` is not a branch state document.
    """
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        msg = f"not a branch state document (format {found!r}, expected {STATE_FORMAT})"
        raise BranchError(msg)
    try:  # build everything before replacing anything
        messages = MessageManager.from_dict(state["messages"])
        logs = LogManager.parse(state["logs"])
        steps = [PlanStep.from_dict(item) for item in state.get("steps", [])]
    except (KeyError, TypeError, AgenticError, ValidationError) as exc:
        msg = f"branch state document is missing or mangles {exc}"
        raise BranchError(msg) from exc
    return messages, logs, steps


class BranchStateHandlers:
    """The state handlers a [`Branch`][agentic.branches.Branch] mixes in (not used alone)."""

    messages: MessageManager
    logs: LogManager
    tools: ToolManager
    providers: ProviderManager
    steps: Pile[PlanStep] | None
    status: BranchStatus
    _journal: JournalWriter | None
    _waiting: dict[Any, Any]
    _turn: Any
    _queue: list[Any]
    _options: dict[str, Any]
    _info_cache: tuple[tuple[Any, ...], BranchInfo] | None

    if TYPE_CHECKING:  # provided by Actor and by AgentLoop

        @property
        def context(self) -> ActorContext:
            """The actor context."""

        def plan_steps(self) -> Pile[PlanStep]: ...

    def _export(self, upto: int | None = None) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "messages": self.messages.fork(upto).to_dict(),
            "logs": self.logs.to_dict(),
            "steps": [step.to_dict() for step in self.steps or ()],
        }

    def _import_when_idle(self, state: Any) -> None:
        if self._waiting or self._turn is not None or self._queue:
            name = self.context.name
            msg = f"branch {name!r} is {self.status}; import its state when idle"
            raise BranchStateError(msg, branch=name, state=self.status)
        self._import(state)

    def _import(self, state: Any) -> None:
        messages, logs, steps = parse_state(state)
        self.messages = messages
        self.logs.replace(logs)
        if self.steps is not None or steps:
            self.plan_steps().clear()
            self.plan_steps().include(steps)

    def _fork(self, name: str | None, upto: int | None) -> str:
        # A fork never copies a turn in progress: its messages are the newest ones.
        settled = len(self.messages) - turn_messages(self._turn)
        upto = settled if upto is None else min(max(upto, 0), settled)
        options = dict(self._options)
        options["tools"] = list(self.tools.registry)
        state = self._export(upto)
        branch: Any = type(self)  # the Branch class this mixin is part of
        build = functools.partial(branch, state=state, **options)
        try:
            ref = self.context.system.spawn(build, name=name)
        except ValueError as exc:  # a bad name: the request is wrong, not the Branch
            msg = f"branch {self.context.name!r} cannot fork as {name!r}: {exc}"
            raise BranchError(msg) from exc
        return ref.name

    def _snapshot_journal(self) -> Snapshot | None:
        if self._journal is None:
            msg = f"branch {self.context.name!r} has no journal to snapshot"
            raise BranchError(msg, branch=self.context.name)
        return self._journal.snapshot(self)  # type: ignore[arg-type]  # always a Branch

    def _info(self) -> BranchInfo:
        # BranchInfo is frozen, so one answer can serve every asker until something it
        # shows changes (the key is cheap to compute; building the model is not).
        key = (
            self.status,
            len(self.messages),
            len(self.logs.logs),
            len(self._waiting),
            len(self._queue),
            len(self.tools.registry),
        )
        cached = self._info_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        info = BranchInfo(
            name=self.context.name,
            status=self.status,
            messages=key[1],
            logs=key[2],
            in_flight=key[3],
            tools=self.tools.names(),
            providers=self.providers.names(),
            default_provider=self.providers.default,
            queued=key[4],
        )
        self._info_cache = (key, info)
        return info

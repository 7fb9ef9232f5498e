"""The targets of a run: chat steps go to Branches, tool steps to the run's tools."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from agentic.branches import BranchRef, SystemMessage
from agentic.execution import ArgumentValidationError, Target, TargetNotFoundError
from agentic.tools import ToolRegistry

__all__ = ["BRANCH_PREFIX", "ChatTarget", "RunResolver"]

BRANCH_PREFIX = "branch:"
"""Chat steps are Calls to `branch:<name>`."""


class ChatTarget:
    """A Target that sends a message to a Branch and returns its answer."""

    def __init__(self, name: str, branch: BranchRef, max_steps: int) -> None:
        self.name = BRANCH_PREFIX + name
        self.branch = branch
        self._max_steps = max_steps
        self._system: str | None = None  # the system prompt this run set last
        # A step's system prompt and its message reach the Branch together.
        self._lock = asyncio.Lock()

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        message = arguments.get("message")
        if not isinstance(message, str) or not message:
            msg = f"{self.name}: 'message' must be a non-empty string"
            raise ArgumentValidationError(msg, target=self.name)
        system = arguments.get("system")
        if system is None:
            return {"message": message}
        if not isinstance(system, str):
            msg = f"{self.name}: 'system' must be a string"
            raise ArgumentValidationError(msg, target=self.name)
        return {"message": message, "system": system}

    async def invoke(self, arguments: dict[str, Any]) -> Any:
        async with self._lock:
            system = arguments.get("system")
            if system and system != self._system:
                await self.branch.aadd_message(SystemMessage(content=system))
                self._system = system
            result = await self.branch.achat(arguments["message"], max_steps=self._max_steps)
        return {
            "reply": result.content,
            "steps": result.steps,
            "tool_calls": result.tool_calls,
            "stopped": result.stopped,
        }


class RunResolver:
    """Resolves `branch:<name>` to the run's chat targets and anything else to its tools."""

    def __init__(self, tools: ToolRegistry, chats: Mapping[str, ChatTarget]) -> None:
        self._tools = tools
        self._chats = chats

    def resolve(self, name: str) -> Target:
        if name.startswith(BRANCH_PREFIX):
            found = self._chats.get(name.removeprefix(BRANCH_PREFIX))
            if found is None:
                msg = f"no branch {name.removeprefix(BRANCH_PREFIX)!r} in this run"
                raise TargetNotFoundError(msg, name=name)
            return found
        return self._tools.resolve(name)

"""The messages a Branch actor understands, and what it answers.

Every message is a frozen pydantic model, so it serializes: the same Branch can later
be hosted by an engine that ships messages between processes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agentic.branches._messages import AssistantMessage, Message

__all__ = [
    "AddMessage",
    "BranchInfo",
    "BranchStatus",
    "Chat",
    "ChatResult",
    "Export",
    "Import",
    "Info",
    "InvokeTool",
    "ReadMessages",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class BranchStatus(StrEnum):
    """Where a Branch is in its life.

    `created` → `ready` (started, idle) ⇄ `running` (has Events in flight) → `stopped`.
    """

    CREATED = "created"
    READY = "ready"
    RUNNING = "running"
    STOPPED = "stopped"


class AddMessage(BaseModel):
    """Append a message to the conversation; answers the message."""

    model_config = _FROZEN
    message: Message


class ReadMessages(BaseModel):
    """Answer the conversation's messages in order (the last `last`, if given)."""

    model_config = _FROZEN
    last: int | None = None


class InvokeTool(BaseModel):
    """Run a tool as an Event through the Branch's chain; answers the finished Event."""

    model_config = _FROZEN
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Chat(BaseModel):
    """Send a user message and run the agent loop until a final answer or the step limit."""

    model_config = _FROZEN
    text: str
    provider: str | None = None
    max_steps: int = Field(default=8, ge=1, le=1000)
    use_tools: bool = True


class Export(BaseModel):
    """Answer the Branch's whole state as JSON-compatible data (the first `upto` messages)."""

    model_config = _FROZEN
    upto: int | None = None


class Import(BaseModel):
    """Replace the Branch's messages and logs with an exported state (only when idle)."""

    model_config = _FROZEN
    state: dict[str, Any]


class Info(BaseModel):
    """Answer a [`BranchInfo`][agentic.branches.BranchInfo]."""

    model_config = _FROZEN


class BranchInfo(BaseModel):
    """A summary of a Branch."""

    model_config = _FROZEN
    name: str
    status: BranchStatus
    messages: int
    logs: int
    in_flight: int
    tools: list[str]
    providers: list[str]
    default_provider: str


class ChatResult(BaseModel):
    """How a chat (one run of the agent loop) ended."""

    model_config = ConfigDict(frozen=True)
    reply: AssistantMessage | None
    """The final answer (None when the step limit stopped the loop first)."""
    steps: int
    """Provider calls made."""
    tool_calls: int
    """Tool calls run."""
    stopped: Literal["answer", "max_steps"]
    """Why the loop ended."""
    message_ids: list[str]
    """The messages this chat added, in conversation order."""

    @property
    def content(self) -> str:
        """The final answer's text ("" when there is none)."""
        return self.reply.content if self.reply is not None else ""

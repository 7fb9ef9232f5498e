"""Typed messages of a conversation: system, user, assistant, tool call and tool result."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from agentic.primitives import Element

__all__ = [
    "AssistantMessage",
    "Message",
    "Role",
    "SystemMessage",
    "ToolCallMessage",
    "ToolResultMessage",
    "UserMessage",
]


class Role(StrEnum):
    """Who speaks in a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class Message(Element):
    """A message of a Branch's conversation.

    Messages are frozen: a Branch hands the same objects to every reader, so nobody
    can change its conversation from outside (and a copy is never needed).
    """

    model_config = ConfigDict(frozen=True)
    type_name: ClassVar[str] = "Message"
    role: ClassVar[Role]

    def __hash__(self) -> int:
        """Hash by id (identity is the id, as for every Element)."""
        return hash(self.id)

    content: str = ""
    """The text of the message."""


class SystemMessage(Message):
    """Instructions for the model."""

    type_name: ClassVar[str] = "SystemMessage"
    role: ClassVar[Role] = Role.SYSTEM


class UserMessage(Message):
    """What the user (or the host) said."""

    type_name: ClassVar[str] = "UserMessage"
    role: ClassVar[Role] = Role.USER


class AssistantMessage(Message):
    """What the model answered (text; tool calls follow as ToolCallMessages)."""

    type_name: ClassVar[str] = "AssistantMessage"
    role: ClassVar[Role] = Role.ASSISTANT

    provider: str | None = None
    """The provider that produced it."""
    usage: dict[str, int] = Field(default_factory=dict)
    """Token counts the provider reported."""
    cost: float | None = None
    """The price of `usage`, when the provider has a pricing."""


class ToolCallMessage(Message):
    """The model asked for a tool to be called."""

    type_name: ClassVar[str] = "ToolCallMessage"
    role: ClassVar[Role] = Role.ASSISTANT

    call_id: str
    """The provider's id for the call; the result cites it."""
    tool: str
    """The tool's name."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """The arguments the model gave."""


class ToolResultMessage(Message):
    """The result of a tool call (or its error), sent back to the model."""

    type_name: ClassVar[str] = "ToolResultMessage"
    role: ClassVar[Role] = Role.TOOL

    call_id: str
    """The id of the ToolCallMessage this answers."""
    tool: str
    """The tool's name."""
    is_error: bool = False
    """Whether the call failed (content then holds the error)."""
    event_id: str | None = None
    """The id of the Event that ran the call, for the audit trail."""

"""Turn a Branch's typed Messages into the wire-neutral ChatMessages providers speak."""

from __future__ import annotations

from collections.abc import Iterable

from agentic.branches._messages import (
    AssistantMessage,
    Message,
    SystemMessage,
    ToolCallMessage,
    ToolResultMessage,
    UserMessage,
)
from agentic.providers import ChatMessage, ToolCall

__all__ = ["to_chat_messages"]


def to_chat_messages(messages: Iterable[Message]) -> list[ChatMessage]:
    """Convert a conversation, in order.

    An AssistantMessage and the ToolCallMessages right after it become one assistant
    ChatMessage with tool calls (tool calls with no assistant text before them get an
    empty one), which is how both OpenAI's and Anthropic's APIs expect them.
    """
    result: list[ChatMessage] = []
    for message in messages:
        match message:
            case SystemMessage():
                result.append(ChatMessage.system(message.content))
            case UserMessage():
                result.append(ChatMessage.user(message.content))
            case ToolCallMessage():
                call = ToolCall(id=message.call_id, name=message.tool, arguments=message.arguments)
                last = result[-1] if result else None
                if last is not None and last.role == "assistant":
                    result[-1] = last.model_copy(update={"tool_calls": (*last.tool_calls, call)})
                else:
                    result.append(ChatMessage.assistant("", tool_calls=(call,)))
            case AssistantMessage():
                result.append(ChatMessage.assistant(message.content))
            case ToolResultMessage():
                result.append(
                    ChatMessage.tool(
                        message.content,
                        tool_call_id=message.call_id,
                        name=message.tool,
                        is_error=message.is_error,
                    )
                )
            case _:
                result.append(ChatMessage.user(message.content))
    return result

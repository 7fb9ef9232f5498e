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
    empty one), which is how both OpenAI's and Anthropic's APIs expect them. A tool
    call with no result after it (a state exported in the middle of a turn, say) gets
    an error result, since both APIs refuse a call left unanswered.
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
    return _answer_every_call(result)


_UNANSWERED = "error: this tool call has no result (it never finished)"


def _answer_every_call(messages: list[ChatMessage]) -> list[ChatMessage]:
    fixed: list[ChatMessage] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        fixed.append(message)
        index += 1
        if not message.tool_calls:
            continue
        answered: set[str | None] = set()
        while index < len(messages) and messages[index].role == "tool":
            answered.add(messages[index].tool_call_id)
            fixed.append(messages[index])
            index += 1
        fixed.extend(
            ChatMessage.tool(_UNANSWERED, tool_call_id=call.id, name=call.name, is_error=True)
            for call in message.tool_calls
            if call.id not in answered
        )
    return fixed

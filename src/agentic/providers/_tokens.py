"""A deterministic token-count heuristic (no tokenizer, no network)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from agentic.providers._models import ChatMessage, ToolSpec

__all__ = ["MESSAGE_OVERHEAD", "count_message_tokens", "count_tokens"]

MESSAGE_OVERHEAD = 3
"""Tokens charged per message for its role and framing (as OpenAI's guide estimates)."""


def count_tokens(text: str) -> int:
    """Estimate the tokens of `text`: each whitespace-separated word costs ceil(len / 4).

    Real tokenizers average about four characters of English per token; counting per
    word keeps the estimate stable under re-chunking of whitespace.

    Example:
        >>> count_tokens("hello wonderful world")  # 2 + 3 + 2
        7
    """
    return sum((len(word) + 3) // 4 for word in text.split())


def count_message_tokens(
    messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] | None = None
) -> int:
    """Estimate the prompt tokens of a conversation and the tools offered with it.

    Each message costs `MESSAGE_OVERHEAD` plus its content, plus its tool calls'
    names and JSON arguments; each tool costs its name, description and schema.
    """
    total = 0
    for message in messages:
        total += MESSAGE_OVERHEAD + count_tokens(message.content or "")
        for call in message.tool_calls:
            total += count_tokens(call.name) + count_tokens(orjson.dumps(call.arguments).decode())
    for tool in tools or ():
        total += count_tokens(tool.name) + count_tokens(tool.description)
        total += count_tokens(orjson.dumps(tool.parameters).decode())
    return total

"""What the agent loop reads out of model text, and what it answers with."""

from __future__ import annotations

from typing import Any

import orjson

from agentic.branches._protocol import ChatModel, ChatResult
from agentic.branches._runs import ChatRun
from agentic.branches._schema import schema_errors
from agentic.providers import StructuredOutputError, parse_json

__all__ = ["as_text", "chat_result", "plan_texts", "structured_value"]


def structured_value(text: str, request: ChatModel) -> Any:
    """Parse the JSON in `text` and check it against the request's schema."""
    name = request.model_name
    try:
        value = parse_json(text)
    except StructuredOutputError as exc:
        msg = f"model output for {name} holds no JSON value: {exc}"
        raise StructuredOutputError(msg, text=text, target=name) from None
    problems = schema_errors(value, request.json_schema)
    if problems:
        msg = f"model output does not validate as {name}: {'; '.join(problems)}"
        raise StructuredOutputError(msg, text=text, target=name)
    return value


def chat_result(run: ChatRun, stopped: str) -> ChatResult:
    return ChatResult(
        reply=run.reply,
        steps=run.steps,
        tool_calls=run.tool_calls,
        stopped="answer" if stopped == "answer" else "max_steps",
        message_ids=list(run.added),
        usage=run.usage.tokens(),
        cost=run.usage.cost,
    )


def plan_texts(text: str) -> list[str]:
    """Read `{"steps": [...]}` (or a bare list) of non-empty strings from model text."""
    try:
        value = parse_json(text)
    except StructuredOutputError:
        return []
    if isinstance(value, dict):
        value = value.get("steps")
    if not isinstance(value, list):
        return []
    steps = [str(item).strip() for item in value if isinstance(item, (str, int, float))]
    return [step for step in steps if step]


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()

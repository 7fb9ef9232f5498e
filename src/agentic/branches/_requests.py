"""The requests a BranchRef sends, built from its methods' arguments, and answers checked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from agentic.branches._messages import Message, UserMessage
from agentic.branches._protocol import Chat, ChatModel, RunPlan, StructuredResult
from agentic.providers import StructuredOutputError

__all__ = ["as_message", "chat_request", "plan_request", "structured_request", "validated"]

M = TypeVar("M", bound=BaseModel)


def chat_request(
    text: str,
    provider: str | None,
    max_steps: int,
    use_tools: bool,  # noqa: FBT001 - a private helper, called positionally
    *,
    stream: bool = False,
) -> Callable[[UUID], Chat]:
    return lambda ticket: Chat(
        text=text,
        provider=provider,
        max_steps=max_steps,
        use_tools=use_tools,
        stream=stream,
        ticket=ticket,
    )


def as_message(message: Message | str) -> Message:
    return UserMessage(content=message) if isinstance(message, str) else message


def plan_request(  # noqa: PLR0917 - a private helper mirroring run_plan's arguments
    goal: str,
    steps: Sequence[str] | None,
    provider: str | None,
    max_steps: int,
    use_tools: bool,  # noqa: FBT001 - a private helper, called positionally
    ticket: UUID,
) -> RunPlan:
    return RunPlan(
        goal=goal,
        steps=None if steps is None else tuple(steps),
        provider=provider,
        max_steps=max_steps,
        use_tools=use_tools,
        ticket=ticket,
    )


def structured_request(
    text: str,
    model: type[BaseModel],
    provider: str | None,
    repair: bool,  # noqa: FBT001 - a private helper, called positionally
    ticket: UUID,
) -> ChatModel:
    return ChatModel(
        text=text,
        json_schema=model.model_json_schema(),
        model_name=model.__name__,
        provider=provider,
        repair_rounds=1 if repair else 0,
        ticket=ticket,
    )


def validated(result: StructuredResult, model: type[M]) -> M:
    try:
        return model.model_validate(result.value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        msg = f"model output does not validate as {model.__name__}: {errors[0]['msg']}"
        raise StructuredOutputError(
            msg, text=result.reply.content, target=model.__name__, errors=errors
        ) from None

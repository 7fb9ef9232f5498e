"""Ask a provider for a pydantic model, with an optional repair round trip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import orjson
from pydantic import BaseModel

from agentic.providers._errors import StructuredOutputError
from agentic.providers._jsonrepair import ends_open
from agentic.providers._models import ChatMessage, ChatResponse, CompletionParams
from agentic.providers._protocol import Provider
from agentic.providers._structured import parse_model

__all__ = ["complete_model", "repair_message", "schema_instruction"]

M = TypeVar("M", bound=BaseModel)


def schema_instruction(model: type[BaseModel]) -> ChatMessage:
    """Return a system message asking for one JSON object matching `model`'s JSON Schema."""
    schema = orjson.dumps(model.model_json_schema(), option=orjson.OPT_INDENT_2).decode()
    return ChatMessage.system(
        f"Answer with one JSON object that matches this JSON Schema, in a ```json block:\n"
        f"```json\n{schema}\n```"
    )


def repair_message(error: StructuredOutputError) -> ChatMessage:
    """Return the user message that asks the model to fix its last answer."""
    return ChatMessage.user(
        f"Your last answer could not be used: {error}. "
        "Reply with only the corrected JSON object in a ```json block."
    )


async def complete_model(
    provider: Provider,
    messages: Sequence[ChatMessage],
    model: type[M],
    *,
    params: CompletionParams | None = None,
    repair_rounds: int = 1,
) -> tuple[M, list[ChatResponse]]:
    """Ask `provider` for an answer and parse it into `model`.

    A schema instruction is prepended. When the answer does not parse or validate,
    the answer and a [`repair_message`][agentic.providers.repair_message] are appended
    and the model is asked again, up to `repair_rounds` times.

    Returns:
        The parsed value and every response received (for usage and cost).

    Raises:
        StructuredOutputError: The last answer still did not parse or validate, or
            an answer was cut off inside its JSON at the token limit (never repaired
            into a value missing its end).
        ProviderError: The provider failed.
    """
    conversation = [schema_instruction(model), *messages]
    responses: list[ChatResponse] = []
    for round_ in range(repair_rounds + 1):
        response = await provider.complete(conversation, None, params)
        responses.append(response)
        if response.finish_reason == "length" and ends_open(response.content):
            # A repair would close the cut JSON into a value missing its end (half a
            # list, a cut string), and another round hits the same limit.
            msg = (
                f"the answer was cut off inside its JSON at the token limit "
                f"(finish_reason 'length'): raise max_tokens for {model.__name__}"
            )
            raise StructuredOutputError(msg, text=response.content, target=model.__name__)
        try:
            return parse_model(response.content, model), responses
        except StructuredOutputError as error:
            if round_ == repair_rounds:
                raise
            conversation += [response.message, repair_message(error)]
    msg = "unreachable"  # pragma: no cover - the loop returns or raises
    raise AssertionError(msg)  # pragma: no cover

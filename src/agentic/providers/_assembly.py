"""Reassemble a streamed answer (text deltas, tool-call fragments, usage) into one response."""

from __future__ import annotations

from typing import Any

from agentic.providers._errors import ProviderProtocolError
from agentic.providers._jsonrepair import ends_open, repair_json
from agentic.providers._models import (
    ChatResponse,
    FinishReason,
    Pricing,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from agentic.providers._structured import loads_json

__all__ = ["ResponseAssembler", "decode_arguments", "priced"]


def decode_arguments(text: str, *, provider: str, tool: str) -> dict[str, Any]:
    """Decode a tool call's JSON arguments (empty text is `{}`; small slips are repaired).

    Arguments cut off midway (an open string or bracket at the end: the model hit its
    token limit) are never completed by the repair: a tool would run with a truncated
    value (half a file's content, a cut path).

    Raises:
        ProviderProtocolError: The arguments are cut off (not retryable: the same
            limit cuts them again), or not a JSON object even after repair
            (retryable: asking the model again may give valid ones).
    """
    if not text.strip():
        return {}
    for attempt in (text, None):
        try:
            value = loads_json(repair_json(text) if attempt is None else attempt)
        except ValueError:
            if ends_open(text):
                break  # cut off: a repair would run the tool with a truncated value
            continue
        if isinstance(value, dict):
            return value
        break
    if ends_open(text):
        msg = (
            f"{provider}: arguments of tool call {tool!r} are cut off before their JSON "
            f"closes (the answer reached its token limit?): ...{text[-200:]!r}"
        )
        raise ProviderProtocolError(msg, provider=provider, retryable=False)
    msg = f"{provider}: arguments of tool call {tool!r} are not a JSON object: {text[:200]!r}"
    raise ProviderProtocolError(msg, provider=provider, retryable=True)


def priced(response: ChatResponse, pricing: Pricing | None) -> ChatResponse:
    """Return `response` with its `cost` filled in from `pricing` (unchanged without one)."""
    if pricing is None:
        return response
    return response.model_copy(update={"cost": pricing.cost(response.usage)})


class _PartialCall:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []


def _complete(call: _PartialCall, name: str | None) -> bool:
    """Whether `call` needs nothing more: a closed JSON value, or no arguments and a new name."""
    arguments = "".join(call.arguments)
    if not arguments.strip():
        return bool(name)
    return not ends_open(arguments)


class ResponseAssembler:
    """Collect the pieces of a streamed answer and build the final `ChatResponse`."""

    def __init__(self, *, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.id: str | None = None
        self.usage = Usage()
        self.finish_reason: FinishReason = "stop"
        self.raw_finish_reason: str | None = None
        self._text: list[str] = []
        self._calls: dict[int, _PartialCall] = {}
        self._slots: dict[int, int] = {}  # a wire index -> the call it now stands for
        self._last: int | None = None

    def tool_slot(self, index: int | None, call_id: str | None, name: str | None = None) -> int:
        """Return the index of the call a streamed fragment belongs to.

        OpenAI gives each call its own `index`, and its `id` and name in its first
        fragment only. Some servers do not: Gemini's OpenAI-compatible API sends each
        call whole with no `index`, some proxies give every call index 0, and some
        send a fresh `id` with every fragment of one call. So a fragment starts a new
        call under an index already in use (or under none) only when it brings an `id`
        other than the call's and that call is complete (its arguments a closed JSON
        value, or none yet while the fragment names a tool); otherwise it continues
        the call at its index (or the latest call). A fragment with neither id nor
        name under an index not seen yet continues the latest call too.
        """
        held_at = self._last if index is None else self._slots.get(index, index)
        held = None if held_at is None else self._calls.get(held_at)
        slot: int | None
        if held is None or held_at is None:
            if not call_id and not name and self._last is not None:
                slot = self._last  # a bare fragment under a fresh index (Cerebras, Nebius)
            else:
                slot = index if index is not None and index not in self._calls else None
        elif call_id and held.id and held.id != call_id and _complete(held, name):
            slot = None
        else:
            slot = held_at
        if slot is None:
            slot = max(self._calls, default=-1) + 1
        if index is not None:
            self._slots[index] = slot
        self._calls.setdefault(slot, _PartialCall())
        self._last = slot
        return slot

    def add_text(self, text: str) -> None:
        """Append a text delta."""
        self._text.append(text)

    def add_tool_delta(self, delta: ToolCallDelta) -> None:
        """Merge one tool-call fragment into the call at its index."""
        call = self._calls.setdefault(delta.index, _PartialCall())
        if delta.id:
            call.id = delta.id
        if delta.name:
            call.name += delta.name if call.name != delta.name else ""
        if delta.arguments:
            call.arguments.append(delta.arguments)

    def build(self) -> ChatResponse:
        """Return the response assembled so far.

        Raises:
            ProviderProtocolError: A tool call never received its name or has
                arguments that are not a JSON object.
        """
        calls: list[ToolCall] = []
        for index in sorted(self._calls):
            partial = self._calls[index]
            if not partial.name:
                msg = f"{self.provider}: streamed tool call #{index} has no name"
                raise ProviderProtocolError(msg, provider=self.provider)
            arguments = decode_arguments(
                "".join(partial.arguments), provider=self.provider, tool=partial.name
            )
            call_id = partial.id or f"call_{index}"
            calls.append(ToolCall(id=call_id, name=partial.name, arguments=arguments))
        finish = self.finish_reason
        if calls and finish == "stop" and self.raw_finish_reason is None:
            finish = "tool_calls"
        return ChatResponse(
            content="".join(self._text),
            tool_calls=tuple(calls),
            usage=self.usage,
            finish_reason=finish,
            raw_finish_reason=self.raw_finish_reason,
            model=self.model,
            id=self.id,
            provider=self.provider,
        )

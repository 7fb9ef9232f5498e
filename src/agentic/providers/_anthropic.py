"""A provider for Anthropic's Messages API (`POST /v1/messages`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import orjson
from pydantic import SecretStr

from agentic.providers._assembly import ResponseAssembler, priced
from agentic.providers._errors import ProviderError, ProviderProtocolError
from agentic.providers._http import HTTPProvider, error_for_status
from agentic.providers._models import (
    Capabilities,
    ChatMessage,
    ChatResponse,
    CompletionParams,
    FinishReason,
    Pricing,
    StreamChunk,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from agentic.providers._sse import aiter_sse

__all__ = ["ANTHROPIC_VERSION", "AnthropicProvider"]

ANTHROPIC_VERSION = "2023-06-01"
"""The `anthropic-version` header sent with every request."""

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "refusal": "content_filter",
}
# Anthropic's input_tokens leaves out the prompt tokens written to or read from the cache.
_PROMPT_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id,
            "content": message.content or "",
        }
        if message.is_error:
            block["is_error"] = True
        return [block]
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks.extend(
        {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
        for c in message.tool_calls
    )
    return blocks


def messages_to_wire(messages: Sequence[ChatMessage]) -> tuple[str | None, list[dict[str, Any]]]:
    """Split off the system prompt and turn the rest into Anthropic messages.

    Tool results become `tool_result` blocks of a user message; consecutive messages
    of the same Anthropic role are merged, so all results of one turn travel together;
    messages with neither text nor tool calls are left out (the API rejects them).
    """
    system = [m.content for m in messages if m.role == "system" and m.content]
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue  # the API rejects empty content; an empty turn carries nothing
        if wire and wire[-1]["role"] == role:
            previous = wire[-1]["content"]
            if isinstance(previous, str):
                previous = [{"type": "text", "text": previous}] if previous else []
            wire[-1]["content"] = previous + blocks
        elif len(blocks) == 1 and blocks[0]["type"] == "text":
            wire.append({"role": role, "content": blocks[0]["text"]})
        else:
            wire.append({"role": role, "content": blocks})
    return ("\n\n".join(system) if system else None), wire


def _tool_choice(choice: str) -> dict[str, Any]:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "none":
        return {"type": "none"}
    if choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": choice}


class AnthropicProvider(HTTPProvider):
    """Speak Anthropic's Messages API (`POST {base_url}/v1/messages`).

    Sends `x-api-key` and `anthropic-version` headers, the system prompt as the
    top-level `system` field, tools as `{name, description, input_schema}`, tool
    calls as `tool_use` blocks and their results as `tool_result` blocks.

    Args:
        model: The default model.
        api_key: The key (a `SecretStr` or a plain string, which is wrapped).
        base_url: The API root, without `/v1`.
        name: The provider's name in logs, errors and responses.
        max_tokens: The `max_tokens` sent when the call does not set one (the API
            requires the field).
        timeout: Seconds to wait for each read, write and pool slot.
        connect_timeout: Seconds to wait for a connection.
        headers: Extra, non-secret request headers (`anthropic-beta`, say).
        pricing: Token prices; responses then carry a `cost`.
        capabilities: What the model can do (defaults to 200k context, tools, streaming).
    """

    default_capabilities = Capabilities(
        context_window=200_000, max_output_tokens=8192, tools=True, streaming=True
    )

    def __init__(
        self,
        *,
        model: str,
        api_key: SecretStr | str | None = None,
        base_url: str = "https://api.anthropic.com",
        name: str = "anthropic",
        max_tokens: int = 4096,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        pricing: Pricing | None = None,
        capabilities: Capabilities | None = None,
    ) -> None:
        super().__init__(
            name=name,
            base_url=base_url,
            api_key=api_key,
            model=model,
            timeout=timeout,
            connect_timeout=connect_timeout,
            headers=headers,
            pricing=pricing,
            capabilities=capabilities,
        )
        self.max_tokens = max_tokens
        """The default `max_tokens`."""

    def _headers(self) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "anthropic-version": ANTHROPIC_VERSION,
            "x-api-key": self._secret(),
        }

    def build_body(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec] | None = None,
        params: CompletionParams | None = None,
        *,
        stream: bool = False,
    ) -> dict[str, Any]:
        """Return the JSON request body for these arguments (public for inspection)."""
        params = params or CompletionParams()
        system, wire = messages_to_wire(messages)
        body: dict[str, Any] = {
            "model": params.model or self.model,
            "max_tokens": params.max_tokens or self.max_tokens,
            "messages": wire,
        }
        if system is not None:
            body["system"] = system
        if tools:
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in tools
            ]
        if params.tool_choice is not None:
            body["tool_choice"] = _tool_choice(params.tool_choice)
        if params.temperature is not None:
            body["temperature"] = params.temperature
        if params.top_p is not None:
            body["top_p"] = params.top_p
        if params.stop:
            body["stop_sequences"] = list(params.stop)
        if stream:
            body["stream"] = True
        body.update(params.extra)
        return body

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec] | None = None,
        params: CompletionParams | None = None,
    ) -> ChatResponse:
        """Answer the conversation in one request.

        Raises:
            ProviderError: A subclass for each failure (see `agentic.providers`).
        """
        data = await self._post_json("/v1/messages", self.build_body(messages, tools, params))
        if data.get("type") == "error":
            raise self._stream_error(data.get("error"))
        return priced(self._parse_response(data), self.pricing)

    def _parse_response(self, data: dict[str, Any]) -> ChatResponse:
        try:
            text: list[str] = []
            calls: list[ToolCall] = []
            for block in data["content"]:
                if block["type"] == "text":
                    text.append(block["text"])
                elif block["type"] == "tool_use":
                    calls.append(
                        ToolCall(id=block["id"], name=block["name"], arguments=block["input"])
                    )
            raw_finish = data.get("stop_reason")
            return ChatResponse(
                content="".join(text),
                tool_calls=tuple(calls),
                usage=_usage(data.get("usage")),
                finish_reason=_FINISH.get(raw_finish or "", "other"),
                raw_finish_reason=raw_finish,
                model=data.get("model") or self.model,
                id=data.get("id"),
                provider=self.name,
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"{self.name}: message lacks {exc!s} (body keys: {sorted(data)})"
            raise ProviderProtocolError(msg, provider=self.name) from None

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec] | None = None,
        params: CompletionParams | None = None,
    ) -> AsyncIterator[StreamChunk]:
        """Stream the answer over SSE; the last chunk carries the full response.

        Handles `message_start`, `content_block_start`, `content_block_delta`
        (`text_delta`, `input_json_delta`; others such as thinking are skipped),
        `content_block_stop`, `message_delta` (stop reason, usage), `message_stop`,
        `ping` and `error` events.

        Raises:
            ProviderError: A subclass for each failure; an `error` event maps like the
                HTTP status of its type (`overloaded_error` is a retryable server
                error); a stream that ends before `message_stop` is a retryable
                `ProviderProtocolError`.
        """
        body = self.build_body(messages, tools, params, stream=True)
        state = _StreamState(ResponseAssembler(provider=self.name, model=body["model"]))
        async for event in aiter_sse(self._stream_lines("/v1/messages", body)):
            if not event.data.strip():
                continue  # `event: ping` with an empty `data:` carries nothing
            chunk = self._handle(event.data, state)
            if chunk is not None:
                yield chunk
            if state.stopped:
                break
        if not state.stopped:
            msg = f"{self.name}: stream ended before 'message_stop'"
            raise ProviderProtocolError(msg, provider=self.name, retryable=True)
        state.assembler.usage = Usage(
            input_tokens=sum(state.prompt.values()), output_tokens=state.output_tokens
        )
        yield StreamChunk(response=priced(state.assembler.build(), self.pricing))

    def _handle(self, data: str, state: _StreamState) -> StreamChunk | None:  # noqa: C901 - one branch per SSE event type
        try:
            payload = orjson.loads(data)
            kind = payload["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            msg = f"{self.name}: malformed stream event: {data[:200]!r}"
            raise ProviderProtocolError(self._redact(msg), provider=self.name) from None
        assembler = state.assembler
        if kind == "message_start":
            message = payload.get("message") or {}
            assembler.id = message.get("id")
            assembler.model = message.get("model") or assembler.model
            usage = message.get("usage") or {}
            state.take_prompt_usage(usage)
            state.output_tokens = int(usage.get("output_tokens") or 0)
        elif kind == "content_block_start":
            block = payload.get("content_block") or {}
            if block.get("type") == "tool_use":
                index = state.tool_index[payload.get("index", 0)] = len(state.tool_index)
                delta = ToolCallDelta(index=index, id=block.get("id"), name=block.get("name"))
                assembler.add_tool_delta(delta)
                return StreamChunk(tool_call_deltas=(delta,))
            if block.get("type") == "text" and block.get("text"):
                assembler.add_text(block["text"])
                return StreamChunk(delta=block["text"])
        elif kind == "content_block_delta":
            return self._block_delta(payload, state)
        elif kind == "message_delta":
            change = payload.get("delta") or {}
            if change.get("stop_reason"):
                assembler.raw_finish_reason = change["stop_reason"]
                assembler.finish_reason = _FINISH.get(change["stop_reason"], "other")
            usage = payload.get("usage") or {}
            if usage.get("output_tokens") is not None:
                state.output_tokens = int(usage["output_tokens"])
            state.take_prompt_usage(usage)
        elif kind == "message_stop":
            state.stopped = True
        elif kind == "error":
            raise self._stream_error(payload.get("error"))
        # ping, content_block_stop and unknown event types carry nothing we need.
        return None

    def _block_delta(self, payload: dict[str, Any], state: _StreamState) -> StreamChunk | None:
        delta = payload.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            text = str(delta.get("text") or "")
            state.assembler.add_text(text)
            return StreamChunk(delta=text) if text else None
        if kind == "input_json_delta":
            block_index = payload.get("index", 0)
            if block_index not in state.tool_index:
                msg = f"{self.name}: input_json_delta for block {block_index} with no tool_use"
                raise ProviderProtocolError(msg, provider=self.name)
            piece = ToolCallDelta(
                index=state.tool_index[block_index], arguments=str(delta.get("partial_json") or "")
            )
            state.assembler.add_tool_delta(piece)
            return StreamChunk(tool_call_deltas=(piece,))
        return None

    def _stream_error(self, error: Any) -> ProviderError:
        detail = error if isinstance(error, dict) else {"message": str(error)}
        kind = str(detail.get("type") or "")
        status = _ERROR_STATUS.get(kind, 500)
        msg = self._redact(f"{self.name}: {kind or 'error'}: {detail.get('message')}")
        return error_for_status(status, msg, provider=self.name, error_type=kind or None)


class _StreamState:
    __slots__ = ("assembler", "output_tokens", "prompt", "stopped", "tool_index")

    def __init__(self, assembler: ResponseAssembler) -> None:
        self.assembler = assembler
        self.prompt: dict[str, int] = {}  # the prompt-token fields seen, latest value each
        self.output_tokens = 0
        self.stopped = False
        self.tool_index: dict[int, int] = {}

    def take_prompt_usage(self, usage: dict[str, Any]) -> None:
        """Keep the prompt-token counts `usage` carries (message_delta's are cumulative)."""
        for field in _PROMPT_FIELDS:
            if usage.get(field) is not None:
                self.prompt[field] = int(usage[field])


def _usage(data: Any) -> Usage:
    """Read Anthropic's usage: the prompt is its uncached, cache-written and cache-read parts."""
    if not isinstance(data, dict):
        return Usage()
    return Usage(
        input_tokens=sum(int(data.get(field) or 0) for field in _PROMPT_FIELDS),
        output_tokens=int(data.get("output_tokens") or 0),
    )

"""A provider for OpenAI-compatible `/chat/completions` APIs (OpenAI, Ollama, vLLM, Groq, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import orjson
from pydantic import SecretStr

from agentic.providers._assembly import ResponseAssembler, decode_arguments, priced
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

__all__ = ["OpenAICompatibleProvider"]

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "length": "length",
    "content_filter": "content_filter",
}
_MIN_STATUS, _MAX_STATUS = 400, 600
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "server_error": 500,
}


def _message_to_wire(message: ChatMessage) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "tool":
        wire["tool_call_id"] = message.tool_call_id
        wire["content"] = message.content or ""
    elif message.name:
        wire["name"] = message.name
    if message.tool_calls:
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": orjson.dumps(call.arguments).decode(),
                },
            }
            for call in message.tool_calls
        ]
    elif wire["content"] is None:
        wire["content"] = ""
    return wire


def _tool_choice(choice: str) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


class OpenAICompatibleProvider(HTTPProvider):
    """Speak the Chat Completions API (`POST {base_url}/chat/completions`).

    `base_url` selects the server: `https://api.openai.com/v1` (default),
    `http://localhost:11434/v1` (Ollama), a vLLM server's `/v1`, Groq's
    `https://api.groq.com/openai/v1`, Together's `https://api.together.xyz/v1`.
    The key is sent as `Authorization: Bearer <key>` (omitted when `api_key` is
    `None`, as local servers allow).

    Example:
        >>> provider = OpenAICompatibleProvider(model="gpt-4o-mini", api_key="sk-...")
        >>> provider
        OpenAICompatibleProvider(name='openai', model='gpt-4o-mini', base_url='https://api.openai.com/v1')

    Args:
        model: The default model.
        api_key: The key (a `SecretStr` or a plain string, which is wrapped).
        base_url: The API root, up to and including `/v1`.
        name: The provider's name in logs, errors and responses.
        timeout: Seconds to wait for each read, write and pool slot.
        connect_timeout: Seconds to wait for a connection.
        headers: Extra, non-secret request headers (an organization id, say).
        pricing: Token prices; responses then carry a `cost`.
        capabilities: What the model can do (defaults to 128k context, tools, streaming).
        max_tokens_field: The body field for `max_tokens` (OpenAI's newer models
            want `"max_completion_tokens"`).
    """

    default_capabilities = Capabilities(context_window=128_000, tools=True, streaming=True)

    def __init__(
        self,
        *,
        model: str,
        api_key: SecretStr | str | None = None,
        base_url: str = "https://api.openai.com/v1",
        name: str = "openai",
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        pricing: Pricing | None = None,
        capabilities: Capabilities | None = None,
        max_tokens_field: str = "max_tokens",
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
        self._max_tokens_field = max_tokens_field

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        secret = self._secret()
        if secret:
            headers["authorization"] = f"Bearer {secret}"
        return headers

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
        body: dict[str, Any] = {
            "model": params.model or self.model,
            "messages": [_message_to_wire(m) for m in messages],
        }
        if tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in tools
            ]
        if params.tool_choice is not None:
            body["tool_choice"] = _tool_choice(params.tool_choice)
        optional = {
            "temperature": params.temperature,
            "top_p": params.top_p,
            self._max_tokens_field: params.max_tokens,
            "seed": params.seed,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if params.stop:
            body["stop"] = list(params.stop)
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
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
        data = await self._post_json("/chat/completions", self.build_body(messages, tools, params))
        return priced(self._parse_response(data), self.pricing)

    def _parse_response(self, data: dict[str, Any]) -> ChatResponse:
        try:
            choice = data["choices"][0]
            message = choice["message"]
            calls = tuple(
                ToolCall(
                    id=call["id"],
                    name=call["function"]["name"],
                    arguments=decode_arguments(
                        _argument_text(call["function"], self.name),
                        provider=self.name,
                        tool=call["function"]["name"],
                    ),
                )
                for call in message.get("tool_calls") or ()
            )
            raw_finish = choice.get("finish_reason")
            return ChatResponse(
                content=message.get("content") or "",
                tool_calls=calls,
                usage=_usage(data.get("usage")),
                finish_reason=_FINISH.get(raw_finish or "", "other"),
                raw_finish_reason=raw_finish,
                model=data.get("model") or self.model,
                id=data.get("id"),
                provider=self.name,
            )
        except (KeyError, IndexError, TypeError) as exc:
            msg = f"{self.name}: chat completion lacks {exc!s} (body keys: {sorted(data)})"
            raise ProviderProtocolError(msg, provider=self.name) from None

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec] | None = None,
        params: CompletionParams | None = None,
    ) -> AsyncIterator[StreamChunk]:
        """Stream the answer over SSE; the last chunk carries the full response.

        Tool-call fragments (`index`, `id`, `function.name`, `function.arguments`
        pieces) are passed on as they come and reassembled for the final response;
        usage comes from the usage-only chunk `stream_options.include_usage` asks for.

        Raises:
            ProviderError: A subclass for each failure, including a stream that ends
                before `data: [DONE]` (`ProviderProtocolError`, retryable).
        """
        body = self.build_body(messages, tools, params, stream=True)
        assembler = ResponseAssembler(provider=self.name, model=body["model"])
        done = False
        async for event in aiter_sse(self._stream_lines("/chat/completions", body)):
            if event.data == "[DONE]":
                done = True
                break
            if not event.data.strip():
                continue  # an empty `data:` (a keep-alive) carries no chunk
            chunk = self._parse_chunk(event.data, assembler)
            if chunk is not None:
                yield chunk
        if not done:
            msg = f"{self.name}: stream ended before 'data: [DONE]'"
            raise ProviderProtocolError(msg, provider=self.name, retryable=True)
        yield StreamChunk(response=priced(assembler.build(), self.pricing))

    def _parse_chunk(self, data: str, assembler: ResponseAssembler) -> StreamChunk | None:
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            msg = f"{self.name}: malformed JSON in stream event: {data[:200]!r}"
            raise ProviderProtocolError(self._redact(msg), provider=self.name) from None
        if not isinstance(payload, dict):
            msg = f"{self.name}: stream event is not a JSON object: {data[:200]!r}"
            raise ProviderProtocolError(msg, provider=self.name)
        if "error" in payload:
            raise self._stream_error(payload["error"])
        assembler.id = payload.get("id") or assembler.id
        assembler.model = payload.get("model") or assembler.model
        if payload.get("usage"):
            assembler.usage = _usage(payload["usage"])
        text = ""
        deltas: list[ToolCallDelta] = []
        for choice in payload.get("choices") or ():
            if choice.get("index", 0) == 0:
                text += _choice_delta(choice, assembler, deltas)
        if text:
            assembler.add_text(text)
        for d in deltas:
            assembler.add_tool_delta(d)
        if not text and not deltas:
            return None
        return StreamChunk(delta=text, tool_call_deltas=tuple(deltas))

    def _stream_error(self, error: Any) -> ProviderError:
        detail = error if isinstance(error, dict) else {"message": str(error)}
        kind = str(detail.get("type") or detail.get("code") or "")
        code = detail.get("code")
        # vLLM and others put the HTTP status in `code` (with a type such as
        # "BadRequestError"): it says more than a type we do not know.
        status = _ERROR_STATUS.get(kind, 500)
        if type(code) is int and _MIN_STATUS <= code < _MAX_STATUS:
            status = code
        msg = self._redact(f"{self.name}: error in stream: {detail.get('message')}")
        return error_for_status(status, msg, provider=self.name, error_type=kind or None)


def _choice_delta(
    choice: dict[str, Any], assembler: ResponseAssembler, deltas: list[ToolCallDelta]
) -> str:
    """Read one streamed choice: return its text, add its tool-call fragments to `deltas`."""
    delta = choice.get("delta") or {}
    for call in delta.get("tool_calls") or ():
        function = call.get("function") or {}
        index = call.get("index")
        slot = assembler.tool_slot(
            index if isinstance(index, int) else None, call.get("id"), function.get("name")
        )
        deltas.append(
            ToolCallDelta(
                index=slot,
                id=call.get("id"),
                name=function.get("name"),
                arguments=_argument_text(function, assembler.provider),
            )
        )
    if choice.get("finish_reason"):
        raw = choice["finish_reason"]
        assembler.raw_finish_reason = raw
        assembler.finish_reason = _FINISH.get(raw, "other")
    return str(delta.get("content") or "")


def _argument_text(function: dict[str, Any], provider: str) -> str:
    """Return a call's arguments as JSON text (some servers send a JSON object instead)."""
    arguments = function.get("arguments")
    if arguments is None or isinstance(arguments, str):
        return arguments or ""
    if isinstance(arguments, dict):  # llama.cpp's server, TGI
        return orjson.dumps(arguments).decode()
    tool = function.get("name")
    msg = f"{provider}: arguments of tool call {tool!r} are a {type(arguments).__name__}"
    raise ProviderProtocolError(msg, provider=provider, retryable=True)


def _usage(data: Any) -> Usage:
    if not isinstance(data, dict):
        return Usage()
    return Usage(
        input_tokens=int(data.get("prompt_tokens") or 0),
        output_tokens=int(data.get("completion_tokens") or 0),
    )

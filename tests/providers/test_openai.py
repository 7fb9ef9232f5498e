"""OpenAICompatibleProvider against a real HTTP server speaking Chat Completions."""

import asyncio
import json

import pytest

from agentic.primitives import ErrorInfo
from agentic.providers import (
    ChatMessage,
    CompletionParams,
    OpenAICompatibleProvider,
    Pricing,
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderProtocolError,
    ProviderRateLimitError,
    ProviderServerError,
    ProviderTimeoutError,
    ToolCall,
    ToolSpec,
    collect,
)

KEY = "sk-test-openai-123"
WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather in a city",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)


def run(coro):
    return asyncio.run(coro)


def make(api, **kwargs):
    return OpenAICompatibleProvider(
        model="gpt-4o-mini", api_key=KEY, base_url=f"{api.url}/v1", **kwargs
    )


async def complete(api, messages, tools=None, params=None, **kwargs):
    async with make(api, **kwargs) as provider:
        return await provider.complete(messages, tools, params)


async def stream(api, messages, tools=None, params=None, **kwargs):
    async with make(api, **kwargs) as provider:
        return [chunk async for chunk in provider.stream(messages, tools, params)]


def completion(message, finish="stop", usage=(12, 5)):
    """A chat.completion object shaped as the API reference documents it."""
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
        "system_fingerprint": "fp_1",
    }


def chunk(delta, finish=None):
    return {
        "id": "chatcmpl-s1",
        "object": "chat.completion.chunk",
        "created": 1694268190,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


USAGE_CHUNK = {
    "id": "chatcmpl-s1",
    "object": "chat.completion.chunk",
    "created": 1694268190,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [],
    "usage": {"prompt_tokens": 30, "completion_tokens": 17, "total_tokens": 47},
}

TOOL_STREAM = [
    chunk(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ],
        }
    ),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Pa'}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ris"}'}}]}),
    chunk(
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ]
        }
    ),
    chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"city": "Tokyo"}'}}]}),
    chunk({}, finish="tool_calls"),
    USAGE_CHUNK,
    "data: [DONE]\n\n",
]


class TestRequestBody:
    def test_complete_posts_messages_tools_and_params_per_reference(self, api):
        """complete() POSTs /v1/chat/completions with the body the API reference specifies."""
        api.reply_json(completion({"role": "assistant", "content": "ok"}))
        messages = [
            ChatMessage.system("be brief"),
            ChatMessage.user("weather in Paris?"),
            ChatMessage.assistant(
                None,
                tool_calls=(
                    ToolCall(id="call_1", name="get_weather", arguments={"city": "Paris"}),
                ),
            ),
            ChatMessage.tool("sunny", tool_call_id="call_1", name="get_weather"),
        ]
        params = CompletionParams(
            temperature=0.2, max_tokens=50, top_p=0.9, stop=("END",), seed=7, tool_choice="auto"
        )
        run(complete(api, messages, [WEATHER], params))
        (request,) = api.requests
        assert request.path == "/v1/chat/completions"
        assert request.body == {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "weather in Paris?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "content": "sunny", "tool_call_id": "call_1"},
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "Current weather in a city",
                        "parameters": WEATHER.parameters,
                    },
                }
            ],
            "tool_choice": "auto",
            "temperature": 0.2,
            "top_p": 0.9,
            "max_tokens": 50,
            "seed": 7,
            "stop": ["END"],
        }

    def test_headers_carry_bearer_key_and_json_content_type(self, api):
        """The key travels as `Authorization: Bearer <key>`; the body is JSON."""
        api.reply_json(completion({"role": "assistant", "content": "ok"}))
        run(complete(api, [ChatMessage.user("hi")]))
        headers = api.requests[0].headers
        assert headers["authorization"] == f"Bearer {KEY}"
        assert headers["content-type"] == "application/json"

    def test_no_key_sends_no_authorization(self, api):
        """A keyless provider (a local Ollama) sends no Authorization header."""
        api.reply_json(completion({"role": "assistant", "content": "ok"}))

        async def go():
            async with OpenAICompatibleProvider(model="llama3", base_url=f"{api.url}/v1") as p:
                return await p.complete([ChatMessage.user("hi")])

        run(go())
        assert "authorization" not in api.requests[0].headers

    def test_stream_asks_for_usage(self, api):
        """A streaming body sets stream and stream_options.include_usage."""
        api.reply_sse([chunk({"content": "x"}, "stop"), USAGE_CHUNK, "data: [DONE]\n\n"])
        run(stream(api, [ChatMessage.user("hi")]))
        body = api.requests[0].body
        assert body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}

    def test_named_tool_choice_and_extra_fields(self, api):
        """A tool name forces that function; `extra` fields are merged into the body."""
        api.reply_json(completion({"role": "assistant", "content": "ok"}))
        params = CompletionParams(tool_choice="get_weather", extra={"parallel_tool_calls": False})
        run(complete(api, [ChatMessage.user("hi")], [WEATHER], params))
        body = api.requests[0].body
        assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
        assert body["parallel_tool_calls"] is False

    def test_max_tokens_field_is_configurable(self, api):
        """Newer OpenAI models take max_completion_tokens instead of max_tokens."""
        api.reply_json(completion({"role": "assistant", "content": "ok"}))
        params = CompletionParams(max_tokens=9)
        run(
            complete(
                api,
                [ChatMessage.user("hi")],
                None,
                params,
                max_tokens_field="max_completion_tokens",
            )
        )
        body = api.requests[0].body
        assert body["max_completion_tokens"] == 9
        assert "max_tokens" not in body


class TestJSONResponses:
    def test_text_answer_with_usage_and_cost(self, api):
        """A text completion becomes content, usage, finish reason, model, id and cost."""
        api.reply_json(completion({"role": "assistant", "content": "Hello!"}, usage=(1000, 500)))
        response = run(
            complete(
                api, [ChatMessage.user("hi")], pricing=Pricing(input_per_1k=1, output_per_1k=2)
            )
        )
        assert response.content == "Hello!"
        assert (response.usage.input_tokens, response.usage.output_tokens) == (1000, 500)
        assert response.finish_reason == "stop"
        assert response.model == "gpt-4o-mini-2024-07-18"
        assert response.id == "chatcmpl-abc123"
        assert response.provider == "openai"
        assert response.cost == pytest.approx(2.0)

    def test_tool_calls_are_decoded(self, api):
        """Tool calls come back with ids, names and decoded JSON arguments."""
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_x",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "call_y",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                },
            ],
        }
        api.reply_json(completion(message, finish="tool_calls"))
        response = run(complete(api, [ChatMessage.user("weather?")], [WEATHER]))
        assert response.content == ""
        assert response.finish_reason == "tool_calls"
        assert response.tool_calls == (
            ToolCall(id="call_x", name="get_weather", arguments={"city": "Paris"}),
            ToolCall(id="call_y", name="get_weather", arguments={"city": "Oslo"}),
        )
        assert response.message.tool_calls == response.tool_calls


class TestStreaming:
    def test_text_deltas_then_final_response_with_usage(self, api):
        """Text deltas arrive in order; the last chunk carries the response and final usage."""
        api.reply_sse(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk({"content": "Hel"}),
                chunk({"content": "lo"}),
                chunk({}, finish="stop"),
                USAGE_CHUNK,
                "data: [DONE]\n\n",
            ]
        )
        chunks = run(stream(api, [ChatMessage.user("hi")]))
        assert [c.delta for c in chunks[:-1]] == ["Hel", "lo"]
        final = chunks[-1].response
        assert final is not None
        assert final.content == "Hello"
        assert (final.usage.input_tokens, final.usage.output_tokens) == (30, 17)
        assert final.finish_reason == "stop"
        assert final.id == "chatcmpl-s1"

    @pytest.mark.parametrize("piece_size", [None, 7, 1])
    def test_tool_call_deltas_split_across_chunks_are_reassembled(self, api, piece_size):
        """Fragments (index, id, name, argument pieces) reassemble, however bytes are split."""
        api.reply_sse(TOOL_STREAM, piece_size=piece_size)
        chunks = run(stream(api, [ChatMessage.user("weather?")], [WEATHER]))
        deltas = [d for c in chunks for d in c.tool_call_deltas]
        assert [d.index for d in deltas] == [0, 0, 0, 0, 1, 1]
        assert "".join(d.arguments for d in deltas if d.index == 0) == '{"city": "Paris"}'
        final = chunks[-1].response
        assert final.tool_calls == (
            ToolCall(id="call_a", name="get_weather", arguments={"city": "Paris"}),
            ToolCall(id="call_b", name="get_weather", arguments={"city": "Tokyo"}),
        )
        assert final.finish_reason == "tool_calls"
        assert final.usage.total_tokens == 47

    def test_stream_and_complete_agree(self, api):
        """collect(stream(...)) equals complete(...) for the same answer."""
        api.reply_json(completion({"role": "assistant", "content": "Hello"}, usage=(30, 17)))
        api.reply_sse(
            [
                chunk({"content": "Hel"}),
                chunk({"content": "lo"}, "stop"),
                USAGE_CHUNK,
                "data: [DONE]\n\n",
            ]
        )

        async def go():
            async with make(api) as provider:
                one = await provider.complete([ChatMessage.user("hi")])
                two = await collect(provider.stream([ChatMessage.user("hi")]))
                return one, two

        one, two = run(go())
        assert (one.content, one.usage, one.finish_reason) == (
            two.content,
            two.usage,
            two.finish_reason,
        )

    def test_sse_comments_and_keepalives_are_ignored(self, api):
        """SSE comment lines (`: keep-alive`) between events change nothing."""
        api.reply_sse(
            [
                ": OPENROUTER PROCESSING\n\n",
                chunk({"content": "a"}, "stop"),
                ": keep-alive\n\n",
                USAGE_CHUNK,
                "data: [DONE]\n\n",
            ]
        )
        chunks = run(stream(api, [ChatMessage.user("hi")]))
        assert chunks[-1].response.content == "a"


class TestErrors:
    def test_401_is_auth_error_not_retryable(self, api):
        """401 maps to ProviderAuthError, not retryable, with the server's message."""
        api.reply_json(
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )
        with pytest.raises(ProviderAuthError) as info:
            run(complete(api, [ChatMessage.user("hi")]))
        assert info.value.status_code == 401
        assert info.value.retryable is False
        assert "Incorrect API key provided" in str(info.value)

    def test_429_carries_retry_after(self, api):
        """429 maps to a retryable ProviderRateLimitError with Retry-After seconds."""
        api.reply_json(
            {
                "error": {
                    "message": "Rate limit reached",
                    "type": "requests",
                    "code": "rate_limit_exceeded",
                }
            },
            status=429,
            headers={"retry-after": "7", "x-request-id": "req_1"},
        )
        with pytest.raises(ProviderRateLimitError) as info:
            run(complete(api, [ChatMessage.user("hi")]))
        error = info.value
        assert (error.retryable, error.retry_after, error.request_id) == (True, 7.0, "req_1")
        described = ErrorInfo.from_exception(error)
        assert (described.retryable, described.retry_after) == (True, 7.0)

    @pytest.mark.parametrize("mode", ["complete", "stream"])
    def test_429_for_an_exhausted_quota_is_not_retryable(self, api, mode):
        """429 insufficient_quota (no credits left) is a rate-limit error no retry can cure."""
        body = {
            "error": {
                "message": "You exceeded your current quota, please check your plan and billing details.",
                "type": "insufficient_quota",
                "param": None,
                "code": "insufficient_quota",
            }
        }
        api.reply_json(body, status=429)
        call = complete if mode == "complete" else stream
        with pytest.raises(ProviderRateLimitError, match="quota") as info:
            run(call(api, [ChatMessage.user("hi")]))
        assert not info.value.retryable
        assert not ErrorInfo.from_exception(info.value).retryable

    def test_insufficient_quota_inside_a_stream_is_not_retryable(self, api):
        """The same error sent inside a stream is not retryable either."""
        error = {"message": "You exceeded your current quota.", "type": "insufficient_quota"}
        api.reply_sse([chunk({"content": "a"}), {"error": error}])
        with pytest.raises(ProviderRateLimitError) as info:
            run(stream(api, [ChatMessage.user("hi")]))
        assert not info.value.retryable

    def test_429_retry_after_ms_wins(self, api):
        """OpenAI's retry-after-ms header gives sub-second waits."""
        api.reply_json(
            {"error": {"message": "slow down"}},
            status=429,
            headers={"retry-after-ms": "250", "retry-after": "1"},
        )
        with pytest.raises(ProviderRateLimitError) as info:
            run(complete(api, [ChatMessage.user("hi")]))
        assert info.value.retry_after == 0.25

    def test_500_is_retryable_server_error(self, api):
        """500 maps to a retryable ProviderServerError."""
        api.reply_json(
            {"error": {"message": "The server had an error", "type": "server_error"}}, status=500
        )
        with pytest.raises(ProviderServerError) as info:
            run(complete(api, [ChatMessage.user("hi")]))
        assert info.value.retryable is True

    def test_400_and_404_are_bad_requests(self, api):
        """400 and 404 map to ProviderBadRequestError (a ValueError), not retryable."""
        api.reply_json({"error": {"message": "bad", "type": "invalid_request_error"}}, status=400)
        api.reply_json({"error": {"message": "The model `x` does not exist"}}, status=404)
        for status in (400, 404):
            with pytest.raises(ProviderBadRequestError) as info:
                run(complete(api, [ChatMessage.user("hi")]))
            assert info.value.status_code == status
            assert isinstance(info.value, ValueError)
            assert not info.value.retryable

    def test_error_status_during_stream(self, api):
        """An error status on a streaming request maps like on a plain one."""
        api.reply_json({"error": {"message": "busy"}}, status=503)
        with pytest.raises(ProviderServerError):
            run(stream(api, [ChatMessage.user("hi")]))

    def test_malformed_json_is_protocol_error(self, api):
        """A 200 with a body that is not JSON raises ProviderProtocolError."""
        api.reply_json(b"<html>gateway</html>")
        with pytest.raises(ProviderProtocolError, match="malformed JSON"):
            run(complete(api, [ChatMessage.user("hi")]))

    def test_malformed_json_in_stream_is_protocol_error(self, api):
        """A `data:` line that is not JSON raises ProviderProtocolError."""
        api.reply_sse([chunk({"content": "a"}), "data: {not json\n\n", "data: [DONE]\n\n"])
        with pytest.raises(ProviderProtocolError, match="malformed JSON"):
            run(stream(api, [ChatMessage.user("hi")]))

    def test_connection_dropped_mid_stream(self, api):
        """A connection closed mid-stream raises a retryable ProviderProtocolError."""
        api.reply_sse(TOOL_STREAM, drop_after=3)
        received = []

        async def go():
            async with make(api) as provider:
                async for c in provider.stream([ChatMessage.user("hi")], [WEATHER]):
                    received.append(c)

        with pytest.raises(ProviderProtocolError, match="dropped mid-stream") as info:
            run(go())
        assert info.value.retryable is True
        assert len(received) == 3

    def test_stream_ending_without_done(self, api):
        """A stream that ends cleanly but without [DONE] is a retryable protocol error."""
        api.reply_sse([chunk({"content": "a"})])
        with pytest.raises(ProviderProtocolError, match=r"\[DONE\]") as info:
            run(stream(api, [ChatMessage.user("hi")]))
        assert info.value.retryable

    def test_error_object_inside_stream(self, api):
        """An `error` object sent as a stream event maps by its type."""
        api.reply_sse(
            [chunk({"content": "a"}), {"error": {"message": "overloaded", "type": "server_error"}}]
        )
        with pytest.raises(ProviderServerError, match="overloaded"):
            run(stream(api, [ChatMessage.user("hi")]))

    @pytest.mark.parametrize(
        ("code", "expected"),
        [(400, ProviderBadRequestError), (429, ProviderRateLimitError), (503, ProviderServerError)],
    )
    def test_error_object_with_an_http_code_maps_by_the_code(self, api, code, expected):
        """An in-stream error whose code is an HTTP status (vLLM's shape) maps like that status."""
        error = {"object": "error", "message": "no", "type": "SomeError", "param": None}
        api.reply_sse([chunk({"content": "a"}), {"error": {**error, "code": code}}])
        with pytest.raises(expected) as info:
            run(stream(api, [ChatMessage.user("hi")]))
        assert type(info.value) is expected
        assert info.value.status_code == code

    def test_connection_refused(self, closed_port_url):
        """Nothing listening raises a retryable ProviderConnectionError."""

        async def go():
            async with OpenAICompatibleProvider(
                model="m", api_key=KEY, base_url=closed_port_url
            ) as p:
                await p.complete([ChatMessage.user("hi")])

        with pytest.raises(ProviderConnectionError) as info:
            run(go())
        assert info.value.retryable

    def test_slow_server_times_out(self, api):
        """No answer within the timeout raises a retryable ProviderTimeoutError (a TimeoutError)."""
        api.reply_json(completion({"role": "assistant", "content": "late"}))
        api.replies[-1].delay = 0.5
        with pytest.raises(ProviderTimeoutError) as info:
            run(complete(api, [ChatMessage.user("hi")], timeout=0.1))
        assert info.value.retryable
        assert isinstance(info.value, TimeoutError)

    def test_invalid_tool_arguments_are_protocol_error(self, api):
        """Tool arguments that are not a JSON object even after repair raise, retryably."""
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1, 2]"}}
            ],
        }
        api.reply_json(completion(message, finish="tool_calls"))
        with pytest.raises(ProviderProtocolError, match="not a JSON object") as info:
            run(complete(api, [ChatMessage.user("hi")]))
        assert info.value.retryable


class TestLifecycle:
    def test_provider_is_reusable_across_event_loops(self, api):
        """Each asyncio.run gets a client bound to its own loop."""
        provider = make(api)
        for _ in range(2):
            api.reply_json(completion({"role": "assistant", "content": "ok"}))

            async def go():
                try:
                    return await provider.complete([ChatMessage.user("hi")])
                finally:
                    await provider.aclose()

            assert run(go()).content == "ok"
        assert len(api.requests) == 2

    def test_request_body_is_json(self, api):
        """The raw request body is a single JSON document."""
        api.reply_json(completion({"role": "assistant", "content": "ok"}))
        run(complete(api, [ChatMessage.user("hé")]))
        assert json.loads(api.requests[0].raw)["messages"][0]["content"] == "hé"


class TestSSEFraming:
    @pytest.mark.parametrize("piece_size", [None, 1, 5])
    @pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
    def test_unicode_line_separators_inside_data_do_not_split_lines(
        self, api, piece_size, separator
    ):
        """SSE lines end only at CR, LF or CRLF: U+2028, U+2029, U+0085 sent raw stay text."""
        text = f"one{separator}two é"
        raw = json.dumps(chunk({"content": text}, "stop"), ensure_ascii=False)
        api.reply_sse(
            [f"data: {raw}\r\n\r\n", "data: [DONE]\r\n\r\n"],
            piece_size=piece_size,
        )
        chunks = run(stream(api, [ChatMessage.user("hi")]))
        assert [c.delta for c in chunks[:-1]] == [text]
        assert chunks[-1].response.content == text


def gemini_call(call_id, name, arguments, index=None):
    """A whole tool call in one delta, as Gemini's OpenAI-compatible API streams it."""
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    if index is not None:
        call["index"] = index
    return chunk({"role": "assistant", "tool_calls": [call]})


class TestToolCallsWithoutDistinctIndexes:
    @pytest.mark.parametrize("index", [None, 0])
    def test_each_new_id_starts_a_new_call(self, api, index):
        """Calls sent whole with their own ids but no index (or all index 0) stay apart."""
        api.reply_sse(
            [
                gemini_call("function-call-1", "get_weather", '{"city":"Paris"}', index),
                gemini_call("function-call-2", "get_time", '{"tz":"UTC"}', index),
                chunk({}, finish="stop"),
                USAGE_CHUNK,
                "data: [DONE]\n\n",
            ]
        )
        chunks = run(stream(api, [ChatMessage.user("weather and time?")], [WEATHER]))
        assert chunks[-1].response.tool_calls == (
            ToolCall(id="function-call-1", name="get_weather", arguments={"city": "Paris"}),
            ToolCall(id="function-call-2", name="get_time", arguments={"tz": "UTC"}),
        )
        deltas = [d for c in chunks for d in c.tool_call_deltas]
        assert [d.index for d in deltas] == [0, 1]

    def test_indexless_fragments_continue_the_last_call(self, api):
        """A fragment without index or id continues the call before it."""
        first = {"id": "c1", "function": {"name": "get_weather", "arguments": '{"ci'}}
        api.reply_sse(
            [
                chunk({"tool_calls": [first]}),
                chunk({"tool_calls": [{"function": {"arguments": 'ty":"Oslo"}'}}]}),
                chunk({}, finish="tool_calls"),
                "data: [DONE]\n\n",
            ]
        )
        final = run(stream(api, [ChatMessage.user("weather?")], [WEATHER]))[-1].response
        assert final.tool_calls == (
            ToolCall(id="c1", name="get_weather", arguments={"city": "Oslo"}),
        )


class TestCutOffToolArguments:
    def test_arguments_cut_at_max_tokens_are_not_completed_into_a_call(self, api):
        """Arguments the model stopped writing midway (length) never become a runnable call."""
        cut = '{"path": "notes.txt", "content": "first half of the fi'
        api.reply_sse(
            [
                chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "write"}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": cut}}]}),
                chunk({}, finish="length"),
                "data: [DONE]\n\n",
            ]
        )
        with pytest.raises(ProviderProtocolError, match=r"'write'.*cut off") as info:
            run(stream(api, [ChatMessage.user("write it")]))
        assert not info.value.retryable

    def test_cut_off_arguments_in_a_complete_answer(self, api):
        """The same holds for a non-streamed answer."""
        call = {
            "id": "c",
            "type": "function",
            "function": {"name": "f", "arguments": '{"a": [1, 2'},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        api.reply_json(completion(message, finish="length"))
        with pytest.raises(ProviderProtocolError, match="cut off"):
            run(complete(api, [ChatMessage.user("hi")]))

    def test_sloppy_but_whole_arguments_are_still_repaired(self, api):
        """Whole arguments with small slips (quotes, trailing comma) are still repaired."""
        call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{'a': 1,}"}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        api.reply_json(completion(message, finish="tool_calls"))
        answer = run(complete(api, [ChatMessage.user("hi")]))
        assert answer.tool_calls == (ToolCall(id="c", name="f", arguments={"a": 1}),)


class TestDatalessEvents:
    def test_events_without_data_are_ignored(self, api):
        """A block with only `event:`, or an empty `data:`, is not a malformed chunk."""
        api.reply_sse(
            [
                "event: ping\n\n",
                chunk({"content": "a"}),
                "data:\n\n",
                chunk({}, finish="stop"),
                "data: [DONE]\n\n",
            ]
        )
        assert run(stream(api, [ChatMessage.user("hi")]))[-1].response.content == "a"


class TestRedirects:
    @pytest.mark.parametrize("mode", ["complete", "stream"])
    @pytest.mark.parametrize("status", [301, 307, 308])
    def test_a_redirect_is_a_clear_error_not_a_retryable_protocol_error(self, api, mode, status):
        """A redirect (http:// to https://, a moved path) names its target and is not retried."""
        target = "https://api.example.com/v1/chat/completions"
        html = b"<html><body>Moved</body></html>"
        headers = {"location": target, "content-type": "text/html"}
        api.reply_json(html, status=status, headers=headers)
        call = complete if mode == "complete" else stream
        with pytest.raises(
            ProviderBadRequestError, match=rf"HTTP {status}.*api\.example\.com"
        ) as info:
            run(call(api, [ChatMessage.user("hi")]))
        assert not info.value.retryable
        assert info.value.status_code == status


class TestToolCallIdsThatChange:
    def test_a_fresh_id_on_each_fragment_of_one_call_keeps_one_call(self, api):
        """A server that sends a new id with every fragment of one call still gives one call."""
        api.reply_sse(
            [
                chunk(
                    {"tool_calls": [{"index": 0, "id": "a1", "function": {"name": "get_weather"}}]}
                ),
                chunk(
                    {"tool_calls": [{"index": 0, "id": "a2", "function": {"arguments": '{"ci'}}]}
                ),
                chunk(
                    {
                        "tool_calls": [
                            {"index": 0, "id": "a3", "function": {"arguments": 'ty":"Rome"}'}}
                        ]
                    }
                ),
                chunk({}, finish="tool_calls"),
                "data: [DONE]\n\n",
            ]
        )
        final = run(stream(api, [ChatMessage.user("weather?")], [WEATHER]))[-1].response
        assert [(c.name, c.arguments) for c in final.tool_calls] == [
            ("get_weather", {"city": "Rome"})
        ]

    def test_anonymous_fragments_under_a_new_index_continue_the_call(self, api):
        """Argument fragments under a fresh index with no id or name continue the latest call."""
        api.reply_sse(
            [
                chunk(
                    {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "get_weather"}}]}
                ),
                chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"city":'}}]}),
                chunk({"tool_calls": [{"index": 2, "function": {"arguments": '"Rome"}'}}]}),
                chunk({}, finish="tool_calls"),
                "data: [DONE]\n\n",
            ]
        )
        final = run(stream(api, [ChatMessage.user("weather?")], [WEATHER]))[-1].response
        assert [(c.id, c.name, c.arguments) for c in final.tool_calls] == [
            ("a", "get_weather", {"city": "Rome"})
        ]


class TestArgumentsSentAsObjects:
    def test_object_arguments_in_a_complete_answer_are_taken_as_they_are(self, api):
        """Arguments sent as a JSON object (llama.cpp's server, TGI) are the call's arguments."""
        call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        api.reply_json(completion(message, finish="tool_calls"))
        answer = run(complete(api, [ChatMessage.user("hi")]))
        assert answer.tool_calls == (ToolCall(id="c", name="f", arguments={"a": 1}),)

    def test_object_arguments_in_a_stream_are_taken_as_they_are(self, api):
        """The same in a streamed fragment."""
        call = {"index": 0, "id": "c", "function": {"name": "f", "arguments": {"a": [1, 2]}}}
        api.reply_sse([chunk({"tool_calls": [call]}, "tool_calls"), "data: [DONE]\n\n"])
        final = run(stream(api, [ChatMessage.user("hi")]))[-1].response
        assert final.tool_calls == (ToolCall(id="c", name="f", arguments={"a": [1, 2]}),)

    def test_arguments_of_another_type_are_a_protocol_error(self, api):
        """Arguments that are neither text nor an object raise ProviderProtocolError."""
        call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": [1]}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        api.reply_json(completion(message, finish="tool_calls"))
        with pytest.raises(ProviderProtocolError, match="'f'"):
            run(complete(api, [ChatMessage.user("hi")]))

    @pytest.mark.parametrize("piece_size", [None, 3])
    def test_interleaved_calls_with_late_ids_stay_apart(self, api, piece_size):
        """Two calls interleaved by index, ids sent after the arguments, keep their own parts."""

        def part(index, **function):
            return chunk({"tool_calls": [{"index": index, "function": function}]})

        def late_id(index, call_id):
            return chunk({"tool_calls": [{"index": index, "id": call_id}]})

        api.reply_sse(
            [
                part(0, name="get_weather"),
                part(1, name="get_time"),
                part(0, arguments='{"city": '),
                part(1, arguments='{"tz": "U'),
                part(0, arguments='"Lima"}'),
                part(1, arguments='TC"}'),
                late_id(1, "id-b"),
                late_id(0, "id-a"),
                chunk({}, finish="tool_calls"),
                "data: [DONE]\n\n",
            ],
            piece_size=piece_size,
        )
        final = run(stream(api, [ChatMessage.user("?")], [WEATHER]))[-1].response
        assert final.tool_calls == (
            ToolCall(id="id-a", name="get_weather", arguments={"city": "Lima"}),
            ToolCall(id="id-b", name="get_time", arguments={"tz": "UTC"}),
        )

"""AnthropicProvider against a real HTTP server speaking the Messages API."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from agentic.providers import (
    ANTHROPIC_VERSION,
    AnthropicProvider,
    ChatMessage,
    CompletionParams,
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderProtocolError,
    ProviderRateLimitError,
    ProviderServerError,
    ToolCall,
    ToolSpec,
)

KEY = "sk-ant-test-456"
WEATHER = ToolSpec(
    name="get_weather",
    description="Get the current weather in a given location",
    parameters={
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
)


def run(coro):
    return asyncio.run(coro)


def make(api, **kwargs):
    return AnthropicProvider(model="claude-sonnet-4-5", api_key=KEY, base_url=api.url, **kwargs)


async def complete(api, messages, tools=None, params=None, **kwargs):
    async with make(api, **kwargs) as provider:
        return await provider.complete(messages, tools, params)


async def stream(api, messages, tools=None, params=None):
    async with make(api) as provider:
        return [c async for c in provider.stream(messages, tools, params)]


def message(content, stop="end_turn", usage=(25, 10)):
    """A Message object shaped as the API reference documents it."""
    return {
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    }


def start_events(input_tokens=472):
    return [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_stream_1",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "claude-sonnet-4-5-20250929",
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": input_tokens, "output_tokens": 2},
                },
            },
        ),
    ]


TOOL_STREAM = [
    *start_events(),
    (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    ("ping", {"type": "ping"}),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "Let me check"},
        },
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": " the weather."},
        },
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    (
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {
                "type": "tool_use",
                "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                "name": "get_weather",
                "input": {},
            },
        },
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": ""},
        },
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"location":'},
        },
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": ' "San Fra'},
        },
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": 'ncisco, CA"}'},
        },
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 89},
        },
    ),
    ("message_stop", {"type": "message_stop"}),
]


class TestRequestBody:
    def test_body_per_reference(self, api):
        """System goes top-level; tool calls are tool_use blocks; results are tool_result blocks."""
        api.reply_json(message([{"type": "text", "text": "ok"}]))
        call = ToolCall(id="toolu_1", name="get_weather", arguments={"location": "Paris"})
        call2 = ToolCall(id="toolu_2", name="get_weather", arguments={"location": "Oslo"})
        messages = [
            ChatMessage.system("You are terse."),
            ChatMessage.user("Weather in Paris and Oslo?"),
            ChatMessage.assistant("Checking.", tool_calls=(call, call2)),
            ChatMessage.tool("15 C", tool_call_id="toolu_1", name="get_weather"),
            ChatMessage.tool("boom", tool_call_id="toolu_2", name="get_weather", is_error=True),
        ]
        params = CompletionParams(
            temperature=0.5, max_tokens=300, stop=("###",), tool_choice="required"
        )
        run(complete(api, messages, [WEATHER], params))
        (request,) = api.requests
        assert request.path == "/v1/messages"
        assert request.body == {
            "model": "claude-sonnet-4-5",
            "max_tokens": 300,
            "system": "You are terse.",
            "messages": [
                {"role": "user", "content": "Weather in Paris and Oslo?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Checking."},
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "get_weather",
                            "input": {"location": "Paris"},
                        },
                        {
                            "type": "tool_use",
                            "id": "toolu_2",
                            "name": "get_weather",
                            "input": {"location": "Oslo"},
                        },
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "15 C"},
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_2",
                            "content": "boom",
                            "is_error": True,
                        },
                    ],
                },
            ],
            "tools": [
                {
                    "name": "get_weather",
                    "description": WEATHER.description,
                    "input_schema": WEATHER.parameters,
                }
            ],
            "tool_choice": {"type": "any"},
            "temperature": 0.5,
            "stop_sequences": ["###"],
        }

    def test_empty_messages_are_dropped_and_same_roles_merged(self, api):
        """An empty assistant turn is left out; the user turns around it merge into one."""
        api.reply_json(message([{"type": "text", "text": "ok"}]))
        run(
            complete(
                api, [ChatMessage.user("a"), ChatMessage.assistant(None), ChatMessage.user("b")]
            )
        )
        assert api.requests[0].body["messages"] == [
            {
                "role": "user",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            }
        ]

    def test_headers(self, api):
        """x-api-key and anthropic-version headers are sent; no Authorization header."""
        api.reply_json(message([{"type": "text", "text": "ok"}]))
        run(complete(api, [ChatMessage.user("hi")]))
        headers = api.requests[0].headers
        assert headers["x-api-key"] == KEY
        assert headers["anthropic-version"] == ANTHROPIC_VERSION == "2023-06-01"
        assert headers["content-type"] == "application/json"
        assert "authorization" not in headers

    def test_default_max_tokens_and_stream_flag(self, api):
        """max_tokens is always sent (required); streaming sets stream: true."""
        api.reply_sse([*start_events(), ("message_stop", {"type": "message_stop"})])
        run(stream(api, [ChatMessage.user("hi")]))
        body = api.requests[0].body
        assert body["max_tokens"] == 4096
        assert body["stream"] is True
        assert "system" not in body

    def test_tool_choice_forms(self, api):
        """auto, none and a tool name map to Anthropic's tool_choice objects."""
        for choice, expected in [
            ("auto", {"type": "auto"}),
            ("none", {"type": "none"}),
            ("get_weather", {"type": "tool", "name": "get_weather"}),
        ]:
            api.reply_json(message([{"type": "text", "text": "ok"}]))
            run(
                complete(
                    api, [ChatMessage.user("hi")], [WEATHER], CompletionParams(tool_choice=choice)
                )
            )
            assert api.requests[-1].body["tool_choice"] == expected


class TestJSONResponses:
    def test_text_and_tool_use_blocks(self, api):
        """Text blocks join into content; tool_use blocks become ToolCalls; usage is read."""
        api.reply_json(
            message(
                [
                    {"type": "text", "text": "I'll check."},
                    {
                        "type": "tool_use",
                        "id": "toolu_9",
                        "name": "get_weather",
                        "input": {"location": "SF"},
                    },
                ],
                stop="tool_use",
                usage=(100, 40),
            )
        )
        response = run(complete(api, [ChatMessage.user("weather?")], [WEATHER]))
        assert response.content == "I'll check."
        assert response.tool_calls == (
            ToolCall(id="toolu_9", name="get_weather", arguments={"location": "SF"}),
        )
        assert (response.finish_reason, response.raw_finish_reason) == ("tool_calls", "tool_use")
        assert (response.usage.input_tokens, response.usage.output_tokens) == (100, 40)
        assert response.id == "msg_013Zva2CMHLNnXjNJJKqJ2EF"

    def test_max_tokens_stop_reason_is_length(self, api):
        """stop_reason max_tokens normalizes to finish_reason length."""
        api.reply_json(message([{"type": "text", "text": "cut"}], stop="max_tokens"))
        assert run(complete(api, [ChatMessage.user("hi")])).finish_reason == "length"


class TestStreaming:
    @pytest.mark.parametrize("piece_size", [None, 13])
    def test_full_event_sequence_with_split_tool_input(self, api, piece_size):
        """Text and input_json_delta fragments reassemble; usage combines start and delta."""
        api.reply_sse(TOOL_STREAM, piece_size=piece_size)
        chunks = run(stream(api, [ChatMessage.user("weather?")], [WEATHER]))
        assert "".join(c.delta for c in chunks) == "Let me check the weather."
        deltas = [d for c in chunks for d in c.tool_call_deltas]
        assert deltas[0].id == "toolu_01T1x1fJ34qAmk2tNTrN7Up6"
        assert {d.index for d in deltas} == {0}
        final = chunks[-1].response
        assert final.content == "Let me check the weather."
        assert final.tool_calls == (
            ToolCall(
                id="toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                name="get_weather",
                arguments={"location": "San Francisco, CA"},
            ),
        )
        assert (final.usage.input_tokens, final.usage.output_tokens) == (472, 89)
        assert final.finish_reason == "tool_calls"
        assert final.id == "msg_stream_1"

    def test_unknown_deltas_are_skipped(self, api):
        """Thinking blocks and unknown event types do not disturb the answer."""
        api.reply_sse(
            [
                *start_events(),
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "thinking", "thinking": ""},
                    },
                ),
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "thinking_delta", "thinking": "hmm"},
                    },
                ),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 1,
                        "content_block": {"type": "text", "text": ""},
                    },
                ),
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 1,
                        "delta": {"type": "text_delta", "text": "Hi"},
                    },
                ),
                ("future_event", {"type": "future_event"}),
                (
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": "end_turn"},
                        "usage": {"output_tokens": 3},
                    },
                ),
                ("message_stop", {"type": "message_stop"}),
            ]
        )
        final = run(stream(api, [ChatMessage.user("hi")]))[-1].response
        assert (final.content, final.finish_reason) == ("Hi", "stop")


class TestErrors:
    def test_401(self, api):
        """401 maps to ProviderAuthError with Anthropic's error type."""
        api.reply_json(
            {
                "type": "error",
                "error": {"type": "authentication_error", "message": "invalid x-api-key"},
            },
            status=401,
        )
        with pytest.raises(ProviderAuthError, match="invalid x-api-key") as info:
            run(complete(api, [ChatMessage.user("hi")]))
        assert info.value.error_type == "authentication_error"

    def test_429_with_retry_after_and_request_id(self, api):
        """429 carries retry-after seconds and the request-id header."""
        api.reply_json(
            {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
            status=429,
            headers={"retry-after": "12", "request-id": "req_011"},
        )
        with pytest.raises(ProviderRateLimitError) as info:
            run(complete(api, [ChatMessage.user("hi")]))
        assert (info.value.retry_after, info.value.request_id) == (12.0, "req_011")

    def test_429_with_only_anthropic_reset_headers(self, api):
        """Without retry-after, the anthropic-ratelimit-*-reset times give the wait."""
        reset = (datetime.now(UTC) + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
        api.reply_json(
            {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
            status=429,
            headers={"anthropic-ratelimit-tokens-reset": reset},
        )
        with pytest.raises(ProviderRateLimitError) as info:
            run(complete(api, [ChatMessage.user("hi")]))
        assert info.value.retry_after is not None
        assert 25 < info.value.retry_after <= 30

    def test_529_overloaded_is_retryable_server_error(self, api):
        """529 overloaded maps to a retryable ProviderServerError."""
        api.reply_json(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            status=529,
        )
        with pytest.raises(ProviderServerError) as info:
            run(complete(api, [ChatMessage.user("hi")]))
        assert (info.value.status_code, info.value.retryable) == (529, True)

    def test_500(self, api):
        """500 maps to ProviderServerError."""
        api.reply_json(
            {"type": "error", "error": {"type": "api_error", "message": "oops"}}, status=500
        )
        with pytest.raises(ProviderServerError):
            run(complete(api, [ChatMessage.user("hi")]))

    def test_400(self, api):
        """400 maps to ProviderBadRequestError."""
        api.reply_json(
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
            },
            status=400,
        )
        with pytest.raises(ProviderBadRequestError, match="max_tokens"):
            run(complete(api, [ChatMessage.user("hi")]))

    def test_error_event_mid_stream(self, api):
        """An `error` SSE event (overloaded) raises a retryable ProviderServerError."""
        api.reply_sse(
            [
                *start_events(),
                (
                    "error",
                    {
                        "type": "error",
                        "error": {"type": "overloaded_error", "message": "Overloaded"},
                    },
                ),
            ]
        )
        with pytest.raises(ProviderServerError, match="Overloaded") as info:
            run(stream(api, [ChatMessage.user("hi")]))
        assert info.value.retryable

    def test_malformed_json(self, api):
        """A non-JSON body raises ProviderProtocolError."""
        api.reply_json(b'{"type": "message", "content": [')
        with pytest.raises(ProviderProtocolError, match="malformed JSON"):
            run(complete(api, [ChatMessage.user("hi")]))

    def test_malformed_stream_event(self, api):
        """An event whose data is not JSON raises ProviderProtocolError."""
        api.reply_sse([*start_events(), "event: content_block_delta\ndata: {oops\n\n"])
        with pytest.raises(ProviderProtocolError, match="malformed stream event"):
            run(stream(api, [ChatMessage.user("hi")]))

    def test_connection_dropped_mid_stream(self, api):
        """A connection closed mid-stream raises a retryable ProviderProtocolError."""
        api.reply_sse(TOOL_STREAM, drop_after=5)
        with pytest.raises(ProviderProtocolError, match="dropped mid-stream") as info:
            run(stream(api, [ChatMessage.user("hi")], [WEATHER]))
        assert info.value.retryable

    def test_stream_ending_without_message_stop(self, api):
        """A stream that ends before message_stop is a retryable protocol error."""
        api.reply_sse(TOOL_STREAM[:-1])
        with pytest.raises(ProviderProtocolError, match="message_stop"):
            run(stream(api, [ChatMessage.user("hi")], [WEATHER]))


class TestCutOffToolInput:
    def test_tool_input_cut_at_max_tokens_is_not_completed_into_a_call(self, api):
        """A tool_use whose input the model stopped writing (max_tokens) never becomes a call."""
        cut = [e for e in TOOL_STREAM if e[0] != "content_block_stop" or e[1]["index"] == 0]
        cut = [e for e in cut if "ncisco" not in str(e)]
        cut[-2] = (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
                "usage": {"output_tokens": 89},
            },
        )
        api.reply_sse(cut)
        with pytest.raises(ProviderProtocolError, match=r"'get_weather'.*cut off") as info:
            run(stream(api, [ChatMessage.user("weather?")], [WEATHER]))
        assert not info.value.retryable


class TestDatalessEvents:
    def test_pings_without_data_or_with_empty_data_are_ignored(self, api):
        """`event: ping` with no data line, or an empty one, does not break the stream."""
        events = list(TOOL_STREAM)
        events[2:2] = ["event: ping\n\n", "event: ping\ndata:\n\n"]
        api.reply_sse(events)
        final = run(stream(api, [ChatMessage.user("weather?")], [WEATHER]))[-1].response
        assert final.content == "Let me check the weather."
        assert final.tool_calls[0].arguments == {"location": "San Francisco, CA"}


CACHED_USAGE = {
    "input_tokens": 12,
    "cache_creation_input_tokens": 300,
    "cache_read_input_tokens": 2000,
    "output_tokens": 40,
}


class TestCachedPromptTokens:
    def test_complete_counts_cached_prompt_tokens_as_input(self, api):
        """input_tokens covers the whole prompt: uncached, cache writes and cache reads."""
        body = message([{"type": "text", "text": "ok"}])
        api.reply_json({**body, "usage": CACHED_USAGE})
        usage = run(complete(api, [ChatMessage.user("hi")])).usage
        assert (usage.input_tokens, usage.output_tokens) == (2312, 40)

    def test_stream_counts_cached_prompt_tokens_as_input(self, api):
        """The same holds for the usage of message_start and message_delta."""
        events = list(TOOL_STREAM)
        start = events[0][1]
        events[0] = (
            "message_start",
            {
                **start,
                "message": {**start["message"], "usage": {**CACHED_USAGE, "output_tokens": 1}},
            },
        )
        api.reply_sse(events)
        usage = run(stream(api, [ChatMessage.user("weather?")], [WEATHER]))[-1].response.usage
        assert (usage.input_tokens, usage.output_tokens) == (2312, 89)

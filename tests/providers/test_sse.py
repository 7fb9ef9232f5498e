"""The server-sent events decoder follows the WHATWG parsing rules."""

import asyncio

from agentic.providers._sse import ServerSentEvent, SSEDecoder, aiter_sse


def decode(lines):
    async def source():
        for line in lines:
            yield line

    async def go():
        return [e async for e in aiter_sse(source())]

    return asyncio.run(go())


class TestDecoder:
    def test_blank_line_dispatches(self):
        """An event is dispatched on the blank line that ends it."""
        decoder = SSEDecoder()
        assert decoder.decode("event: ping") is None
        assert decoder.decode('data: {"type": "ping"}') is None
        assert decoder.decode("") == ServerSentEvent("ping", '{"type": "ping"}')

    def test_multiline_data_joins_with_newlines(self):
        """Several data lines join with a newline."""
        assert decode(["data: a", "data: b", ""]) == [ServerSentEvent("message", "a\nb")]

    def test_comments_and_unknown_fields_are_ignored(self):
        """Comment lines and unknown fields do not create events."""
        assert decode([": keep-alive", "", "retry: 100", "foo: bar", ""]) == []

    def test_only_one_leading_space_is_stripped(self):
        """`data:x` and `data:  x` keep everything after the first optional space."""
        assert decode(["data:x", "", "data:  x", ""]) == [
            ServerSentEvent("message", "x"),
            ServerSentEvent("message", " x"),
        ]

    def test_carriage_returns_and_final_event_without_blank_line(self):
        """CR line endings are stripped; a final unterminated event is still dispatched."""
        assert decode(["id: 7\r", "data: [DONE]\r"]) == [ServerSentEvent("message", "[DONE]", "7")]

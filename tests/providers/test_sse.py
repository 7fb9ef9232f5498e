"""The server-sent events decoder follows the WHATWG parsing rules."""

import asyncio
import itertools

from hypothesis import assume, given
from hypothesis import strategies as st

from agentic.providers._sse import ServerSentEvent, SSEDecoder, SSELineSplitter, aiter_sse


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

    def test_a_block_without_data_lines_dispatches_nothing(self):
        """An `event:` (or `id:`) block with no `data:` line is not an event (WHATWG step 2)."""
        assert decode(["event: ping", "", "id: 3", "", "data: x", ""]) == [
            ServerSentEvent("message", "x", "3")
        ]

    def test_carriage_returns_and_final_event_without_blank_line(self):
        """CR line endings are stripped; a final unterminated event is still dispatched."""
        assert decode(["id: 7\r", "data: [DONE]\r"]) == [ServerSentEvent("message", "[DONE]", "7")]


LINE_TEXT = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]))


class TestLineSplitter:
    @given(
        lines=st.lists(LINE_TEXT, min_size=1, max_size=6),
        endings=st.lists(st.sampled_from(["\r\n", "\n", "\r"]), min_size=6, max_size=6),
        cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    )
    def test_lines_survive_any_cut_of_the_bytes(self, lines, endings, cuts):
        """Lines end only at CRLF, LF or CR, wherever the bytes are cut (even in a character)."""
        used = endings[: len(lines)]
        blob = "".join(line + end for line, end in zip(lines, used, strict=True)).encode()
        assume(blob.count(b"\r\n") == used.count("\r\n"))  # CR then an empty LF line: CRLF
        bounds = sorted({0, len(blob), *(c for c in cuts if c < len(blob))})
        splitter = SSELineSplitter()
        out: list[str] = []
        for a, b in itertools.pairwise(bounds):
            out.extend(splitter.feed(blob[a:b]))
        out.extend(splitter.flush())
        assert out == lines

    def test_unterminated_last_line_and_byte_order_mark(self):
        """A last line without an ending is flushed; one leading BOM is dropped."""
        splitter = SSELineSplitter()
        assert splitter.feed("\ufeffdata: a\r".encode()) == ["data: a"]
        assert splitter.feed(b"\ndata: \xe2\x80") == []
        assert splitter.feed(b"\xa8b") == []
        assert splitter.flush() == ["data: \u2028b"]

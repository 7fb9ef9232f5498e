"""A decoder for server-sent events (the WHATWG `text/event-stream` format)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

__all__ = ["SSEDecoder", "SSELineSplitter", "ServerSentEvent", "aiter_sse"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event."""

    event: str
    """The event type (`"message"` when the stream gave none)."""
    data: str
    """The data lines joined with newlines."""
    id: str | None = None
    """The last event id, if any."""


class SSEDecoder:
    """Turn lines (without their line endings) into events, per the WHATWG rules.

    Lines starting with `:` are comments; a blank line dispatches the event built so
    far (a block without any `data:` line dispatches nothing); `data:` lines
    accumulate; a single space after the colon is dropped.
    """

    __slots__ = ("_data", "_event", "_id")

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def decode(self, line: str) -> ServerSentEvent | None:
        """Feed one line; return an event when the line completes one."""
        if not line:
            if not self._data:  # no data line: nothing to dispatch (WHATWG step 2)
                self._event = ""
                return None
            event = ServerSentEvent(self._event or "message", "\n".join(self._data), self._id)
            self._event = ""
            self._data = []
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._id = value
        # "retry" and unknown fields are ignored, as the spec says.
        return None

    def flush(self) -> ServerSentEvent | None:
        """Dispatch a last event the stream did not end with a blank line."""
        return self.decode("")


class SSELineSplitter:
    """Split a byte stream into SSE lines, cut anywhere across reads.

    An event stream's lines end only at CRLF, LF or CR (a CRLF split between two reads
    is one line end). Splitting the bytes before decoding keeps U+2028, U+2029 and
    U+0085 inside the text: `str.splitlines` (and so httpx's `aiter_lines`) would cut
    a JSON string in two at them. Each line is decoded as UTF-8 (bad bytes become
    U+FFFD), so a character split between reads is whole in its line.
    """

    __slots__ = ("_buffer", "_pending_cr", "_started")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pending_cr = False
        self._started = False

    def feed(self, data: bytes) -> list[str]:
        """Take the next bytes; return the lines they complete (without line endings)."""
        if self._pending_cr and data.startswith(b"\n"):
            data = data[1:]  # the LF of a CRLF whose CR ended the previous read
        self._pending_cr = False
        if not data:
            return []
        if b"\r" in data:
            # A CR that ends the read may be the first half of a CRLF.
            self._pending_cr = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        cut = data.rfind(b"\n")
        if cut < 0:
            self._buffer += data
            return []
        head = data[:cut]
        if self._buffer:  # it holds no line end: the start of the first line
            head = bytes(self._buffer) + head
            self._buffer.clear()
        self._buffer += data[cut + 1 :]
        return self._decode(head).split("\n")

    def flush(self) -> list[str]:
        """Return the last line when the stream ended without a line end."""
        if not self._buffer:
            return []
        line = self._decode(bytes(self._buffer))
        self._buffer.clear()
        return [line]

    def _decode(self, raw: bytes) -> str:
        # Whole lines only: a UTF-8 sequence never contains a CR or LF byte.
        text = raw.decode("utf-8", "replace")
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")  # one leading byte-order mark is ignored
        return text


async def aiter_sse(lines: AsyncIterator[str]) -> AsyncIterator[ServerSentEvent]:
    """Decode an async iterator of lines into server-sent events."""
    decoder = SSEDecoder()
    async for line in lines:
        event = decoder.decode(line.rstrip("\r\n"))
        if event is not None:
            yield event
    last = decoder.flush()
    if last is not None:
        yield last

"""A decoder for server-sent events (the WHATWG `text/event-stream` format)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

__all__ = ["SSEDecoder", "ServerSentEvent", "aiter_sse"]


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
    far; `data:` lines accumulate; a single space after the colon is dropped.
    """

    __slots__ = ("_data", "_event", "_id")

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def decode(self, line: str) -> ServerSentEvent | None:
        """Feed one line; return an event when the line completes one."""
        if not line:
            if not self._data and not self._event:
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

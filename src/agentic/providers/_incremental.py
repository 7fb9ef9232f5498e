"""An incremental parser that yields complete JSON objects from streamed text."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from agentic.providers._errors import StructuredOutputError
from agentic.providers._structured import loads_json

__all__ = ["IncrementalJSONParser", "aiter_json"]

_SPECIAL = re.compile(r'[{}\[\]"\\]')


class IncrementalJSONParser:
    """Feed text chunks; get each top-level JSON object as soon as its last brace arrives.

    Text between values (prose, whitespace, code fences) is skipped. Strings are
    tracked with their escapes, so braces inside strings never end an object. Each
    chunk is scanned once; the work per chunk is proportional to its length.

    Example:
        >>> parser = IncrementalJSONParser()
        >>> parser.feed('Here: {"a": "}"')
        []
        >>> parser.feed(', "b": 1} and {"c": 2}')
        [{'a': '}', 'b': 1}, {'c': 2}]

    Args:
        arrays: Also yield top-level arrays (by default only objects start a value,
            so a `[1]` footnote in prose is not taken for JSON).
        strict: Raise on a balanced value that is not valid JSON, instead of
            skipping it (skipped text is kept in `skipped`).
    """

    __slots__ = (
        "_arrays",
        "_buffer",
        "_depth",
        "_escape_pending",
        "_in_string",
        "_strict",
        "skipped",
    )

    def __init__(self, *, arrays: bool = False, strict: bool = False) -> None:
        self._arrays = arrays
        self._strict = strict
        self._buffer: list[str] = []
        self._depth = 0
        self._in_string = False
        self._escape_pending = False
        self.skipped: list[str] = []
        """Balanced values that were not valid JSON (non-strict mode)."""

    @property
    def pending(self) -> str:
        """The text of the value begun but not yet complete (empty between values)."""
        return "".join(self._buffer)

    def feed(self, chunk: str) -> list[Any]:  # noqa: C901 - one pass, one loop, by design
        """Scan `chunk`; return the values it completes, in order.

        Raises:
            StructuredOutputError: In strict mode, a completed value is not valid JSON.
        """
        values: list[Any] = []
        depth = self._depth
        in_string = self._in_string
        skip = 0 if self._escape_pending else -1
        self._escape_pending = False
        start = 0 if depth else -1
        openers = "{[" if self._arrays else "{"
        for match in _SPECIAL.finditer(chunk):
            pos = match.start()
            if pos == skip:
                continue
            char = chunk[pos]
            if depth == 0:
                if char in openers:
                    depth, start, in_string = 1, pos, False
                continue
            if in_string:
                if char == "\\":
                    skip = pos + 1
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    self._buffer.append(chunk[start : pos + 1])
                    self._emit(values)
        if depth:
            self._buffer.append(chunk[start:])
            self._escape_pending = skip == len(chunk)
        self._depth = depth
        self._in_string = in_string
        return values

    def _emit(self, values: list[Any]) -> None:
        text = "".join(self._buffer)
        self._buffer.clear()
        try:
            values.append(loads_json(text))
        except ValueError as exc:
            if self._strict:
                msg = f"streamed value is not valid JSON: {text[:200]!r}"
                raise StructuredOutputError(msg, text=text, target="JSON") from exc
            self.skipped.append(text)

    def close(self) -> None:
        """Declare the stream finished.

        Raises:
            StructuredOutputError: A value was begun but never completed.
        """
        if self._depth:
            text = self.pending
            msg = f"stream ended inside a JSON value: {text[:200]!r}"
            raise StructuredOutputError(msg, text=text, target="JSON")


async def aiter_json(
    chunks: AsyncIterator[str], *, arrays: bool = False, strict: bool = False
) -> AsyncIterator[Any]:
    """Yield each complete JSON object found in an async stream of text chunks."""
    parser = IncrementalJSONParser(arrays=arrays, strict=strict)
    async for chunk in chunks:
        for value in parser.feed(chunk):
            yield value
    parser.close()

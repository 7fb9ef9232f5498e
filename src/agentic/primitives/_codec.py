"""JSON encoding and decoding through orjson, with our errors."""

from __future__ import annotations

from typing import Any

import orjson

from agentic.errors import SerializationError

__all__ = ["dumps", "loads"]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any, *, what: str = "value") -> bytes:
    """Encode `value` as JSON bytes.

    Args:
        value: Any JSON-compatible value (dicts, lists, str, numbers, bool, None,
            UUID, datetime, enums).
        what: Names the value in the error message.

    Returns:
        The UTF-8 JSON document.

    Raises:
        SerializationError: The value holds something JSON cannot represent.
    """
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError as exc:
        msg = f"{what} is not JSON-serializable: {exc}"
        raise SerializationError(msg) from exc


def loads(data: bytes | bytearray | memoryview | str, *, what: str = "document") -> Any:
    """Decode a JSON document.

    Args:
        data: The JSON text or bytes.
        what: Names the document in the error message.

    Returns:
        The decoded value.

    Raises:
        SerializationError: The document is not valid JSON (or not valid UTF-8).
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        msg = f"malformed JSON in {what}: {exc}"
        raise SerializationError(msg) from exc

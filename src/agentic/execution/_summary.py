"""Summaries: a compact, verifiable stand-in for a large value in an audit Log.

A summary replaces a value too large to copy into every Log (a whole conversation,
a long file) with its shape, its size and a digest::

    {"$summary": true, "type": "array", "items": 800, "bytes": 183204, "sha256": "9f2c..."}

`bytes` is the length of the value's canonical JSON and `sha256` its digest, so
anyone holding the full value can check that it is the one the Log accounts for:
`summarize(value) == log.record["arguments"]["messages"]`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
from pydantic_core import PydanticSerializationError, to_jsonable_python

from agentic.errors import SerializationError

__all__ = ["SUMMARY_KEY", "canonical_json", "is_summary", "summarize"]

SUMMARY_KEY = "$summary"
"""The key that marks a dict as a summary of a value rather than the value."""

_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
_PLAIN = orjson.OPT_NON_STR_KEYS

_JSON_TYPES = {
    dict: "object",
    list: "array",
    tuple: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _default(value: Any) -> Any:
    # Called by orjson for what it does not know (pydantic models, sets, bytes...):
    # the same JSON form pydantic gives the value in `model_dump(mode="json")`.
    return to_jsonable_python(value)


def _dumps(value: Any, option: int) -> bytes:
    try:
        return orjson.dumps(value, option=option, default=_default)
    except (TypeError, PydanticSerializationError) as orjson_error:
        # orjson refuses integers beyond 64 bits: the standard library does not.
        try:
            jsonable = to_jsonable_python(value)
            text = json.dumps(
                jsonable,
                sort_keys=bool(option & orjson.OPT_SORT_KEYS),
                separators=(",", ":"),
                ensure_ascii=False,
            )
        except (TypeError, ValueError, PydanticSerializationError) as exc:
            msg = f"a {type(value).__name__} value is not JSON-serializable: {orjson_error}"
            raise SerializationError(msg) from exc
        return text.encode()


def canonical_json(value: Any) -> bytes:
    """Return the canonical JSON of `value`: the bytes a summary's digest is taken of.

    Canonical means UTF-8, no whitespace, object keys sorted, non-ASCII characters
    as they are (not escaped): what `orjson.dumps(value,
    option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)` gives, and also
    `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
    for values without floats. Values JSON lacks (datetimes, UUIDs, pydantic models)
    take the form pydantic gives them in JSON mode.

    Raises:
        SerializationError: The value holds something JSON cannot represent.
    """
    return _dumps(value, _CANONICAL)


def _json_type(value: Any) -> str:
    kind = _JSON_TYPES.get(type(value))
    if kind is not None:
        return kind
    for cls, name in _JSON_TYPES.items():  # subclasses (a str enum, an OrderedDict)
        if isinstance(value, cls):
            return name
    return "other"


def summarize(value: Any) -> dict[str, Any]:
    """Return the summary of `value`: its JSON type, size and digest.

    The result is `{"$summary": True, "type": ..., "bytes": ..., "sha256": ...}`
    plus `"items"` (the number of elements or keys) for arrays and objects. It
    depends only on the value's canonical JSON, so equal values always have equal
    summaries.

    Args:
        value: A JSON-compatible value.

    Raises:
        SerializationError: The value holds something JSON cannot represent.
    """
    return _summary(value, canonical_json(value))


def _summary(value: Any, canonical: bytes) -> dict[str, Any]:
    kind = _json_type(value)
    summary: dict[str, Any] = {SUMMARY_KEY: True, "type": kind}
    if kind in ("array", "object"):
        summary["items"] = len(value)
    summary["bytes"] = len(canonical)
    summary["sha256"] = hashlib.sha256(canonical).hexdigest()
    return summary


def is_summary(value: Any) -> bool:
    """Return whether `value` is a summary made by [`summarize()`][agentic.execution.summarize]."""
    return isinstance(value, dict) and value.get(SUMMARY_KEY) is True


def bound(value: Any, max_bytes: int | None) -> tuple[Any, int]:
    """Return `value` as a Log stores it, and the size of its JSON.

    The stored form is a fresh JSON-mode copy of the value (nothing shared with the
    live Event), or its summary when its JSON is longer than `max_bytes`.
    """
    if value is None or value is True or value is False:  # the common response: None
        size = 5 if value is False else 4
        if max_bytes is None or size <= max_bytes:
            return value, size
    canonical = canonical_json(value)  # one pass over a large value: size and digest
    size = len(canonical)
    if max_bytes is not None and size > max_bytes:
        return _summary(value, canonical), size
    if type(value) is str:
        return value, size
    try:
        plain = orjson.dumps(value, option=_PLAIN, default=_default)
    except (TypeError, PydanticSerializationError):
        # Integers beyond 64 bits: orjson would read them back as floats, so the
        # standard library makes the copy (exact, as the digest above is).
        return json.loads(_dumps(value, _PLAIN)), size
    return orjson.loads(plain), size  # keys in their own order

"""Decoding stored rows into Records, and checking a page of rows for gaps."""

from __future__ import annotations

from typing import Any

import orjson

from agentic.store._errors import CorruptRecordError
from agentic.store._record import Record

__all__ = ["COLUMNS", "decode", "missing"]

COLUMNS = (
    "position, stream, sequence, type, payload, timestamp, "
    "correlation_id, causation_id, idempotency_key"
)
"""The columns of a record row, in Record's field order."""


def missing(rows: list[Any], column: int, expected: int, what: str) -> None:
    for row in rows:
        if row[column] != expected:
            msg = f"{what} {expected} (next stored is {row[column]} at position {row[0]})"
            raise CorruptRecordError(msg, position=expected if column == 0 else row[0])
        expected += 1
    msg = f"{what} {expected} (no record stored at or after it)"
    raise CorruptRecordError(msg, position=expected if column == 0 else None)


def decode(rows: list[Any]) -> list[Record]:
    # The hot path of replay: decode every payload, check their types in one pass,
    # and build the tuples without Record.__new__'s argument handling (2x faster).
    loads = orjson.loads
    try:
        payloads = [loads(row[4]) for row in rows]
    except orjson.JSONDecodeError:
        payloads = []
    if len(payloads) == len(rows) and all(type(payload) is dict for payload in payloads):
        new = tuple.__new__
        return [
            new(Record, (row[0], row[1], row[2], row[3], payload, row[5], row[6], row[7], row[8]))
            for row, payload in zip(rows, payloads, strict=True)
        ]
    for row in rows:  # find the culprit, for the message
        try:
            payload = loads(row[4])
        except orjson.JSONDecodeError as exc:
            where = f"record at position {row[0]} ({row[1]!r} #{row[2]})"
            msg = f"{where} has a malformed payload: {exc}"
            raise CorruptRecordError(msg, position=row[0]) from exc
        if not isinstance(payload, dict):
            msg = (
                f"record at position {row[0]} ({row[1]!r} #{row[2]}) has a payload that "
                f"is not a JSON object but {type(payload).__name__}"
            )
            raise CorruptRecordError(msg, position=row[0])
    return []  # pragma: no cover - unreachable: a bad row raised above

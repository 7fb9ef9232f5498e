"""Tests for agentic.primitives._codec: orjson in, our errors out."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from uuid import uuid4

import pytest
from hypothesis import given
from tests.strategies import json_values

from agentic.errors import SerializationError
from agentic.primitives import _codec


class Kind(Enum):
    A = "a"


class TestDumps:
    @given(json_values)
    def test_json_values_round_trip(self, value):
        """Every JSON value comes back unchanged from dumps then loads."""
        assert _codec.loads(_codec.dumps(value)) == value

    def test_rich_values_become_json(self):
        """UUIDs, datetimes and enums are written in their JSON forms."""
        ident = uuid4()
        when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
        assert _codec.loads(_codec.dumps({"i": ident, "w": when, "k": Kind.A})) == {
            "i": str(ident),
            "w": "2024-05-06T07:08:09+00:00",
            "k": "a",
        }

    def test_unserializable_value_is_named(self):
        """A value JSON cannot hold raises SerializationError naming `what`."""
        with pytest.raises(SerializationError, match="my payload is not JSON-serializable"):
            _codec.dumps({"x": object()}, what="my payload")


class TestLoads:
    @pytest.mark.parametrize("doc", [b"{", b"[1,]", b"", "nul", b"\xff\xfe"])
    def test_malformed_json_is_named(self, doc):
        """Malformed JSON (or bad UTF-8) raises SerializationError naming the document."""
        with pytest.raises(SerializationError, match="malformed JSON in the config"):
            _codec.loads(doc, what="the config")

    def test_not_text_at_all(self):
        """A value that is not text or bytes raises SerializationError."""
        with pytest.raises(SerializationError, match="malformed JSON"):
            _codec.loads(5)  # type: ignore[arg-type]

    def test_accepts_str_bytes_and_memoryview(self):
        """Text, bytes, bytearray and memoryview are all read."""
        for doc in ('{"a":1}', b'{"a":1}', bytearray(b'{"a":1}'), memoryview(b'{"a":1}')):
            assert _codec.loads(doc) == {"a": 1}

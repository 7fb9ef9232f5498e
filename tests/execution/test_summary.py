"""Tests for summaries: compact, deterministic and verifiable stand-ins for large values."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from agentic.errors import SerializationError
from agentic.execution import SUMMARY_KEY, canonical_json, is_summary, summarize
from agentic.execution._summary import bound

# JSON values without floats: the standard library writes those as orjson does.
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=40,
)


def stdlib_canonical(value: Any) -> bytes:
    """Canonical JSON by the standard library: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def shuffled(value: Any) -> Any:
    """The same value with every object's keys in reverse insertion order."""
    if isinstance(value, dict):
        return {key: shuffled(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [shuffled(item) for item in value]
    return value


class TestSummaryProperties:
    @settings(max_examples=200)
    @given(JSON)
    def test_digest_and_size_are_of_the_canonical_json(self, value):
        """sha256 and bytes are those of the value's canonical JSON (as json.dumps writes it)."""
        canonical = stdlib_canonical(value)
        assert canonical_json(value) == canonical
        summary = summarize(value)
        assert summary["sha256"] == hashlib.sha256(canonical).hexdigest()
        assert summary["bytes"] == len(canonical)
        assert summary[SUMMARY_KEY] is True
        assert is_summary(summary)

    @given(JSON)
    def test_deterministic_whatever_the_key_order(self, value):
        """Equal values (keys in any order, any copy) have equal summaries."""
        assert summarize(value) == summarize(copy.deepcopy(value)) == summarize(shuffled(value))

    @given(JSON, JSON)
    def test_different_values_have_different_digests(self, a, b):
        """Values with different canonical JSON have different digests."""
        if stdlib_canonical(a) != stdlib_canonical(b):
            assert summarize(a)["sha256"] != summarize(b)["sha256"]

    @given(JSON)
    def test_summaries_are_json(self, value):
        """A summary is itself a small JSON object."""
        summary = summarize(value)
        assert json.loads(json.dumps(summary)) == summary


class TestSummaryShape:
    def test_arrays_and_objects_count_items(self):
        """Arrays and objects tell how many items they hold; strings tell their size."""
        messages = [{"role": "user", "content": "hi"}] * 3
        assert summarize(messages) == {
            SUMMARY_KEY: True,
            "type": "array",
            "items": 3,
            "bytes": len(stdlib_canonical(messages)),
            "sha256": hashlib.sha256(stdlib_canonical(messages)).hexdigest(),
        }
        assert summarize({"a": 1})["type"] == "object"
        assert summarize({"a": 1})["items"] == 1
        text = summarize("héllo")
        assert (text["type"], text["bytes"]) == ("string", len('"héllo"'.encode()))
        assert "items" not in text
        assert [summarize(v)["type"] for v in (1, 1.5, True, None)] == [
            "number",
            "number",
            "boolean",
            "null",
        ]

    def test_values_json_lacks_take_their_json_form(self):
        """Datetimes, UUIDs and pydantic models are summarized as their JSON form."""

        class Point(BaseModel):
            x: int

        when = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
        uid = UUID(int=7)
        assert canonical_json([when, uid, Point(x=1)]) == canonical_json(
            ["2026-11-22T01:00:00+00:00", str(uid), {"x": 1}]
        )

    def test_integers_beyond_64_bits(self):
        """Integers orjson refuses are written by the standard library instead."""
        assert canonical_json({"n": 2**70}) == b'{"n":1180591620717411303424}'

    def test_unserializable_values_fail_clearly(self):
        """A value JSON cannot represent raises SerializationError naming its type."""
        with pytest.raises(SerializationError, match="object"):
            summarize(object())

    def test_is_summary(self):
        """Only dicts marked with "$summary": true are summaries."""
        assert not is_summary({"$summary": 1})
        assert not is_summary([SUMMARY_KEY])
        assert not is_summary({"type": "array"})


class TestBound:
    @given(JSON, st.integers(0, 300))
    def test_bound_keeps_small_values_and_summarizes_large_ones(self, value, limit):
        """Values whose JSON fits are kept (as a JSON copy); larger ones become summaries."""
        kept, size = bound(value, limit)
        assert size == len(stdlib_canonical(value))
        if size > limit:
            assert kept == summarize(value)
        else:
            assert kept == value

    def test_kept_values_are_copies(self):
        """A kept value shares nothing with the original."""
        value = {"a": [1, 2]}
        kept, _ = bound(value, None)
        value["a"].append(3)
        assert kept == {"a": [1, 2]}

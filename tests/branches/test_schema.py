"""schema_errors: the JSON Schema check a Branch applies to structured answers."""

from __future__ import annotations

from typing import Literal

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from agentic.branches import schema_errors


class Inner(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    score: float = Field(ge=0, le=1)


class Outer(BaseModel):
    kind: Literal["a", "b"]
    count: int
    tags: list[str] = Field(default_factory=list, max_length=3)
    inner: Inner
    maybe: int | None = None


SCHEMA = Outer.model_json_schema()
outers = st.builds(
    Outer,
    kind=st.sampled_from(["a", "b"]),
    count=st.integers(),
    tags=st.lists(st.text(max_size=5), max_size=3),
    inner=st.builds(
        Inner,
        name=st.text(min_size=1, max_size=10),
        score=st.floats(min_value=0, max_value=1),
    ),
    maybe=st.none() | st.integers(),
)


class TestSchemaErrors:
    @given(outers)
    def test_every_valid_model_dump_passes(self, value):
        """What pydantic dumps from a valid model always matches its schema."""
        assert schema_errors(value.model_dump(mode="json"), SCHEMA) == []

    def test_reports_each_problem_with_its_path(self):
        """Missing, mistyped, out-of-range and unexpected values are named by path."""
        value = {
            "kind": "c",
            "count": "many",
            "tags": ["x", 1, "y", "z"],
            "inner": {"name": "", "score": 2},
        }
        errors = schema_errors(value, SCHEMA)
        assert "kind: must be one of ['a', 'b']" in errors
        assert "count: expected integer, got string" in errors
        assert "tags[1]: expected string, got integer" in errors
        assert "tags: allows at most 3 items" in errors
        assert "inner.name: needs at least 1 characters" in errors
        assert "inner.score: must be <= 1" in errors

    def test_numeric_strings_pass_like_pydantic_lax_mode(self):
        """A numeric string passes for a number, as pydantic would coerce it."""
        assert schema_errors("3", {"type": "integer"}) == []
        assert schema_errors("3.5", {"type": "integer"}) != []
        assert schema_errors(True, {"type": "integer"}) != []

    def test_unexpected_property(self):
        """additionalProperties false refuses unknown keys."""
        schema = {"type": "object", "properties": {}, "additionalProperties": False}
        assert schema_errors({"x": 1}, schema) == ["<root>: unexpected property x"]

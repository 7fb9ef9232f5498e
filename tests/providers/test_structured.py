"""Structured output: JSON extraction and repair, parse_model, the incremental parser."""

import asyncio
import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from agentic.providers import (
    ChatMessage,
    CompletionParams,
    IncrementalJSONParser,
    OfflineProvider,
    StructuredOutputError,
    aiter_json,
    complete_model,
    parse_json,
    parse_model,
    repair_json,
    repair_message,
    schema_instruction,
)
from agentic.providers._jsonrepair import ends_open


class Point(BaseModel):
    x: int
    y: int


class Plan(BaseModel):
    title: str
    steps: list[str]


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


@st.composite
def split_points(draw, text):
    cuts = draw(st.lists(st.integers(0, len(text)), max_size=12))
    bounds = sorted({0, len(text), *cuts})
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


class TestExtraction:
    @pytest.mark.parametrize(
        "text",
        [
            '{"x": 1, "y": 2}',
            'Here you go:\n```json\n{"x": 1, "y": 2}\n```\nAnything else?',
            '```\n{"x": 1, "y": 2}\n```',
            'The point is {"x": 1, "y": 2}. Done.',
            "{'x': 1, 'y': 2}",
            "{x: 1, y: 2,}",
            '{"x": 1, "y": 2,}',
            '{"x": 1, "y": 2',
            '```json\n{"x": 1, "y": 2\n',
            "{x: 1, // the abscissa\n y: 2}",
        ],
    )
    def test_parse_model_accepts_common_shapes(self, text):
        """Fenced blocks, bare objects and small slips all parse into the model."""
        assert parse_model(text, Point) == Point(x=1, y=2)

    def test_first_candidate_that_validates_wins(self):
        """A later block is used when an earlier one does not validate."""
        text = '```json\n{"a": 1}\n```\nor rather\n```json\n{"x": 3, "y": 4}\n```'
        assert parse_model(text, Point) == Point(x=3, y=4)

    def test_repairs(self):
        """Python literals, single quotes with inner double quotes, trailing commas are fixed."""
        assert json.loads(repair_json("{'a': True, 'b': None, 'c': [1, 2,],}")) == {
            "a": True,
            "b": None,
            "c": [1, 2],
        }
        assert json.loads(repair_json("{'say': 'he said \"hi\"'}")) == {"say": 'he said "hi"'}
        assert json.loads(repair_json('{"a": [1, {"b": "tex')) == {"a": [1, {"b": "tex"}]}
        assert json.loads(repair_json('{"a": 1, "b":')) == {"a": 1, "b": None}
        assert json.loads(repair_json('{"a": 1, "b')) == {"a": 1}
        assert json.loads(repair_json('{"a": "line\nbreak"}')) == {"a": "line\nbreak"}

    def test_unquoted_words_in_values_are_left_alone(self):
        """Only keys are quoted; a bare word value stays invalid rather than guessed."""
        with pytest.raises(StructuredOutputError):
            parse_json("{a: hello world}")

    def test_no_json_is_a_clear_error(self):
        """Text without JSON raises StructuredOutputError naming the target."""
        with pytest.raises(StructuredOutputError, match=r"no JSON value found .* Point") as info:
            parse_model("I cannot do that.", Point)
        assert info.value.target == "Point"

    def test_validation_failure_lists_fields(self):
        """JSON that does not validate raises with the failing fields and pydantic's errors."""
        with pytest.raises(
            StructuredOutputError, match=r"does not validate as Plan: steps"
        ) as info:
            parse_model('{"title": "t", "steps": "not a list"}', Plan)
        assert info.value.errors[0]["loc"] == ("steps",)

    @given(json_values)
    def test_parse_json_of_valid_json_is_identity(self, value):
        """Any valid JSON document parses to the value it encodes."""
        assert parse_json(json.dumps(value)) == value

    @given(json_objects)
    def test_repair_leaves_valid_json_equivalent(self, value):
        """Repair never changes the meaning of valid JSON."""
        assert json.loads(repair_json(json.dumps(value))) == value


class TestIncrementalParser:
    def test_yields_each_object_as_soon_as_it_closes(self):
        """An object is returned by the feed that completes it."""
        parser = IncrementalJSONParser()
        assert parser.feed('{"a": ') == []
        assert parser.pending == '{"a": '
        assert parser.feed('1}{"b"') == [{"a": 1}]
        assert parser.feed(": 2}") == [{"b": 2}]
        assert parser.pending == ""

    def test_braces_and_escapes_inside_strings(self):
        """Braces, quotes and backslashes inside strings never end an object."""
        parser = IncrementalJSONParser()
        text = json.dumps({"s": 'a}b{c"d\\e\\"}', "t": ["}", "{"]})
        out = []
        for char in text:
            out += parser.feed(char)
        assert out == [{"s": 'a}b{c"d\\e\\"}', "t": ["}", "{"]}]

    def test_prose_between_objects_is_skipped(self):
        """Text outside objects (prose, fences) is ignored; arrays only when asked."""
        text = 'Sure [1]:\n```json\n{"a": 1}\n```\nand {"b": [2]} done'
        assert IncrementalJSONParser().feed(text) == [{"a": 1}, {"b": [2]}]
        assert IncrementalJSONParser(arrays=True).feed(text) == [[1], {"a": 1}, {"b": [2]}]

    def test_invalid_balanced_value(self):
        """A balanced but invalid value is skipped (kept in skipped) or raises in strict mode."""
        parser = IncrementalJSONParser()
        assert parser.feed('{not json} {"ok": true}') == [{"ok": True}]
        assert parser.skipped == ["{not json}"]
        with pytest.raises(StructuredOutputError):
            IncrementalJSONParser(strict=True).feed("{not json}")

    def test_close_reports_an_unfinished_value(self):
        """close() raises when the stream ended inside a value."""
        parser = IncrementalJSONParser()
        parser.feed('{"a": [1, 2')
        with pytest.raises(StructuredOutputError, match="ended inside"):
            parser.close()
        IncrementalJSONParser().close()

    def test_aiter_json(self):
        """aiter_json yields objects from an async stream of chunks."""

        async def chunks():
            for piece in ['{"a"', ': 1}  {"b', '": 2}']:
                yield piece

        async def go():
            return [v async for v in aiter_json(chunks())]

        assert asyncio.run(go()) == [{"a": 1}, {"b": 2}]

    @given(json_objects, st.data())
    def test_any_split_yields_exactly_the_object(self, value, data):
        """Any JSON object, dumped and split anywhere, is yielded exactly once, intact."""
        text = json.dumps(value, ensure_ascii=data.draw(st.booleans()))
        parser = IncrementalJSONParser()
        out = []
        for piece in data.draw(split_points(text)):
            out += parser.feed(piece)
        assert out == [value]
        parser.close()

    @given(st.lists(json_objects, max_size=4), st.data())
    def test_any_split_of_a_sequence_yields_the_sequence(self, values, data):
        """Several objects separated by whitespace and prose come out in order."""
        text = " and then ".join(json.dumps(v) for v in values)
        parser = IncrementalJSONParser()
        out = []
        for piece in data.draw(split_points(text)):
            out += parser.feed(piece)
        assert out == values


class TestCompleteModel:
    def test_repair_round_trip(self):
        """A bad first answer is followed by a repair request; the second answer parses."""
        provider = OfflineProvider(["I think x is one", '```json\n{"x": 1, "y": 2}\n```'])
        value, responses = asyncio.run(
            complete_model(provider, [ChatMessage.user("point?")], Point)
        )
        assert value == Point(x=1, y=2)
        assert len(responses) == 2

    def test_no_repair_rounds_raises(self):
        """With repair_rounds=0 the first failure raises StructuredOutputError."""
        provider = OfflineProvider(["nothing here"])
        with pytest.raises(StructuredOutputError):
            asyncio.run(complete_model(provider, [ChatMessage.user("p")], Point, repair_rounds=0))

    def test_an_answer_cut_at_max_tokens_is_not_completed_into_a_value(self):
        """JSON the model stopped writing (finish_reason length) is never repaired into a value."""

        class Plan(BaseModel):
            steps: list[str]

        whole = '{"steps": ["fetch the data", "clean it", "train the model", "report"]}'
        provider = OfflineProvider([whole])
        params = CompletionParams(max_tokens=8)
        with pytest.raises(StructuredOutputError, match="cut off") as info:
            asyncio.run(complete_model(provider, [ChatMessage.user("plan?")], Plan, params=params))
        assert "max_tokens" in str(info.value)
        value, _ = asyncio.run(complete_model(provider, [ChatMessage.user("plan?")], Plan))
        assert len(value.steps) == 4

    def test_instruction_and_repair_messages(self):
        """The schema instruction carries the JSON Schema; the repair message the error."""
        assert '"x"' in (schema_instruction(Point).content or "")
        error = StructuredOutputError("bad things")
        assert "bad things" in (repair_message(error).content or "")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


class TestEndsOpen:
    @given(value=st.dictionaries(st.text(), JSON_VALUES, min_size=1, max_size=3), data=st.data())
    def test_every_cut_of_an_object_ends_open_and_the_whole_does_not(self, value, data):
        """A proper prefix of an object's JSON is cut off; the whole text is not."""
        text = json.dumps(value, ensure_ascii=data.draw(st.booleans()))
        cut = data.draw(st.integers(min_value=1, max_value=len(text) - 1))
        assert ends_open(text[:cut])
        assert not ends_open(text)
        assert not ends_open(f"{text} trailing words")

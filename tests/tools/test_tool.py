"""Tests for Tool: schema from the signature, validation, invocation, result checks."""

from __future__ import annotations

import argparse
import asyncio
import functools
import threading
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from agentic.execution import ArgumentValidationError, Call, Executor, Target, default_chain
from agentic.primitives import EventStatus
from agentic.tools import Tool, ToolDefinitionError, ToolRegistry, ToolResultError, tool


def run(coro):
    return asyncio.run(coro)


def search(query: str, limit: int = 10, mode: Literal["fast", "exact"] = "fast") -> list[str]:
    """Search the notes.

    Args:
        query: Words to look for.
        limit: At most this many hits.
        mode: How hard to look.
    """
    return [query] * min(limit, 2)


class Opaque:
    """A type pydantic knows nothing about."""


class Point(BaseModel):
    x: int
    y: int


class TestSchema:
    def test_schema_from_signature_and_docstring(self):
        """Types, defaults, enums and descriptions come from the signature and docstring."""
        t = Tool(search)
        assert t.name == "search"
        assert t.description == "Search the notes."
        params = t.parameters
        assert params["type"] == "object"
        assert params["required"] == ["query"]
        assert params["additionalProperties"] is False
        assert params["properties"]["query"] == {
            "description": "Words to look for.",
            "type": "string",
        }
        assert params["properties"]["limit"] == {
            "default": 10,
            "description": "At most this many hits.",
            "type": "integer",
        }
        assert params["properties"]["mode"]["enum"] == ["fast", "exact"]

    def test_provider_formats(self):
        """schema(), openai_schema() and anthropic_schema() carry the same parts."""
        t = Tool(search, name="find", description="Find notes.")
        assert t.schema() == {
            "name": "find",
            "description": "Find notes.",
            "parameters": t.parameters,
        }
        assert t.openai_schema() == {"type": "function", "function": t.schema()}
        assert t.anthropic_schema()["input_schema"] == t.parameters

    def test_nested_models_and_annotated_fields(self):
        """Pydantic models and Annotated constraints appear in the schema."""

        def place(point: Point, label: Annotated[str, Field(max_length=5)] = "p") -> str:
            return f"{label}{point.x}"

        t = Tool(place)
        assert "$defs" in t.parameters
        assert t.parameters["properties"]["label"]["maxLength"] == 5

    def test_parameter_names_that_clash_with_pydantic_are_fine(self):
        """Parameters called json, schema or model_config keep their names."""

        def odd(json: str, schema: int = 1, model_config: bool = False) -> str:
            return f"{json}{schema}{model_config}"

        t = Tool(odd)
        assert set(t.parameters["properties"]) == {"json", "schema", "model_config"}
        assert run(t.invoke(t.validate({"json": "j", "schema": "2"}))) == "j2False"

    def test_a_pydantic_field_as_default_keeps_its_default_and_constraints(self):
        """`x: int = Field(3, ge=1)` gives default 3 and refuses 0, as pydantic's validate_call does."""

        def repeat(word: str = Field(description="The word."), times: int = Field(3, ge=1)) -> str:
            """Repeat a word.

            Args:
                word: Ignored: the Field's description wins.
                times: How often.
            """
            return word * times

        t = Tool(repeat)
        assert t.parameters["properties"] == {
            "word": {"description": "The word.", "type": "string"},
            "times": {"default": 3, "description": "How often.", "minimum": 1, "type": "integer"},
        }
        assert t.parameters["required"] == ["word"]
        assert t.validate({"word": "ab"}) == {"word": "ab", "times": 3}
        with pytest.raises(ArgumentValidationError, match="times"):
            t.validate({"word": "ab", "times": 0})
        with pytest.raises(ArgumentValidationError, match="word"):
            t.validate({})
        assert run(t.invoke(t.validate({"word": "ab"}))) == "ababab"

    def test_arguments_bound_by_a_partial_are_fixed(self, tmp_path):
        """A partial's bound keywords are not parameters; the rest keep their types and docs."""
        (tmp_path / "notes.txt").write_text("inside")

        def read(name: str, limit: int = 100, *, root: str) -> str:
            """Read a file.

            Args:
                name: The file.
                limit: At most this many characters.
                root: The directory.
            """
            return (Path(root) / name).read_text()[:limit]

        t = Tool(functools.partial(read, root=str(tmp_path)), name="read")
        assert t.description == "Read a file."
        assert t.parameters["properties"] == {
            "name": {"description": "The file.", "type": "string"},
            "limit": {
                "default": 100,
                "description": "At most this many characters.",
                "type": "integer",
            },
        }
        assert t.validate({"name": "notes.txt", "limit": "3"}) == {"name": "notes.txt", "limit": 3}
        with pytest.raises(ArgumentValidationError, match="root"):
            t.validate({"name": "passwd", "root": "/etc"})
        assert run(t.invoke(t.validate({"name": "notes.txt"}))) == "inside"

    def test_nested_partials_fix_every_bound_argument(self):
        """Keywords bound by a partial of a partial are fixed too; positional ones vanish."""

        def f(a: int, b: int, c: int, d: int = 0) -> int:
            return a + b + c + d

        t = Tool(functools.partial(functools.partial(f, 1, c=3), d=4), name="f")
        assert set(t.parameters["properties"]) == {"b"}
        assert t.parameters["properties"]["b"]["type"] == "integer"
        assert run(t.invoke(t.validate({"b": "2"}))) == 10

    @pytest.mark.parametrize(
        ("func", "fragment"),
        [
            (lambda *args: None, "VAR_POSITIONAL|variadic positional"),
            (lambda **kw: None, "variadic keyword|VAR_KEYWORD"),
        ],
    )
    def test_variadic_parameters_are_refused(self, func, fragment):
        """*args and **kwargs cannot be described; the error names the parameter."""
        with pytest.raises(ToolDefinitionError, match=fragment):
            Tool(func, name="v")

    def test_positional_only_is_refused(self):
        """Positional-only parameters are refused."""

        def f(a: int, /) -> int:
            return a

        with pytest.raises(ToolDefinitionError, match="positional-only"):
            Tool(f)

    def test_bad_names_are_refused(self):
        """A name with spaces (or a lambda's name) is refused."""
        with pytest.raises(ToolDefinitionError, match="invalid"):
            Tool(search, name="two words")
        with pytest.raises(ToolDefinitionError, match="invalid"):
            Tool(lambda: 1)

    def test_unsupported_types_are_refused(self):
        """A parameter type pydantic cannot validate is refused at definition."""

        def f(x: Opaque) -> None:
            return None

        with pytest.raises(ToolDefinitionError, match="cannot be validated"):
            Tool(f)

    def test_unresolvable_annotations_are_refused(self):
        """A forward reference that does not resolve is refused with a clear message."""

        def f(x: NoSuchType) -> None:  # type: ignore[name-defined]  # noqa: F821
            return None

        with pytest.raises(ToolDefinitionError, match="cannot resolve"):
            Tool(f)

    def test_async_generators_are_refused(self):
        """An async generator has no single result."""

        async def gen():
            yield 1

        with pytest.raises(ToolDefinitionError, match="async generator"):
            Tool(gen)

    def test_decorator_forms(self):
        """@tool and @tool(...) both make Tools."""

        @tool
        def a() -> int:
            return 1

        @tool(name="bee", guarded=True)
        def b() -> int:
            return 2

        assert (a.name, b.name, b.guarded) == ("a", "bee", True)
        assert isinstance(a, Target)


class TestValidation:
    def test_coerces_and_fills_defaults(self):
        """Arguments are coerced to their types and defaults are filled in."""
        assert Tool(search).validate({"query": "x", "limit": "3"}) == {
            "query": "x",
            "limit": 3,
            "mode": "fast",
        }

    @pytest.mark.parametrize(
        ("arguments", "fragment"),
        [
            ({}, "query: Field required"),
            ({"query": "x", "limit": "many"}, "limit: Input should be a valid integer"),
            ({"query": "x", "mode": "slow"}, "mode: Input should be 'fast' or 'exact'"),
            ({"query": "x", "extra": 1}, "extra: Extra inputs are not permitted"),
            ({"query": ["not", "a", "string"]}, "query: Input should be a valid string"),
        ],
    )
    def test_bad_arguments_name_the_tool_and_argument(self, arguments, fragment):
        """Each bad argument is named in the error along with the tool."""
        with pytest.raises(ArgumentValidationError) as info:
            Tool(search).validate(arguments)
        assert "tool 'search'" in str(info.value)
        assert fragment in str(info.value)
        assert info.value.target == "search"
        assert info.value.errors

    def test_arguments_must_be_an_object(self):
        """A non-dict argument set is refused."""
        with pytest.raises(ArgumentValidationError, match="must be an object, not list"):
            Tool(search).validate([1, 2])  # type: ignore[arg-type]

    def test_nested_model_is_built(self):
        """A model parameter arrives as the model."""
        seen = []

        def place(point: Point) -> int:
            seen.append(point)
            return point.x

        t = Tool(place, blocking=False)
        assert run(t.invoke(t.validate({"point": {"x": "1", "y": 2}}))) == 1
        assert seen == [Point(x=1, y=2)]


class TestInvoke:
    def test_sync_tools_run_in_a_thread_by_default(self):
        """A sync tool runs off the loop thread; blocking=False runs it on the loop."""
        loop_thread = []

        def where() -> int:
            return threading.get_ident()

        async def main():
            loop_thread.append(threading.get_ident())
            threaded = await Tool(where).invoke({})
            inline = await Tool(where, blocking=False).invoke({})
            return threaded, inline

        threaded, inline = run(main())
        assert threaded != loop_thread[0]
        assert inline == loop_thread[0]

    def test_async_tools_are_awaited(self):
        """A coroutine function is awaited on the loop."""

        async def double(n: int) -> int:
            await asyncio.sleep(0)
            return 2 * n

        t = Tool(double)
        assert t.is_async
        assert run(t.invoke(t.validate({"n": 4}))) == 8

    def test_callable_objects(self):
        """An object with an async __call__ is an async tool."""

        class Counter:
            async def __call__(self, step: int = 1) -> int:
                return step

        t = Tool(Counter(), name="counter")
        assert t.is_async
        assert t.parameters["properties"]["step"]["default"] == 1
        assert run(t.invoke(t.validate({}))) == 1

    def test_a_tool_whose_argparse_exits_fails_its_call_only(self, capsys):
        """A sync tool whose argparse exits (SystemExit in its thread) fails its Call; the host runs on."""

        def parse(args: list[str]) -> int:
            """Parse a command line."""
            parser = argparse.ArgumentParser(prog="parse")
            parser.add_argument("--n", type=int, required=True)
            return int(parser.parse_args(args).n)

        async def main():
            ex = Executor(ToolRegistry([Tool(parse)]), default_chain())
            bad = await ex.submit(Call(target="parse", arguments={"args": []}))
            good = await ex.submit(Call(target="parse", arguments={"args": ["--n", "4"]}))
            return bad, good

        bad, good = run(main())
        assert bad.status is EventStatus.FAILED
        assert bad.execution.error.type == "agentic.execution.TargetExitError"  # type: ignore[union-attr]
        assert "sys.exit(2)" in bad.execution.error.message  # type: ignore[union-attr]
        assert (good.status, good.execution.response) == (EventStatus.COMPLETED, 4)
        assert "the following arguments are required: --n" in capsys.readouterr().err

    def test_a_sync_tool_raising_stop_iteration_fails_at_once(self):
        """A sync tool whose next() finds nothing fails its Call, not hangs it until a timeout."""

        def first(items: list[str]) -> str:
            """Return the first item."""
            return next(iter(items))

        async def main():
            ex = Executor(ToolRegistry([Tool(first)]), default_chain(timeout=None))
            call = Call(target="first", arguments={"items": []})
            return await asyncio.wait_for(ex.submit(call), 20)  # a liveness bound only

        event = run(main())
        assert event.status is EventStatus.FAILED
        assert event.execution.error.type == "RuntimeError"  # type: ignore[union-attr]
        assert "StopIteration" in event.execution.error.message  # type: ignore[union-attr]

    def test_unserializable_result_fails_clearly(self):
        """A result JSON cannot hold raises ToolResultError naming the tool and type."""

        def bad() -> object:
            return {"a": {1, 2}}

        with pytest.raises(
            ToolResultError, match="tool 'bad' returned a dict that is not JSON-serializable"
        ):
            run(Tool(bad, blocking=False).invoke({}))

    def test_oversized_result_fails_clearly(self):
        """A result larger than max_result_bytes raises ToolResultError with both sizes."""

        def flood() -> str:
            return "x" * 5000

        with pytest.raises(ToolResultError, match="more than its limit of 1,000"):
            run(Tool(flood, blocking=False, max_result_bytes=1000).invoke({}))

    def test_models_are_returned_as_json(self):
        """A pydantic result is returned in JSON form."""

        def origin() -> Point:
            return Point(x=0, y=0)

        assert run(Tool(origin, blocking=False).invoke({})) == {"x": 0, "y": 0}

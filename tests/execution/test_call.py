"""Tests for Call: data, binding, execution."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.execution.helpers import run

from agentic.execution import Call, Executor, FunctionTarget, TargetMap, TargetNotFoundError
from agentic.primitives import Element, EventStatus

names = st.text(min_size=1, max_size=20)
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)


class TestData:
    @given(
        target=names,
        arguments=st.dictionaries(st.text(max_size=10), json_scalars, max_size=5),
        caller=st.none() | names,
        kind=st.sampled_from(["tool", "provider", "plugin"]),
    )
    def test_round_trips_through_json_as_a_call(self, target, arguments, caller, kind):
        """A Call comes back from JSON as an equal Call with the same fields."""
        c = Call(target=target, arguments=arguments, caller=caller, kind=kind)
        back = Element.from_json(c.to_json())
        assert type(back) is Call
        assert (back.id, back.target, back.arguments, back.caller, back.kind) == (
            c.id,
            target,
            arguments,
            caller,
            kind,
        )

    def test_registered_type_name_is_call(self):
        """The document names the type "Call"."""
        assert Call(target="x").to_dict()["$type"] == "Call"


class TestBinding:
    def test_unbound_call_raises_a_clear_error(self):
        """An unbound Call names its target when asked for it."""
        with pytest.raises(TargetNotFoundError, match="'x' is not bound"):
            Call(target="x").bound_target()

    def test_bind_error_is_raised_by_bound_target(self):
        """A failed resolution is raised when the target is needed."""
        c = Call(target="x")
        c.bind(None, TargetNotFoundError("unknown target 'x'", name="x"))
        assert not c.is_bound
        with pytest.raises(TargetNotFoundError, match="unknown target 'x'"):
            c.bound_target()

    def test_execute_validates_then_invokes(self):
        """Without a validation processor, execute() validates before invoking."""
        seen = []

        async def handler(arguments):
            seen.append(arguments)
            return arguments["n"]

        target = FunctionTarget("t", handler, validate=lambda a: {"n": int(a["n"])})
        c = Call(target="t", arguments={"n": "5"})
        c.bind(target)
        assert run(c.execute()) == 5
        assert seen == [{"n": 5}]
        assert c.arguments == {"n": "5"}

    def test_pre_validated_arguments_are_used(self):
        """Arguments set by the validation step are the ones passed to the target."""

        async def handler(arguments):
            return arguments

        c = Call(target="t", arguments={"a": 1})
        c.bind(FunctionTarget("t", handler))
        c.set_validated({"a": 2})
        assert run(c.execute()) == {"a": 2}


class TestFunctionTarget:
    def test_async_callable_objects_are_awaited(self):
        """A handler that is an object with an async __call__ is awaited, like a coroutine function."""

        class Handler:
            async def __call__(self, arguments):
                await asyncio.sleep(0)
                return {"got": arguments["n"]}

        async def main():
            executor = Executor(TargetMap([FunctionTarget("t", Handler())]), ())
            return await executor.submit(Call(target="t", arguments={"n": 1}))

        event = run(main())  # unfixed: the coroutine itself was the response
        assert event.status is EventStatus.COMPLETED, event.execution.error
        assert event.execution.response == {"got": 1}

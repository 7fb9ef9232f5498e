"""Tests for ToolRegistry."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agentic.execution import Call, Executor, Resolver, TargetNotFoundError, default_chain
from agentic.primitives import EventStatus
from agentic.tools import Tool, ToolExistsError, ToolNotFoundError, ToolRegistry


def ping() -> str:
    """Answer pong."""
    return "pong"


def echo(text: str) -> str:
    """Repeat the text.

    Args:
        text: What to repeat.
    """
    return text


class TestRegistry:
    def test_register_get_names_and_schemas(self):
        """Tools are kept by name in order; schemas come out in the same order."""
        registry = ToolRegistry([Tool(ping)])
        registry.register(echo)
        assert registry.names() == ["ping", "echo"]
        assert registry.get("echo").name == "echo"
        assert [s["name"] for s in registry.schemas()] == ["ping", "echo"]
        assert registry.openai_schemas()[1]["function"]["parameters"]["required"] == ["text"]
        assert "ping" in registry
        assert len(registry) == 2

    def test_decorator(self):
        """register works as a decorator and returns the Tool."""
        registry = ToolRegistry()

        @registry.register
        def hello() -> str:
            return "hi"

        assert isinstance(hello, Tool)
        assert registry.get("hello") is hello

    def test_duplicates_are_refused_unless_replacing(self):
        """A second tool of one name is refused; replace=True swaps it."""
        registry = ToolRegistry([Tool(ping)])
        with pytest.raises(ToolExistsError, match="'ping' is already registered"):
            registry.register(ping)
        other = Tool(echo, name="ping")
        registry.register(other, replace=True)
        assert registry.get("ping") is other

    def test_unknown_names_list_the_known_ones(self):
        """An unknown name raises ToolNotFoundError (a TargetNotFoundError and KeyError)."""
        registry = ToolRegistry([Tool(ping)])
        with pytest.raises(
            ToolNotFoundError, match=r"unknown tool 'pong' \(registered: ping\)"
        ) as info:
            registry.get("pong")
        assert isinstance(info.value, TargetNotFoundError)
        assert isinstance(info.value, KeyError)
        with pytest.raises(ToolNotFoundError):
            registry.unregister("pong")

    def test_unregister(self):
        """unregister removes and returns the tool."""
        registry = ToolRegistry([Tool(ping)])
        assert registry.unregister("ping").name == "ping"
        assert registry.names() == []

    def test_options_only_for_callables(self):
        """Tool options with an existing Tool are an error."""
        with pytest.raises(TypeError, match="plain callable"):
            ToolRegistry().register(Tool(ping), guarded=True)

    def test_is_a_resolver_for_the_executor(self):
        """An Executor resolves Calls through the registry."""
        registry = ToolRegistry([Tool(echo)])
        assert isinstance(registry, Resolver)

        async def main():
            ex = Executor(registry, default_chain())
            return (
                await ex.submit(Call(target="echo", arguments={"text": "hi"})),
                await ex.submit(Call(target="nope")),
            )

        ok, missing = asyncio.run(main())
        assert ok.status is EventStatus.COMPLETED
        assert ok.execution.response == "hi"
        assert missing.execution.error.type == "agentic.tools.ToolNotFoundError"  # type: ignore[union-attr]

    def test_concurrent_registration(self):
        """Sixteen threads registering 50 tools each leave exactly 800 tools."""
        registry = ToolRegistry()

        def worker(n):
            for i in range(50):
                registry.register(Tool(ping, name=f"t{n}_{i}"))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(registry) == 800
        assert len(set(registry.names())) == 800

    def test_abandoned_threads_are_summed(self):
        """The registry reports abandoned sync calls over its tools."""
        release = threading.Event()
        registry = ToolRegistry()

        @registry.register
        def block() -> str:
            release.wait(5)
            return "late"

        async def main():
            ex = Executor(registry, default_chain(timeout=0.05))
            return await ex.submit(Call(target="block"))

        try:
            event = asyncio.run(main())
            assert event.status is EventStatus.FAILED
            assert "timed out" in event.execution.error.message  # type: ignore[union-attr]
            assert registry.abandoned_threads == 1
        finally:
            release.set()

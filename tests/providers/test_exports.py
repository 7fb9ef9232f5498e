"""The public surface of agentic.providers is pinned, and every provider fits the Protocol."""

import asyncio
import importlib
import pkgutil

from agentic import providers
from agentic.providers import (
    AnthropicProvider,
    ChatMessage,
    ChatResponse,
    OfflineProvider,
    OpenAICompatibleProvider,
    Provider,
    StreamChunk,
    ToolCall,
    Usage,
)


class TestExports:
    def test_all_is_sorted_and_complete(self):
        """__all__ lists exactly the public names, in isort order (CONSTANTS, Classes, functions)."""
        public = [n for n in vars(providers) if not n.startswith("_")]

        def order(name):
            return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

        assert providers.__all__ == sorted(public, key=order)

    def test_every_module_declares_all(self):
        """Each module of the package has an __all__."""
        for info in pkgutil.iter_modules(providers.__path__):
            module = importlib.import_module(f"agentic.providers.{info.name}")
            assert isinstance(module.__all__, list), info.name

    def test_providers_fit_the_protocol(self):
        """All three providers are Providers."""
        for provider in (
            OfflineProvider(),
            OpenAICompatibleProvider(model="m"),
            AnthropicProvider(model="m", api_key="k"),
        ):
            assert isinstance(provider, Provider)
            asyncio.run(provider.aclose())


class TestModels:
    def test_round_trip(self):
        """Models survive a JSON round trip."""
        call = ToolCall(id="1", name="f", arguments={"a": [1, {"b": None}]})
        response = ChatResponse(
            content="x", tool_calls=(call,), usage=Usage(input_tokens=2, output_tokens=3)
        )
        chunk = StreamChunk(response=response)
        assert StreamChunk.model_validate_json(chunk.model_dump_json()) == chunk
        message = ChatMessage.tool("r", tool_call_id="1", name="f", is_error=True)
        assert ChatMessage.model_validate(message.model_dump(mode="json")) == message

    def test_role_rules(self):
        """A tool message needs a tool_call_id; only assistants carry tool calls."""
        import pytest
        from pydantic import ValidationError

        with pytest.raises(ValidationError, match="needs a tool_call_id"):
            ChatMessage(role="tool", content="x")
        with pytest.raises(ValidationError, match="cannot carry tool_calls"):
            ChatMessage(role="user", content="x", tool_calls=(ToolCall(id="1", name="f"),))

    def test_usage_sums(self):
        """Usages add field by field; total is input plus output."""
        total = Usage(input_tokens=1, output_tokens=2) + Usage(input_tokens=3, output_tokens=4)
        assert (total.input_tokens, total.output_tokens, total.total_tokens) == (4, 6, 10)

    def test_response_message(self):
        """A response becomes the assistant message to append (None content when empty)."""
        response = ChatResponse(tool_calls=(ToolCall(id="1", name="f"),))
        assert response.message == ChatMessage.assistant(None, tool_calls=response.tool_calls)

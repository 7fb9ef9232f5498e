"""ProviderManager: the named model providers a Branch may call, and its default."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from agentic.branches._errors import BranchError
from agentic.branches._protocol import ChatDelta, StreamStart
from agentic.execution import ArgumentValidationError, TargetNotFoundError
from agentic.providers import (
    ChatMessage,
    ChatResponse,
    CompletionParams,
    OfflineProvider,
    Provider,
    StreamChunk,
    ToolSpec,
    collect,
)

__all__ = ["PROVIDER_PREFIX", "ProviderManager", "ProviderTarget"]

PROVIDER_PREFIX = "provider:"
"""Provider calls target `"provider:<name>"`, so policies and rate limits key on it."""


class ProviderTarget:
    """An execution Target that completes a conversation with one provider.

    Arguments: `messages` (ChatMessage documents), optional `tools` (ToolSpec
    documents) and `params` (CompletionParams), and `stream` (`{"topic": ..., "step":
    ...}`) to stream the answer: each attempt publishes a
    [`StreamStart`][agentic.branches.StreamStart], then the text as
    [`ChatDelta`][agentic.branches.ChatDelta]s, on that topic through `publish`. The
    result is the ChatResponse as JSON-compatible data.
    """

    def __init__(self, provider: Provider, name: str | None = None) -> None:
        """Wrap `provider`, known in its Branch as `name` (default: its own name)."""
        self.provider = provider
        """The wrapped provider."""
        self.key = name or provider.name
        """The provider's name in its Branch."""
        self.name = PROVIDER_PREFIX + self.key
        """The target name: `provider:<name>` (rate limits and policies key on it)."""
        self.publish: Callable[[str, Any], Any] | None = None
        """Where streamed text goes (a bus's `publish`; the Branch sets it when it starts)."""

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Parse the conversation, tools and parameters.

        Raises:
            ArgumentValidationError: A message, tool or parameter is malformed.
        """
        from pydantic import ValidationError  # noqa: PLC0415 - only on this path

        unknown = set(arguments) - {"messages", "tools", "params", "stream"}
        if unknown:
            msg = f"{self.name}: unexpected arguments {sorted(unknown)}"
            raise ArgumentValidationError(msg, target=self.name)
        try:
            messages = [ChatMessage.model_validate(m) for m in arguments.get("messages", [])]
            tools = [ToolSpec.model_validate(t) for t in arguments.get("tools") or []]
            params = CompletionParams.model_validate(arguments.get("params") or {})
        except ValidationError as exc:
            msg = f"{self.name}: invalid arguments: {exc.errors(include_url=False)[0]['msg']}"
            raise ArgumentValidationError(msg, target=self.name) from exc
        if not messages:
            msg = f"{self.name}: a conversation needs at least one message"
            raise ArgumentValidationError(msg, target=self.name)
        stream = arguments.get("stream")
        if stream is not None and not _is_stream(stream):
            msg = f"{self.name}: `stream` must be {{'topic': str, 'step': int}}, not {stream!r}"
            raise ArgumentValidationError(msg, target=self.name)
        return {"messages": messages, "tools": tools, "params": params, "stream": stream}

    async def invoke(self, arguments: dict[str, Any]) -> Any:
        """Complete the conversation; return the response as JSON-compatible data."""
        messages, tools, params = (
            arguments["messages"],
            arguments["tools"] or None,
            arguments["params"],
        )
        stream, publish = arguments.get("stream"), self.publish
        if stream is None or publish is None:
            response: ChatResponse = await self.provider.complete(messages, tools, params)
            return response.model_dump(mode="json")
        topic, step = stream["topic"], stream["step"]
        publish(topic, StreamStart(step))
        if not self.provider.capabilities.streaming:  # the whole answer as one piece
            response = await self.provider.complete(messages, tools, params)
            if response.content:
                publish(topic, ChatDelta(step=step, text=response.content))
            return response.model_dump(mode="json")
        chunks = self.provider.stream(messages, tools, params)
        response = await collect(_publishing(chunks, publish, topic, step))
        return response.model_dump(mode="json")


def _is_stream(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"topic", "step"}
        and isinstance(value["topic"], str)
        and type(value["step"]) is int
    )


async def _publishing(
    chunks: AsyncIterator[StreamChunk], publish: Callable[[str, Any], Any], topic: str, step: int
) -> AsyncIterator[StreamChunk]:
    """Pass `chunks` on, publishing the text of each as a ChatDelta first."""
    async for chunk in chunks:
        if chunk.delta:
            publish(topic, ChatDelta(step=step, text=chunk.delta))
        yield chunk


_OFFLINE = OfflineProvider()
"""The default provider, shared: it is stateless and deterministic."""


class ProviderManager:
    """Named providers and the default one; the offline provider when none is given."""

    def __init__(
        self,
        providers: Mapping[str, Provider] | Sequence[Provider] | None = None,
        default: str | None = None,
    ) -> None:
        """Create a manager.

        Args:
            providers: Providers by name (or a list, named by their `name`).
            default: The default provider's name (the first one by default).

        Raises:
            BranchError: `default` names no provider.
        """
        if providers is None or not providers:
            providers = [_OFFLINE]
        items = (
            list(providers.items())
            if isinstance(providers, Mapping)
            else [(p.name, p) for p in providers]
        )
        self._targets: dict[str, ProviderTarget] = {
            name: ProviderTarget(p, name) for name, p in items
        }
        self.default = default or items[0][0]
        """The name of the provider used when none is named."""
        if self.default not in self._targets:
            msg = f"default provider {self.default!r} is not one of {sorted(self._targets)}"
            raise BranchError(msg)

    def names(self) -> list[str]:
        """Return the providers' names."""
        return list(self._targets)

    def bind(self, publish: Callable[[str, Any], Any]) -> None:
        """Send every provider's streamed text to `publish` (a bus's `publish`)."""
        for target in self._targets.values():
            target.publish = publish

    def get(self, name: str | None = None) -> Provider:
        """Return the provider called `name` (the default if None).

        Raises:
            BranchError: No provider has that name.
        """
        return self._target(name or self.default).provider

    def target_name(self, name: str | None = None) -> str:
        """Return the execution target name of a provider (checking it exists)."""
        return self._target(name or self.default).name

    def resolve(self, target: str) -> ProviderTarget:
        """Return the Target for `provider:<name>`.

        Raises:
            TargetNotFoundError: No such provider.
        """
        name = target.removeprefix(PROVIDER_PREFIX)
        found = self._targets.get(name)
        if found is None:
            msg = f"no provider named {name!r} (known: {sorted(self._targets)})"
            raise TargetNotFoundError(msg, name=target)
        return found

    def _target(self, name: str) -> ProviderTarget:
        found = self._targets.get(name)
        if found is None:
            msg = f"no provider named {name!r} (known: {sorted(self._targets)})"
            raise BranchError(msg)
        return found

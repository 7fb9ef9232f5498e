"""The `Provider` protocol: what the agent loop needs from a model API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

from agentic.providers._errors import ProviderProtocolError
from agentic.providers._models import (
    Capabilities,
    ChatMessage,
    ChatResponse,
    CompletionParams,
    Pricing,
    StreamChunk,
    ToolSpec,
)

__all__ = ["Provider", "collect"]


@runtime_checkable
class Provider(Protocol):
    """A model API: complete a conversation, or stream the completion.

    Implementations: [`OfflineProvider`][agentic.providers.OfflineProvider] (the
    default), [`OpenAICompatibleProvider`][agentic.providers.OpenAICompatibleProvider],
    [`AnthropicProvider`][agentic.providers.AnthropicProvider]. Failures raise
    [`ProviderError`][agentic.providers.ProviderError] subclasses whose `retryable` and
    `retry_after` attributes tell the retry processor what to do.
    """

    @property
    def name(self) -> str:
        """The provider's name (its key in the configuration)."""
        ...

    @property
    def capabilities(self) -> Capabilities:
        """What the configured model can do."""
        ...

    @property
    def pricing(self) -> Pricing | None:
        """Its token prices, if configured (responses then carry a `cost`)."""
        ...

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec] | None = None,
        params: CompletionParams | None = None,
    ) -> ChatResponse:
        """Answer the conversation `messages`, possibly asking to call some of `tools`."""
        ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec] | None = None,
        params: CompletionParams | None = None,
    ) -> AsyncIterator[StreamChunk]:
        """Stream the answer; the last chunk carries the same response `complete` returns."""
        ...

    async def aclose(self) -> None:
        """Release connections. The provider may not be used afterwards."""
        ...


async def collect(chunks: AsyncIterator[StreamChunk]) -> ChatResponse:
    """Drain a stream and return the response its last chunk carries.

    Raises:
        ProviderProtocolError: The stream ended without a final chunk.
    """
    final: ChatResponse | None = None
    async for chunk in chunks:
        if chunk.response is not None:
            final = chunk.response
    if final is None:
        msg = "stream ended without a final chunk carrying the response"
        raise ProviderProtocolError(msg)
    return final

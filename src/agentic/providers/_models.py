"""Wire-neutral chat models shared by every provider.

Each provider translates these to and from its own wire format; nothing outside the
provider modules sees a provider's JSON. All models are frozen pydantic models and
round-trip through `model_dump(mode="json")` / `model_validate`.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Capabilities",
    "ChatMessage",
    "ChatResponse",
    "CompletionParams",
    "FinishReason",
    "Pricing",
    "Role",
    "StreamChunk",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "Usage",
]

Role = Literal["system", "user", "assistant", "tool"]
"""Who wrote a message."""

FinishReason = Literal["stop", "tool_calls", "length", "content_filter", "other"]
"""Why the model stopped, normalized across providers."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ToolCall(BaseModel):
    """A model's request to run one tool."""

    model_config = _FROZEN

    id: str
    """The provider's id for this call; the tool's result message refers to it."""
    name: str
    """The tool's name."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """The arguments, decoded from the model's JSON."""


class ChatMessage(BaseModel):
    """One message of a conversation.

    Example:
        >>> ChatMessage.user("hi").role
        'user'
    """

    model_config = _FROZEN

    role: Role
    """Who wrote it."""
    content: str | None = None
    """Its text (`None` for an assistant message that only calls tools)."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Tools an assistant message asks to run."""
    tool_call_id: str | None = None
    """For a tool message: the id of the call it answers."""
    name: str | None = None
    """For a tool message: the tool's name; for others an optional author name."""
    is_error: bool = False
    """For a tool message: whether the tool failed (the content says how)."""

    @model_validator(mode="after")
    def _check_role_fields(self) -> Self:
        if self.role == "tool" and not self.tool_call_id:
            msg = "ChatMessage with role 'tool' needs a tool_call_id"
            raise ValueError(msg)
        if self.tool_calls and self.role != "assistant":
            msg = f"ChatMessage with role {self.role!r} cannot carry tool_calls"
            raise ValueError(msg)
        return self

    @classmethod
    def system(cls, content: str) -> ChatMessage:
        """Build a system message."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str, *, name: str | None = None) -> ChatMessage:
        """Build a user message."""
        return cls(role="user", content=content, name=name)

    @classmethod
    def assistant(
        cls, content: str | None = None, *, tool_calls: tuple[ToolCall, ...] = ()
    ) -> ChatMessage:
        """Build an assistant message, optionally asking for tool calls."""
        return cls(role="assistant", content=content, tool_calls=tuple(tool_calls))

    @classmethod
    def tool(
        cls, content: str, *, tool_call_id: str, name: str | None = None, is_error: bool = False
    ) -> ChatMessage:
        """Build the message that carries one tool call's result back to the model."""
        return cls(
            role="tool", content=content, tool_call_id=tool_call_id, name=name, is_error=is_error
        )


class ToolSpec(BaseModel):
    """A tool offered to the model: its name, what it does, and its JSON Schema."""

    model_config = _FROZEN

    name: str
    """The name the model calls it by."""
    description: str = ""
    """What the tool does, for the model."""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    """A JSON Schema (type object) of the arguments."""


class Usage(BaseModel):
    """Token counts of one call."""

    model_config = _FROZEN

    input_tokens: int = 0
    """Tokens in the prompt."""
    output_tokens: int = 0
    """Tokens the model produced."""

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        """Add two usages (for totals over an agent run)."""
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class Pricing(BaseModel):
    """Prices per 1,000 tokens, in whatever currency the configuration uses."""

    model_config = _FROZEN

    input_per_1k: float = Field(default=0.0, ge=0)
    """Price of 1,000 input tokens."""
    output_per_1k: float = Field(default=0.0, ge=0)
    """Price of 1,000 output tokens."""

    def cost(self, usage: Usage) -> float:
        """Return the price of `usage`.

        Example:
            >>> Pricing(input_per_1k=1.0, output_per_1k=2.0).cost(Usage(input_tokens=500, output_tokens=1000))
            2.5
        """  # noqa: E501 - a doctest line
        return (
            usage.input_tokens * self.input_per_1k + usage.output_tokens * self.output_per_1k
        ) / 1000


class ChatResponse(BaseModel):
    """A complete answer of the model."""

    model_config = _FROZEN

    content: str = ""
    """The text of the answer (may be empty when the model only calls tools)."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Tools the model asks to run, in its order."""
    usage: Usage = Field(default_factory=Usage)
    """Token counts."""
    finish_reason: FinishReason = "stop"
    """Why the model stopped, normalized."""
    raw_finish_reason: str | None = None
    """The provider's own stop reason (`end_turn`, `tool_use`, `stop`, ...)."""
    model: str = ""
    """The model that answered, as the provider reported it."""
    id: str | None = None
    """The provider's id of this response."""
    provider: str = ""
    """The name of the provider that answered."""
    cost: float | None = None
    """The price of `usage`, when the provider has a [`Pricing`][agentic.providers.Pricing]."""

    @property
    def message(self) -> ChatMessage:
        """This response as an assistant message to append to the conversation."""
        return ChatMessage(
            role="assistant", content=self.content or None, tool_calls=self.tool_calls
        )


class ToolCallDelta(BaseModel):
    """A fragment of a tool call arriving in a stream."""

    model_config = _FROZEN

    index: int
    """Which tool call of the response this fragment belongs to (0-based)."""
    id: str | None = None
    """The call's id (on its first fragment)."""
    name: str | None = None
    """The tool's name (on its first fragment)."""
    arguments: str = ""
    """The next piece of the arguments' JSON text."""


class StreamChunk(BaseModel):
    """One piece of a streamed answer; the last one carries the whole response."""

    model_config = _FROZEN

    delta: str = ""
    """New text."""
    tool_call_deltas: tuple[ToolCallDelta, ...] = ()
    """New tool-call fragments."""
    response: ChatResponse | None = None
    """The complete response, on the last chunk only."""

    @property
    def is_final(self) -> bool:
        """Whether this is the last chunk."""
        return self.response is not None


class Capabilities(BaseModel):
    """What a provider (with its configured model) can do."""

    model_config = _FROZEN

    context_window: int = 8192
    """Tokens of prompt plus answer the model accepts."""
    max_output_tokens: int | None = None
    """The most tokens it will produce in one answer, if limited."""
    tools: bool = True
    """Whether it supports tool calls."""
    streaming: bool = True
    """Whether it supports streaming."""


class CompletionParams(BaseModel):
    """Per-call settings; `None` means the provider's default."""

    model_config = _FROZEN

    model: str | None = None
    """A model other than the provider's configured one."""
    temperature: float | None = None
    """Sampling temperature."""
    max_tokens: int | None = None
    """The most tokens to produce."""
    top_p: float | None = None
    """Nucleus sampling mass."""
    stop: tuple[str, ...] = ()
    """Sequences that end the answer."""
    seed: int | None = None
    """Sampling seed, where supported (OpenAI-compatible only)."""
    tool_choice: str | None = None
    """`"auto"`, `"none"`, `"required"`, or the name of one tool the model must call."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Provider-specific request fields merged into the body as given."""

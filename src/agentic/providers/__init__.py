"""Providers: what a provider-call Event finally invokes.

A [`Provider`][agentic.providers.Provider] completes or streams a conversation of
[`ChatMessage`][agentic.providers.ChatMessage]s, possibly asking for tool calls. The
[`OfflineProvider`][agentic.providers.OfflineProvider] is the deterministic default;
[`OpenAICompatibleProvider`][agentic.providers.OpenAICompatibleProvider] and
[`AnthropicProvider`][agentic.providers.AnthropicProvider] speak real APIs over httpx.
Configuration comes from TOML ([`load_providers`][agentic.providers.load_providers]);
structured output from [`parse_model`][agentic.providers.parse_model] and
[`IncrementalJSONParser`][agentic.providers.IncrementalJSONParser].
"""

from agentic.providers._anthropic import ANTHROPIC_VERSION, AnthropicProvider
from agentic.providers._config import (
    DEFAULT_PROVIDER,
    ProviderConfig,
    ProvidersConfig,
    build_provider,
    default_provider,
    load_config,
    load_providers,
    substitute_env,
)
from agentic.providers._errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderProtocolError,
    ProviderRateLimitError,
    ProviderServerError,
    ProviderTimeoutError,
    StructuredOutputError,
)
from agentic.providers._http import parse_retry_after
from agentic.providers._incremental import IncrementalJSONParser, aiter_json
from agentic.providers._jsonrepair import repair_json
from agentic.providers._models import (
    Capabilities,
    ChatMessage,
    ChatResponse,
    CompletionParams,
    FinishReason,
    Pricing,
    Role,
    StreamChunk,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from agentic.providers._offline import OfflineProvider
from agentic.providers._openai import OpenAICompatibleProvider
from agentic.providers._protocol import Provider, collect
from agentic.providers._script import ScriptedCall, ScriptedReply, ToolRule
from agentic.providers._structured import parse_json, parse_model
from agentic.providers._structured_call import complete_model, repair_message, schema_instruction
from agentic.providers._tokens import count_message_tokens, count_tokens

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_PROVIDER",
    "AnthropicProvider",
    "Capabilities",
    "ChatMessage",
    "ChatResponse",
    "CompletionParams",
    "FinishReason",
    "IncrementalJSONParser",
    "OfflineProvider",
    "OpenAICompatibleProvider",
    "Pricing",
    "Provider",
    "ProviderAuthError",
    "ProviderBadRequestError",
    "ProviderConfig",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderProtocolError",
    "ProviderRateLimitError",
    "ProviderServerError",
    "ProviderTimeoutError",
    "ProvidersConfig",
    "Role",
    "ScriptedCall",
    "ScriptedReply",
    "StreamChunk",
    "StructuredOutputError",
    "ToolCall",
    "ToolCallDelta",
    "ToolRule",
    "ToolSpec",
    "Usage",
    "aiter_json",
    "build_provider",
    "collect",
    "complete_model",
    "count_message_tokens",
    "count_tokens",
    "default_provider",
    "load_config",
    "load_providers",
    "parse_json",
    "parse_model",
    "parse_retry_after",
    "repair_json",
    "repair_message",
    "schema_instruction",
    "substitute_env",
]

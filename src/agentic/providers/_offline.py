"""The offline provider: deterministic replies with no network and no key."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from agentic.errors import ConfigurationError
from agentic.providers._errors import ProviderBadRequestError
from agentic.providers._models import (
    Capabilities,
    ChatMessage,
    ChatResponse,
    CompletionParams,
    FinishReason,
    Pricing,
    StreamChunk,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from agentic.providers._script import Reply, ScriptedReply, ToolRule, as_reply
from agentic.providers._tokens import count_message_tokens, count_tokens

__all__ = ["OfflineProvider"]

_WORDS = re.compile(r"\s*\S+\s*|\s+")
_ARGUMENT_PIECE = 16


class OfflineProvider:
    """A deterministic provider: same conversation in, same answer out; no network.

    For a conversation it answers, in this order of precedence:

    1. **Rules**: if the conversation ends with a user message, every `on="user"`
       rule whose pattern matches it adds a tool call; if it ends with tool results,
       every `on="tool"` rule matching one of them does. Only tools offered in
       `tools` are called. Several matches make parallel calls.
    2. **Script**: reply number *k* is `replies[k]`, where *k* is the number of
       assistant messages already in the conversation. The provider keeps no state,
       so each conversation walks the script from its start.
    3. **Fallback**: after tool results, a summary (`"<tool>: <result>"` per
       result); otherwise, per `when_exhausted`: `"echo"` repeats the last user
       message (after `echo_prefix`), `"cycle"` restarts the script, `"error"` raises.

    Tokens are counted with [`count_tokens`][agentic.providers.count_tokens]:
    ceil(len/4) per whitespace-separated word, plus 3 per message. Streaming sends
    the reply `chunk_words` words at a time, then each tool call as a fragment with
    its id and name followed by its JSON arguments in 16-character pieces.

    Example:
        >>> import asyncio
        >>> provider = OfflineProvider(["Hello!"])
        >>> asyncio.run(provider.complete([ChatMessage.user("hi")])).content
        'Hello!'
    """

    def __init__(
        self,
        replies: Sequence[Reply] | None = None,
        *,
        rules: Sequence[ToolRule | Mapping[str, Any]] = (),
        echo_prefix: str = "",
        when_exhausted: Literal["echo", "cycle", "error"] = "echo",
        name: str = "offline",
        model: str = "offline",
        chunk_words: int = 1,
        capabilities: Capabilities | None = None,
        pricing: Pricing | None = None,
    ) -> None:
        try:
            self.replies: tuple[ScriptedReply, ...] = tuple(
                as_reply(reply) for reply in replies or ()
            )
            self.rules: tuple[ToolRule, ...] = tuple(
                rule if isinstance(rule, ToolRule) else ToolRule.model_validate(rule)
                for rule in rules
            )
        except ValidationError as exc:
            msg = f"OfflineProvider {name!r}: invalid script or rules: {exc}"
            raise ConfigurationError(msg) from None
        self.echo_prefix = echo_prefix
        """Text put before echoed messages."""
        self.when_exhausted = when_exhausted
        """What to do when the script has no reply left."""
        self.model = model
        """The model name reported in responses."""
        self.chunk_words = max(1, chunk_words)
        """Words per streamed text chunk."""
        self._name = name
        self._capabilities = capabilities or Capabilities(context_window=32_768)
        self._pricing = pricing

    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> OfflineProvider:
        """Load a script from a JSON or TOML file.

        The file holds either a list of replies (JSON only) or a table with
        `replies`, `rules` and any other constructor option; `options` override it.

        Raises:
            ConfigurationError: The file is missing, unparsable or invalid; the
                message names it.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
            data: Any = tomllib.loads(raw.decode()) if path.suffix == ".toml" else orjson.loads(raw)
        except (OSError, ValueError) as exc:
            msg = f"cannot read offline script {str(path)!r}: {exc}"
            raise ConfigurationError(msg) from None
        if isinstance(data, list):
            data = {"replies": data}
        if not isinstance(data, dict):
            msg = f"offline script {str(path)!r} must hold a list or a table"
            raise ConfigurationError(msg)
        data.update(options)
        try:
            return cls(**data)
        except TypeError as exc:
            msg = f"offline script {str(path)!r}: {exc}"
            raise ConfigurationError(msg) from None

    @property
    def name(self) -> str:
        """The provider's name."""
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        """What it can do (everything, within its script)."""
        return self._capabilities

    @property
    def pricing(self) -> Pricing | None:
        """Token prices, if configured."""
        return self._pricing

    def __repr__(self) -> str:
        """Show its name and script size."""
        return (
            f"OfflineProvider(name={self._name!r}, replies={len(self.replies)}, "
            f"rules={len(self.rules)})"
        )

    async def aclose(self) -> None:
        """Do nothing (it holds no connections)."""

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec] | None = None,
        params: CompletionParams | None = None,
    ) -> ChatResponse:
        """Answer deterministically (see the class docstring for the rules).

        Raises:
            ProviderBadRequestError: No messages, or the script is exhausted and
                `when_exhausted` is `"error"`.
        """
        return self.respond(messages, tools, params)

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec] | None = None,
        params: CompletionParams | None = None,
    ) -> AsyncIterator[StreamChunk]:
        """Stream the same answer `complete` gives, word by word, then tool-call pieces."""
        response = self.respond(messages, tools, params)
        words = _WORDS.findall(response.content)
        for start in range(0, len(words), self.chunk_words):
            yield StreamChunk(delta="".join(words[start : start + self.chunk_words]))
        for index, call in enumerate(response.tool_calls):
            yield StreamChunk(
                tool_call_deltas=(ToolCallDelta(index=index, id=call.id, name=call.name),)
            )
            arguments = orjson.dumps(call.arguments).decode()
            for start in range(0, len(arguments), _ARGUMENT_PIECE):
                piece = arguments[start : start + _ARGUMENT_PIECE]
                yield StreamChunk(tool_call_deltas=(ToolCallDelta(index=index, arguments=piece),))
        yield StreamChunk(response=response)

    def respond(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec] | None = None,
        params: CompletionParams | None = None,
    ) -> ChatResponse:
        """Compute the answer synchronously (what `complete` awaits)."""
        if not messages:
            msg = f"{self._name}: no messages to answer"
            raise ProviderBadRequestError(msg, provider=self._name)
        params = params or CompletionParams()
        turn = sum(1 for m in messages if m.role == "assistant")
        offered = {t.name for t in tools or ()}
        calls = self._rule_calls(messages, offered, turn)
        if calls:
            reply = ScriptedReply()
        else:
            reply = self._scripted_or_fallback(messages, turn)
            calls = tuple(
                ToolCall(id=f"call_{turn}_{j}", name=c.name, arguments=c.arguments)
                for j, c in enumerate(reply.tool_calls)
            )
        content, finish = _limit(reply.content, params)
        if calls and finish == "stop":
            finish = "tool_calls"
        output = count_tokens(content) + sum(
            count_tokens(c.name) + count_tokens(orjson.dumps(c.arguments).decode()) for c in calls
        )
        usage = Usage(input_tokens=count_message_tokens(messages, tools), output_tokens=output)
        digest = hashlib.sha256(
            orjson.dumps([m.model_dump(mode="json") for m in messages])
        ).hexdigest()
        response = ChatResponse(
            content=content,
            tool_calls=calls,
            usage=usage,
            finish_reason=finish,
            raw_finish_reason=finish,
            model=params.model or self.model,
            id=f"offline-{digest[:16]}",
            provider=self._name,
        )
        if self._pricing is not None:
            response = response.model_copy(update={"cost": self._pricing.cost(usage)})
        return response

    def _rule_calls(
        self, messages: Sequence[ChatMessage], offered: set[str], turn: int
    ) -> tuple[ToolCall, ...]:
        last = messages[-1]
        texts: list[tuple[str | None, str]]
        if last.role == "user":
            texts = [(None, last.content or "")]
        elif last.role == "tool":
            texts = [(name, m.content or "") for name, m in _trailing_results(messages)]
        else:
            return ()
        calls: list[ToolCall] = []
        for rule in self.rules:
            if rule.on != last.role or rule.tool not in offered:
                continue
            for tool_name, text in texts:
                if rule.after_tool not in (None, tool_name):
                    continue
                arguments = rule.arguments_for(text)
                if arguments is not None:
                    calls.append(_call(turn, len(calls), rule.tool, arguments))
                    break
        return tuple(calls)

    def _scripted_or_fallback(self, messages: Sequence[ChatMessage], turn: int) -> ScriptedReply:
        if turn < len(self.replies):
            return self.replies[turn]
        if messages[-1].role == "tool":
            lines = [
                f"{name} failed: {m.content}" if m.is_error else f"{name}: {m.content}"
                for name, m in _trailing_results(messages)
            ]
            return ScriptedReply(content="\n".join(lines))
        if self.when_exhausted == "cycle" and self.replies:
            return self.replies[turn % len(self.replies)]
        if self.when_exhausted == "error":
            msg = f"{self._name}: script of {len(self.replies)} replies has no reply #{turn + 1}"
            raise ProviderBadRequestError(msg, provider=self._name)
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        text = last_user.content if last_user is not None else ""
        return ScriptedReply(content=f"{self.echo_prefix}{text or ''}")


def _call(turn: int, index: int, name: str, arguments: dict[str, Any]) -> ToolCall:
    return ToolCall(id=f"call_{turn}_{index}", name=name, arguments=arguments)


def _trailing_results(messages: Sequence[ChatMessage]) -> list[tuple[str, ChatMessage]]:
    """The tool messages ending the conversation, with their tools' names."""
    results: list[ChatMessage] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        results.append(message)
    results.reverse()
    names: dict[str, str] = {}
    for message in messages:
        for call in message.tool_calls:
            names[call.id] = call.name
    return [(m.name or names.get(m.tool_call_id or "", "tool"), m) for m in results]


def _limit(content: str, params: CompletionParams) -> tuple[str, FinishReason]:
    """Apply `stop` sequences and `max_tokens` to a reply."""
    for stop in params.stop:
        cut = content.find(stop)
        if cut >= 0:
            content = content[:cut]
    if params.max_tokens is not None and count_tokens(content) > params.max_tokens:
        kept: list[str] = []
        used = 0
        for word in _WORDS.findall(content):
            used += count_tokens(word)
            if used > params.max_tokens:
                break
            kept.append(word)
        return "".join(kept).rstrip(), "length"
    return content, "stop"

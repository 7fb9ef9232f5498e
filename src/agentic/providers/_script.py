"""Scripts for the offline provider: scripted replies and tool-call rules."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

__all__ = ["Reply", "ScriptedCall", "ScriptedReply", "ToolRule", "as_reply"]


class ToolRule(BaseModel):
    r"""When a message matches `pattern`, call `tool` with `arguments`.

    String values in `arguments` are templates filled from the match: `{0}` is the
    whole match, `{1}`, `{2}` ... the groups, `{name}` a named group.

    Example:
        >>> rule = ToolRule(pattern=r"weather in (?P<city>\w+)", tool="weather",
        ...                 arguments={"city": "{city}"})
        >>> rule.arguments_for("What's the weather in Paris?")
        {'city': 'Paris'}
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pattern: str
    """A regular expression, searched (not anchored) case-insensitively."""
    tool: str
    """The tool to call."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """The call's arguments; string values are match templates."""
    on: Literal["user", "tool"] = "user"
    """Match the last user message, or the tool results that end the conversation."""
    after_tool: str | None = None
    """With `on="tool"`: only match results of this tool."""

    _regex: re.Pattern[str] = PrivateAttr()

    @model_validator(mode="after")
    def _compile(self) -> ToolRule:
        try:
            self._regex = re.compile(self.pattern, re.IGNORECASE)
        except re.error as exc:
            msg = f"ToolRule for {self.tool!r}: bad pattern {self.pattern!r}: {exc}"
            raise ValueError(msg) from None
        for value in self.arguments.values():
            if isinstance(value, str):
                self._check_template(value)
        return self

    def _check_template(self, template: str) -> None:
        for _, field, _, _ in string.Formatter().parse(template):
            if field is None:
                continue
            known = field.isdigit() and int(field) <= self._regex.groups
            if not (known or field in self._regex.groupindex):
                msg = f"ToolRule for {self.tool!r}: template field {{{field}}} is not a group"
                raise ValueError(msg)

    def arguments_for(self, text: str) -> dict[str, Any] | None:
        """Return the arguments for `text`, or `None` when the rule does not match."""
        match = self._regex.search(text)
        if match is None:
            return None
        groups = [match.group(0), *(g or "" for g in match.groups())]
        named = {k: v or "" for k, v in match.groupdict().items()}
        return {
            key: value.format(*groups, **named) if isinstance(value, str) else value
            for key, value in self.arguments.items()
        }


class ScriptedCall(BaseModel):
    """A tool call in a scripted reply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """The tool to call."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """Its arguments."""


class ScriptedReply(BaseModel):
    """One scripted answer: text, tool calls, or both."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    content: str = ""
    """The answer's text."""
    tool_calls: tuple[ScriptedCall, ...] = ()
    """Tools to call."""


Reply = str | ScriptedReply | Mapping[str, Any]
"""What a script may hold: plain text, a `ScriptedReply`, or its dict form."""


def as_reply(reply: Reply) -> ScriptedReply:
    """Turn a script entry (text, `ScriptedReply` or its dict) into a `ScriptedReply`."""
    if isinstance(reply, str):
        return ScriptedReply(content=reply)
    if isinstance(reply, ScriptedReply):
        return reply
    return ScriptedReply.model_validate(reply)

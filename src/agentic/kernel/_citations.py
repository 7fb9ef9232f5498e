"""Citations: a step's arguments may cite a dependency's result as `${steps.<id>.result}`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from agentic.execution import Call
from agentic.kernel._workflow import ChatStep, ToolStep
from agentic.primitives import Event

__all__ = ["citations", "fill"]

_CITE = re.compile(r"\$\{steps\.([A-Za-z_][A-Za-z0-9_.-]*)\.result\}")


def citations(step: ToolStep | ChatStep) -> list[str]:
    """Return the ids of the steps whose results `step` cites, in order of appearance."""
    texts = [step.message] if isinstance(step, ChatStep) else _strings(step.args)
    return [m.group(1) for text in texts for m in _CITE.finditer(text)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _text(event: Event) -> str:
    value = event.execution.response
    if isinstance(value, str):
        return value
    if isinstance(event, Call) and event.kind == "chat" and isinstance(value, dict):
        return str(value["reply"])  # a chat step's result cites as its reply
    return orjson.dumps(value).decode()


def _substitute(value: Any, results: Mapping[str, Event]) -> Any:
    # One pass over the original text: a cited result is never searched for citations.
    if isinstance(value, str):
        return _CITE.sub(lambda m: _text(results[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    return value


def fill(event: Call, results: Mapping[str, Event]) -> None:
    """Replace the citations in `event`'s arguments with the cited results."""
    # Dependencies are complete here, so every citation has a response.
    event.arguments = _substitute(event.arguments, results)

"""Citations: a step's arguments may cite a dependency's result as `${steps.<id>.result}`.

Every `${` in a step's arguments (and a chat step's message and system prompt) must
open a citation of that form; `$${` is a literal `${`. Anything else is refused when
the workflow is checked, so a mistyped citation never runs as text.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from agentic.kernel._errors import WorkflowCitationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agentic.execution import Call
    from agentic.kernel._workflow import ChatStep, ToolStep

__all__ = ["check_citations", "citations", "fill", "texts"]

_ID = r"[A-Za-z_][A-Za-z0-9_.-]*"
_CITE = re.compile(rf"\$\{{steps\.({_ID})\.result\}}")
# `$${` (a literal `${`) or `${` (a citation, if well formed), left to right.
_OPENING = re.compile(r"\$\$\{|\$\{")
_SUBSTITUTE = re.compile(rf"\$\$\{{|\$\{{steps\.({_ID})\.result\}}")
_FORM = "a citation reads ${steps.<id>.result}; write $${ for a literal ${"
_SHOWN = 80


def texts(step: ToolStep | ChatStep) -> Iterator[tuple[str, str]]:
    """Yield `(where, text)` for every string of `step` that may cite.

    `where` is the argument's path (`text`, `meta.items[1]`), or `message` / `system`
    for a chat step.
    """
    if step.kind == "chat":
        yield "message", step.message
        if step.system is not None:
            yield "system", step.system
        return
    for key, value in step.args.items():
        yield from _strings(value, str(key))


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _scan(text: str) -> Iterator[tuple[str | None, str]]:
    # (cited id, citation text) for each citation; (None, bad text) for each `${` that
    # opens none. Escapes are skipped.
    for opening in _OPENING.finditer(text):
        if opening.group() == "$${":
            continue
        start = opening.start()
        cite = _CITE.match(text, start)
        if cite is not None:
            yield cite.group(1), cite.group()
            continue
        end = text.find("}", start)
        bad = text[start : end + 1] if end != -1 else text[start:]
        yield None, bad if len(bad) <= _SHOWN else bad[: _SHOWN - 1] + "…"


def citations(step: ToolStep | ChatStep) -> list[str]:
    """Return the ids of the steps whose results `step` cites, in order of appearance."""
    return [cited for _, text in texts(step) for cited, _ in _scan(text) if cited is not None]


def check_citations(steps: Sequence[ToolStep | ChatStep]) -> None:
    """Check every citation of every step: well formed, of a step, and of a dependency.

    Raises:
        WorkflowCitationError: A `${` opens no valid citation, or a citation names a
            step that does not exist or that the citing step does not depend on; the
            message names the step, the argument and the citation.
    """
    ids = [step.id for step in steps]
    for step in steps:
        for where, text in texts(step):
            for cited, citation in _scan(text):
                _check_one(step, where, cited, citation, ids)


def _check_one(
    step: ToolStep | ChatStep, where: str, cited: str | None, citation: str, ids: list[str]
) -> None:
    place = (
        where if where in {"message", "system"} and step.kind == "chat" else f"argument {where!r}"
    )
    if cited is None:
        msg = f"step {step.id!r} {place}: {citation!r} is not a citation ({_FORM})"
        hint = _suggest(citation, ids)
        if hint is not None:
            msg += f"; did you mean {hint!r}?"
    elif cited not in ids:
        msg = (
            f"step {step.id!r} {place}: {citation!r} cites {cited!r}, which is no step "
            f"of the workflow (steps: {', '.join(ids)})"
        )
        close = difflib.get_close_matches(cited, ids, n=1)
        if close:
            msg += f"; did you mean '${{steps.{close[0]}.result}}'?"
    elif cited not in step.depends_on:
        msg = (
            f"step {step.id!r} {place} cites the result of {cited!r} but does not depend "
            f'on it (add "{cited}" to its depends_on)'
        )
    else:
        return
    raise WorkflowCitationError(msg, step=step.id, argument=where, citation=citation)


def _suggest(bad: str, ids: list[str]) -> str | None:
    # The step a malformed citation most likely meant: one whose id it contains as a
    # whole dotted part (`${step.fetch.reslt}`, `${fetch}`), else the closest id.
    inner = bad.removeprefix("${").removesuffix("}").strip()
    parts = inner.split(".")
    for step_id in sorted(ids, key=len, reverse=True):
        width = step_id.count(".") + 1
        if any(".".join(parts[i : i + width]) == step_id for i in range(len(parts))):
            return f"${{steps.{step_id}.result}}"
    close = difflib.get_close_matches(inner, ids, n=1)
    return f"${{steps.{close[0]}.result}}" if close else None


def _text(event: Call) -> str:
    value = event.execution.response
    if isinstance(value, str):
        return value
    if event.kind == "chat" and isinstance(value, dict):
        return str(value["reply"])  # a chat step's result cites as its reply
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # An integer beyond 64 bits: the standard library writes it exactly, in the
        # same compact form.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _substitute(value: Any, text_of: Callable[[str], str]) -> Any:
    # One pass over the original text: a cited result is never searched for citations.
    if isinstance(value, str):
        return _SUBSTITUTE.sub(lambda m: "${" if m.group(1) is None else text_of(m.group(1)), value)
    if isinstance(value, dict):
        return {k: _substitute(v, text_of) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, text_of) for v in value]
    return value


def fill(event: Call, results: Mapping[str, Call]) -> None:
    """Replace the citations in `event`'s arguments with the cited results (`$${` with `${`).

    The workflow has been checked, so every citation names a completed dependency.
    """
    event.arguments = _substitute(event.arguments, lambda step: _text(results[step]))

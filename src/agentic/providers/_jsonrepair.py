"""Find JSON in model text and repair the small syntax slips models make."""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["ends_open", "json_candidates", "repair_json"]

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_JSON_LANGS = frozenset({"json", "json5", "jsonc", "javascript", "js", ""})
_SPECIAL = re.compile(r'[{}\[\]"\\]')
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}
_CLOSER = {"{": "}", "[": "]"}


def _balanced_spans(text: str) -> Iterator[tuple[str, bool]]:  # noqa: C901 - a scanner
    """Yield each top-level `{...}` / `[...]` of `text` with whether it closes.

    The last one may be cut off: then it is the rest of the text, and not closed.
    """
    depth = 0
    start = 0
    in_string = False
    skip = -1
    # Jump from one structural character to the next instead of visiting every char.
    for match in _SPECIAL.finditer(text):
        pos = match.start()
        if pos == skip:
            continue
        char = text[pos]
        if depth == 0:
            if char in "{[":
                depth, start, in_string = 1, pos, False
            continue
        if in_string:
            if char == "\\":
                skip = pos + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                yield text[start : pos + 1], True
    if depth:
        yield text[start:], False


def ends_open(text: str) -> bool:
    """Return whether the first object or array in `text` is cut off before it closes.

    A model that reaches its token limit midway through a value leaves an open string
    or bracket; `repair_json` would close them, turning a cut value into a whole one.
    """
    first = next(_balanced_spans(text), None)
    return first is not None and not first[1]


def json_candidates(text: str) -> Iterator[str]:
    """Yield the pieces of `text` that may hold the JSON value, most likely first.

    A text that is itself an object or array comes first (the common, fast case),
    then fenced code blocks tagged `json` (or untagged), then each bare top-level
    object or array in the text, then the whole text.
    """
    seen: set[str] = set()
    whole = text.strip()
    if whole[:1] in ("{", "["):
        seen.add(whole)
        yield whole
    for match in _FENCE.finditer(text):
        if match.group(1).lower() in _JSON_LANGS:
            body = match.group(2).strip()
            if body and body not in seen:
                seen.add(body)
                yield body
    for span, _ in _balanced_spans(text):
        if span not in seen:
            seen.add(span)
            yield span
    if whole and whole not in seen:
        yield whole


def _read_string(text: str, pos: int) -> tuple[str, int]:
    """Read a string literal quoted with `text[pos]`; return it double-quoted and the end."""
    quote = text[pos]
    out = ['"']
    i = pos + 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n:
            nxt = text[i + 1]
            out.append("'" if (quote == "'" and nxt == "'") else char + nxt)
            i += 2
            continue
        if char == quote:
            out.append('"')
            return "".join(out), i + 1
        if char == '"':
            out.append('\\"')  # only reachable inside a single-quoted string
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        else:
            out.append(char)
        i += 1
    out.append('"')  # truncated inside the string: close it
    return "".join(out), n


def _strip_trailing_comma(out: list[str]) -> None:
    while out and out[-1].isspace():
        out.pop()
    if out and out[-1] == ",":
        out.pop()


def _next_significant(text: str, pos: int) -> str:
    n = len(text)
    while pos < n and text[pos].isspace():
        pos += 1
    return text[pos] if pos < n else ""


def repair_json(text: str) -> str:  # noqa: C901, PLR0912 - a scanner's state machine
    """Return `text` with common slips fixed, ready for a strict JSON parser.

    Fixes: single-quoted strings, unquoted object keys (only where a key is
    expected: inside an object and followed by `:`), trailing commas, Python's
    `True`/`False`/`None`, `//` and `/* */` comments, raw newlines inside strings,
    and a value truncated midway (open strings and brackets are closed, a dangling
    key or colon is completed or dropped). The result is not guaranteed to parse.
    """
    out: list[str] = []
    stack: list[str] = []
    last_key_at: int | None = None  # index in `out` of a key not yet followed by ':'
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in "\"'":
            literal, i = _read_string(text, i)
            prev = next((t for t in reversed(out) if not t.isspace()), "")
            if stack and stack[-1] == "{" and prev in ("{", ","):
                last_key_at = len(out)
            out.append(literal)
            continue
        if char == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if char == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if char in "{[":
            stack.append(char)
            out.append(char)
        elif char in "}]":
            _strip_trailing_comma(out)
            if stack:
                out.append(_CLOSER[stack.pop()])
            else:
                out.append(char)
        elif char == ":":
            last_key_at = None
            out.append(char)
        elif char.isalpha() or char in "_$":
            match = _WORD.match(text, i)
            word = match.group(0) if match else char
            i += len(word)
            in_object = bool(stack) and stack[-1] == "{"
            if in_object and _next_significant(text, i) == ":":
                out.append(f'"{word}"')
            else:
                out.append(_PY_LITERALS.get(word, word))
            continue
        else:
            out.append(char)
        i += 1
    if stack:
        _close_truncated(out, stack, last_key_at)
    return "".join(out)


def _close_truncated(out: list[str], stack: list[str], last_key_at: int | None) -> None:
    """Finish a value cut off midway: complete a dangling colon, drop a dangling key."""
    while out and out[-1].isspace():
        out.pop()
    if out and out[-1] == ":":
        out.append("null")
    elif last_key_at is not None and last_key_at == len(out) - 1:
        del out[last_key_at:]
    _strip_trailing_comma(out)
    out.extend(_CLOSER[opener] for opener in reversed(stack))

"""A small reader of Google-style docstrings: the summary and the `Args:` section."""

from __future__ import annotations

import inspect
import re

__all__ = ["parse_docstring"]

_SECTION = re.compile(r"^(\w[\w ]*):\s*$")
_ARG = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Return the description (the text before the first section) and the Args descriptions.

    Args:
        doc: A Google-style docstring (or None).

    Returns:
        `(description, {argument: description})`; continuation lines are joined with
        single spaces.
    """
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    indent: int | None = None
    for line in lines:
        stripped = line.strip()
        header = _SECTION.match(line)
        if header and not line.startswith(" "):
            section, current, indent = header.group(1).lower(), None, None
            continue
        if section is None:
            description.append(line)
            continue
        if section not in ("args", "arguments", "parameters") or not stripped:
            continue
        level = len(line) - len(line.lstrip())
        if indent is None:
            indent = level
        match = _ARG.match(stripped)
        if level <= indent and match:
            current = match.group(1).lstrip("*")
            args[current] = match.group(2).strip()
        elif current is not None:
            args[current] = f"{args[current]} {stripped}".strip()
    text = "\n".join(description).strip()
    return text, args

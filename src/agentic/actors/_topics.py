"""Topic patterns for the event bus.

Topics are dot-separated segments: `branch.7f3a.message`. Patterns match whole
segments: `*` matches exactly one segment, `**` matches any number of segments (zero
included), anything else matches itself. So `branch.*.message` matches
`branch.7f3a.message` but not `branch.message`; `branch.**` matches `branch`,
`branch.7f3a` and `branch.7f3a.message`; `**` matches every topic.
"""

from __future__ import annotations

import re

__all__ = ["compile_pattern", "topic_matches"]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a topic pattern (`*` one segment, `**` any segments) to a regex.

    The regex fully matches a topic *with a leading dot* (`"." + topic`), which lets
    `**` stand for zero segments without special cases; prefer
    [`topic_matches()`][agentic.actors.topic_matches].

    Args:
        pattern: a dot-separated pattern.

    Returns:
        The compiled regex.

    Raises:
        ValueError: if a segment is empty or mixes `*` with other characters.
    """
    parts: list[str] = []
    for segment in pattern.split("."):
        if segment == "**":
            parts.append(r"(?:\.[^.]+)*")
        elif segment == "*":
            parts.append(r"\.[^.]+")
        elif not segment or "*" in segment:
            msg = f"bad topic pattern {pattern!r}: segment {segment!r}"
            raise ValueError(msg)
        else:
            parts.append(r"\." + re.escape(segment))
    return re.compile("".join(parts))


def topic_matches(pattern: str, topic: str) -> bool:
    """Return whether `topic` matches `pattern` (see the module docs for wildcards).

    Example:
        >>> topic_matches("branch.*.message", "branch.b1.message")
        True
        >>> topic_matches("branch.**", "branch")
        True
    """
    return compile_pattern(pattern).fullmatch("." + topic) is not None

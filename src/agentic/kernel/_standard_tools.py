"""Small, safe tools every workflow may use (no I/O outside a sandbox, no network)."""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["standard_tools"]

_MAX_SLEEP = 30.0


def echo(text: str) -> str:
    """Return the text unchanged.

    Args:
        text: What to return.
    """
    return text


def word_count(text: str) -> dict[str, int]:
    """Count the words, lines and characters of a text.

    Args:
        text: The text to measure.
    """
    return {
        "words": len(text.split()),
        "lines": text.count("\n") + 1 if text else 0,
        "chars": len(text),
    }


def uppercase(text: str) -> str:
    """Return the text in upper case.

    Args:
        text: The text to convert.
    """
    return text.upper()


def add(a: float, b: float) -> float:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


def keywords(text: str, top: int = 5) -> list[str]:
    """Return the most frequent words of four letters or more, most frequent first.

    Args:
        text: The text to scan.
        top: How many words to return.
    """
    counts: dict[str, int] = {}
    for word in re.findall(r"[a-zA-Z]{4,}", text.lower()):
        counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _ in ranked[: max(0, top)]]


def sha256(text: str) -> str:
    """Return the SHA-256 hex digest of a text (UTF-8).

    Args:
        text: The text to hash.
    """
    return hashlib.sha256(text.encode()).hexdigest()


async def sleep(seconds: float) -> float:
    """Wait, then return the seconds waited (at most 30).

    Args:
        seconds: How long to wait.

    Raises:
        ValueError: `seconds` is NaN (which would wait forever).
    """
    if math.isnan(seconds):
        msg = "seconds must be a number, not NaN"
        raise ValueError(msg)
    wait = min(max(seconds, 0.0), _MAX_SLEEP)
    await asyncio.sleep(wait)
    return wait


def standard_tools() -> list[Callable[..., Any]]:
    """Return the standard tool functions (echo, word_count, uppercase, add, keywords, ...).

    They are plain typed functions: register them in a
    [`ToolRegistry`][agentic.tools.ToolRegistry] (which makes each a Tool with the
    registry's thread runner).
    """
    return [echo, word_count, uppercase, add, keywords, sha256, sleep]

"""Redaction of secrets from arguments before they reach a log."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["DEFAULT_SECRET_KEYS", "REDACTED", "redact"]

REDACTED = "***"
"""What a redacted value is replaced with."""

DEFAULT_SECRET_KEYS = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[-_]?key|auth(orization)?|credential|"
    r"private[-_]?key|session|cookie",
    re.IGNORECASE,
)
"""Keys whose values are secrets (searched anywhere in the key)."""


def redact(value: Any, secret_keys: re.Pattern[str] = DEFAULT_SECRET_KEYS) -> Any:
    """Return a copy of `value` with the values of secret-looking keys replaced.

    Dicts and lists are walked recursively; other values are returned as they are.

    Args:
        value: A JSON-compatible value (usually a Call's arguments).
        secret_keys: Keys matching this pattern have their values replaced by
            [`REDACTED`][agentic.execution.REDACTED].
    """
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and secret_keys.search(key)
            else redact(item, secret_keys)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(item, secret_keys) for item in value]
    return value

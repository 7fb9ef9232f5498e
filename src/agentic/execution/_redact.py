"""Redaction of secrets from arguments before they reach a log."""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["DEFAULT_SECRET_KEYS", "REDACTED", "is_secret_key", "redact"]

REDACTED = "***"
"""What a redacted value is replaced with."""

DEFAULT_SECRET_KEYS = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[-_]?key|auth(orization)?|credential|"
    r"private[-_]?key|session|cookie",
    re.IGNORECASE,
)
"""Keys whose values are secrets (searched anywhere in the key)."""

_VERDICTS_PER_PATTERN = 4096
"""Cached verdicts kept per pattern; the cache starts over when it is full."""
_PATTERNS = 64
"""Patterns with a verdict cache; all caches start over when there are more."""


class _Verdicts(dict[str, bool]):
    """Secret-key verdicts for one pattern; a missing key is searched once, then kept."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__()
        self.pattern = pattern

    def __missing__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False  # not kept: keys of other types are never secret
        verdict = self.pattern.search(key) is not None
        if len(self) >= _VERDICTS_PER_PATTERN:
            self.clear()
        self[key] = verdict
        return verdict


_verdicts: dict[re.Pattern[str], _Verdicts] = {}
_patterns_lock = threading.Lock()

# Values that hold no keys, so nothing in them is ever redacted.
_LEAVES = frozenset({str, int, float, bool, type(None), bytes})


def _cache(secret_keys: re.Pattern[str]) -> _Verdicts:
    cache = _verdicts.get(secret_keys)
    if cache is None:
        with _patterns_lock:
            if len(_verdicts) >= _PATTERNS:
                _verdicts.clear()
            cache = _verdicts.setdefault(secret_keys, _Verdicts(secret_keys))
    return cache


def is_secret_key(key: object, secret_keys: re.Pattern[str] = DEFAULT_SECRET_KEYS) -> bool:
    """Return whether the value under `key` is a secret (the verdict is cached per key).

    The pattern is searched once per distinct key string (a bounded cache per
    pattern); keys that are not strings are never secret.

    Args:
        key: A dict key.
        secret_keys: The pattern that marks secret keys.
    """
    return _cache(secret_keys)[key]  # type: ignore[index]  # any key: see __missing__


def redact(value: Any, secret_keys: re.Pattern[str] = DEFAULT_SECRET_KEYS) -> Any:
    """Return `value` with the values of secret-looking keys replaced by `"***"`.

    Dicts, lists and tuples are walked recursively; strings, numbers and other
    values are returned as they are without being looked into. Nothing is copied
    that holds no secret: a dict or list with nothing to redact comes back as the
    very same object (so a large conversation costs one walk, not one copy), and a
    container that does hold a secret comes back as a new dict or list (tuples
    become lists) while the input is left unchanged.

    Args:
        value: A JSON-compatible value (usually a Call's arguments).
        secret_keys: Keys matching this pattern (searched anywhere in the key) have
            their values replaced by [`REDACTED`][agentic.execution.REDACTED].
    """
    if type(value) in _LEAVES:
        return value
    return _walk(value, _cache(secret_keys))


def _walk(value: Any, cache: _Verdicts) -> Any:
    if isinstance(value, dict):
        return _walk_dict(value, cache)
    if isinstance(value, (list, tuple)):
        return _walk_list(value, cache)
    return value


def _walk_dict(value: dict[Any, Any], cache: _Verdicts) -> dict[Any, Any]:
    # Written for speed: this runs once per dict of a whole conversation. The keys
    # are checked in one pass at C level (`cache[key]` is a dict lookup once the
    # key has been seen), and values that are leaves (strings, numbers) are not entered.
    if any(map(cache.__getitem__, value)):
        return {key: REDACTED if cache[key] else _walk(item, cache) for key, item in value.items()}
    changed: dict[Any, Any] | None = None
    for key, item in value.items():
        kind = type(item)
        if kind in _LEAVES:
            continue
        if kind is dict:
            if not item:
                continue
            new = _walk_dict(item, cache)
        else:
            new = _walk(item, cache)
        if new is not item:
            if changed is None:
                changed = {}
            changed[key] = new
    if changed is None:
        return value
    return {key: changed.get(key, item) for key, item in value.items()}


def _walk_list(value: list[Any] | tuple[Any, ...], cache: _Verdicts) -> list[Any]:
    items: list[Any] | None = None
    for index, item in enumerate(value):
        if type(item) is dict:
            if not item:
                continue
            new = _walk_dict(item, cache)
        elif type(item) in _LEAVES:
            continue
        else:
            new = _walk(item, cache)
        if new is not item:
            if items is None:
                items = list(value)
            items[index] = new
    if items is not None:
        return items
    return list(value) if isinstance(value, tuple) else value

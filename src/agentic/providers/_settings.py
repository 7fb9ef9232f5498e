"""The connection settings of an HTTP provider, checked and cleaned before any request.

A base URL that cannot be requested, or a key or header value no HTTP header can
carry, is refused here with a `ConfigurationError` that never quotes the value:
httpx would otherwise fail every request with an error quoting the header (key
included), retried as a connection error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from agentic.errors import ConfigurationError

__all__ = [
    "api_key_problem",
    "base_url_problem",
    "check_base_url",
    "clean_api_key",
    "clean_headers",
    "split_credentials",
]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def base_url_problem(url: str) -> str | None:
    """Say what makes `url` unusable as an API root (`None` when it is usable).

    The answer never quotes the URL, which may hold credentials.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not host:
        return "has no host"
    return None


def check_base_url(url: str, name: str) -> None:
    """Refuse a base URL that can never be requested (see `base_url_problem`).

    Raises:
        ConfigurationError: Naming the provider, never quoting the URL.
    """
    problem = base_url_problem(url)
    if problem is not None:
        msg = f"provider {name!r}: base_url {problem}"
        raise ConfigurationError(msg)


def api_key_problem(key: str) -> str | None:
    """Say why `key` (without surrounding whitespace) cannot go into a header, or `None`.

    A key is a token of visible ASCII characters. Anything else would make httpx fail
    the request with an error quoting the header, key included (a line break), or
    raise a `UnicodeEncodeError` holding it (a non-ASCII character). The answer never
    quotes the key.
    """
    for position, char in enumerate(key):
        if char == " ":
            return f"has a space at position {position}: a key is one token (no 'Bearer ')"
        if not "!" <= char <= "~":
            kind = "a non-ASCII" if ord(char) > 0x7E else "a control"  # noqa: PLR2004
            return f"has {kind} character at position {position}, which no header can carry"
    return None


def clean_api_key(api_key: SecretStr | str | None, name: str) -> SecretStr | None:
    """Strip surrounding whitespace (a key read with its line break) and check the rest."""
    if api_key is None:
        return None
    raw = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    key = raw.strip()
    problem = api_key_problem(key)
    if problem is not None:
        msg = f"provider {name!r}: api_key {problem}"
        raise ConfigurationError(msg)
    return api_key if isinstance(api_key, SecretStr) and key == raw else SecretStr(key)


def clean_headers(headers: Mapping[str, str] | None, name: str) -> dict[str, str]:
    """Strip surrounding whitespace from extra header values; refuse what no header carries.

    A line break or a non-ASCII character would fail every request with an error
    quoting the value (which may be a key: Azure's `api-key`); the message names the
    header only.
    """
    cleaned: dict[str, str] = {}
    for key, raw in (headers or {}).items():
        value = raw.strip()
        if not _TOKEN.fullmatch(key) or any(not (" " <= c <= "~" or c == "\t") for c in value):
            msg = (
                f"provider {name!r}: header {key!r} has a line break, control or non-ASCII "
                "character, which no HTTP header can carry"
            )
            raise ConfigurationError(msg)
        cleaned[key] = value
    return cleaned


def split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None, str]:
    """Take `user:password@` out of `url`: httpx would log it with every request URL."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, ""
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return bare, httpx.BasicAuth(user, password), password

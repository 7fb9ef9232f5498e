"""What the HTTP providers share: the httpx client, error mapping, redaction, SSE lines."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, Self

import httpx
import orjson
from pydantic import SecretStr

from agentic.providers._errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderProtocolError,
    ProviderRateLimitError,
    ProviderServerError,
    ProviderTimeoutError,
)
from agentic.providers._models import Capabilities, Pricing
from agentic.providers._settings import (
    check_base_url,
    clean_api_key,
    clean_headers,
    split_credentials,
)
from agentic.providers._sse import SSELineSplitter

__all__ = ["HTTPProvider", "error_for_status", "parse_retry_after"]

logger = logging.getLogger("agentic.providers")
logger.addHandler(logging.NullHandler())

_UNAUTHORIZED, _FORBIDDEN, _REQUEST_TIMEOUT, _TOO_MANY_REQUESTS = 401, 403, 408, 429
_SERVER_ERROR = 500
_EXHAUSTED = frozenset({"insufficient_quota"})
_SUCCESS, _REDIRECT = range(200, 300), range(300, 400)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_ANTHROPIC_RESETS = (
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-reset",
    "anthropic-ratelimit-input-tokens-reset",
    "anthropic-ratelimit-output-tokens-reset",
)
_OPENAI_RESETS = ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")


def _seconds_until(moment: datetime, now: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def _parse_duration(text: str) -> float | None:
    """Parse OpenAI's reset durations such as `1s`, `6m0s`, `20ms`."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(n) * _DURATION_UNITS[u] for n, u in parts)


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Return the seconds a rate-limited server asks us to wait, or `None`.

    Reads, in order: `retry-after-ms`; `retry-after` (seconds or an HTTP date); then
    the largest of Anthropic's `anthropic-ratelimit-*-reset` (RFC 3339 times) and
    OpenAI's `x-ratelimit-reset-*` (durations like `6m0s`).

    Args:
        headers: Response headers (any case).
        now: The current time, for tests (default: now, UTC).
    """
    lower = {k.lower(): v.strip() for k, v in headers.items()}
    now = now or datetime.now(UTC)
    explicit = _explicit_retry_after(lower, now)
    if explicit is not None:
        return explicit
    waits: list[float] = []
    for key in _ANTHROPIC_RESETS:
        if key in lower:
            try:
                moment = datetime.fromisoformat(lower[key])
            except ValueError:
                continue
            waits.append(_seconds_until(moment, now))
    seconds = (_parse_duration(lower[key]) for key in _OPENAI_RESETS if key in lower)
    waits.extend(s for s in seconds if s is not None)
    return max(waits) if waits else None


def _explicit_retry_after(lower: Mapping[str, str], now: datetime) -> float | None:
    if "retry-after-ms" in lower:
        try:
            return max(0.0, float(lower["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    if "retry-after" in lower:
        value = lower["retry-after"]
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return _seconds_until(parsedate_to_datetime(value), now)
            except (TypeError, ValueError):
                pass
    return None


def _error_details(body: str) -> tuple[str | None, str | None]:
    """Pull (message, type) out of an OpenAI- or Anthropic-shaped error body."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        kind = error.get("type") or error.get("code")
        return (
            str(message) if message is not None else None,
            str(kind) if kind is not None else None,
        )
    if isinstance(error, str):  # some OpenAI-compatible servers (Ollama) send a string
        return error, None
    return None, None


def error_for_status(
    status: int,
    message: str,
    *,
    provider: str,
    error_type: str | None = None,
    retry_after: float | None = None,
    request_id: str | None = None,
) -> ProviderError:
    """Build the typed error for an HTTP status (or an in-stream error of that meaning)."""
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status_code": status,
        "error_type": error_type,
        "request_id": request_id,
    }
    if status in (_UNAUTHORIZED, _FORBIDDEN):
        return ProviderAuthError(message, **kwargs)
    if status == _TOO_MANY_REQUESTS:
        # OpenAI's 429 insufficient_quota: out of credits, which no wait cures.
        retryable = False if error_type in _EXHAUSTED else None
        return ProviderRateLimitError(
            message, retry_after=retry_after, retryable=retryable, **kwargs
        )
    if status >= _SERVER_ERROR:
        return ProviderServerError(message, retry_after=retry_after, **kwargs)
    if status == _REQUEST_TIMEOUT:
        return ProviderTimeoutError(message, **kwargs)
    return ProviderBadRequestError(message, **kwargs)


class _LoopClient(NamedTuple):
    client: httpx.AsyncClient
    closer: AsyncGenerator[None, None]


async def _close_at_loop_end(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Yield once, then close `client` when closed (by `aclose()` or the loop's end)."""
    try:
        yield
    finally:
        await client.aclose()


class HTTPProvider:
    """The shared base of the HTTP providers: one `httpx.AsyncClient` per event loop.

    Each loop's client is closed by `aclose()` (or `async with`) on that loop, or else
    when the loop shuts down: `asyncio.run(provider.complete(...))` twice in a row
    leaves no connection open. A loop that is closed without
    `loop.shutdown_asyncgens()` (which `asyncio.run` and `asyncio.Runner` call) cannot
    close its client: call `aclose()` on such a loop before closing it.

    Subclasses supply `_headers()` and the translation of bodies. The API key is held
    as a `SecretStr`, put into request headers only when a request is built, and
    redacted from every message built from a server's answer.
    """

    default_capabilities = Capabilities()

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: SecretStr | str | None,
        model: str,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        pricing: Pricing | None = None,
        capabilities: Capabilities | None = None,
    ) -> None:
        self._name = name
        check_base_url(base_url, name)
        base_url, self._auth, self._url_password = split_credentials(base_url)
        self.base_url = base_url.rstrip("/")
        """The API's base URL (without any `user:password@`, which becomes Basic auth)."""
        self._api_key = clean_api_key(api_key, name)
        self.model = model
        """The model used unless `CompletionParams.model` names another."""
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._extra_headers = clean_headers(headers, name)
        self._pricing = pricing
        self._capabilities = capabilities or self.default_capabilities
        self._clients: dict[asyncio.AbstractEventLoop, _LoopClient] = {}

    @property
    def name(self) -> str:
        """The provider's name."""
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        """What the configured model can do."""
        return self._capabilities

    @property
    def pricing(self) -> Pricing | None:
        """Token prices, if configured."""
        return self._pricing

    def __repr__(self) -> str:
        """Show name, model and URL; never the key."""
        return (
            f"{type(self).__name__}(name={self._name!r}, model={self.model!r}, "
            f"base_url={self.base_url!r})"
        )

    async def __aenter__(self) -> Self:
        """Use the provider as an async context manager that closes its client."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the client."""
        await self.aclose()

    async def aclose(self) -> None:
        """Close the running loop's HTTP client (a new one opens if the provider is used again).

        Clients of other loops close when those loops shut down (see `_get_client`).
        """
        entry = self._clients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry.closer.aclose()

    def _headers(self) -> dict[str, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _secret(self) -> str:
        return self._api_key.get_secret_value() if self._api_key is not None else ""

    def _redact(self, text: str) -> str:
        secret = self._secret()
        if secret:
            text = text.replace(secret, "***")
        # The URL's password no longer appears in any URL; this catches a server echoing
        # it (a password of a few characters would mangle every message instead).
        if len(self._url_password) >= 4:  # noqa: PLR2004
            text = text.replace(self._url_password, "***")
        return text

    async def _get_client(self) -> httpx.AsyncClient:
        """Return the running loop's client, opening one (and its closer) if needed.

        A client's connections belong to one event loop, so each loop gets its own. Its
        closer is an async generator the loop tracks: `asyncio.run` (and
        `asyncio.Runner`) finalize such generators while the loop still runs, in
        `loop.shutdown_asyncgens()`, which closes the client on the loop that owns its
        connections; if the provider is collected first, the loop's finalizer hook
        closes it. A loop closed without `shutdown_asyncgens()` (a hand-made loop that
        is just `close()`d) cannot close it: call `aclose()` on that loop before.
        """
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is not None and not entry.client.is_closed:
            return entry.client
        for other in list(self._clients):
            if other.is_closed():  # its client closed with it (or is beyond reach: above)
                self._clients.pop(other, None)
        client = httpx.AsyncClient(timeout=self._timeout, auth=self._auth)
        entry = _LoopClient(client, _close_at_loop_end(client))
        self._clients[loop] = entry
        await anext(entry.closer)  # runs to its `yield`: the loop now tracks the closer
        return client

    def _http_error(self, response: httpx.Response, body: str) -> ProviderError:
        message, kind = _error_details(body)
        location = response.headers.get("location")
        if response.status_code in _REDIRECT and location:
            # httpx follows no redirect; a POST must not be replayed elsewhere unasked.
            message = f"redirected to {location}: set base_url to the address it moved to"
        elif message is None:
            message = body[:200] or response.reason_phrase
        text = self._redact(
            f"{self._name}: HTTP {response.status_code} from {response.url}: {message}"
        )
        request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
        retry_after = parse_retry_after(response.headers)
        logger.info(
            "provider.http_error",
            extra={"provider": self._name, "status": response.status_code, "type": kind},
        )
        return error_for_status(
            response.status_code,
            text,
            provider=self._name,
            error_type=kind,
            retry_after=retry_after,
            request_id=request_id,
        )

    def _transport_error(self, exc: httpx.HTTPError, url: str, *, streaming: bool) -> ProviderError:
        detail = self._redact(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, httpx.TimeoutException):
            msg = f"{self._name}: no answer from {url} in time ({detail})"
            return ProviderTimeoutError(msg, provider=self._name)
        if streaming and isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
            msg = f"{self._name}: connection to {url} dropped mid-stream ({detail})"
            return ProviderProtocolError(msg, provider=self._name, retryable=True)
        msg = f"{self._name}: cannot reach {url} ({detail})"
        return ProviderConnectionError(msg, provider=self._name)

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    async def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body`; return the decoded JSON object, or raise the mapped error."""
        url = self._url(path)
        logger.debug("provider.request", extra={"provider": self._name, "url": url})
        headers = {**self._extra_headers, **self._headers()}
        client = await self._get_client()
        try:
            response = await client.post(url, content=orjson.dumps(body), headers=headers)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, url, streaming=False) from None
        if response.status_code not in _SUCCESS:
            raise self._http_error(response, response.text)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            msg = f"{self._name}: malformed JSON from {url}: {exc}"
            raise ProviderProtocolError(
                self._redact(msg), provider=self._name, status_code=response.status_code
            ) from None
        if not isinstance(data, dict):
            msg = f"{self._name}: expected a JSON object from {url}, got {type(data).__name__}"
            raise ProviderProtocolError(msg, provider=self._name)
        return data

    async def _stream_lines(self, path: str, body: dict[str, Any]) -> AsyncIterator[str]:
        """POST `body` and yield the response's lines; map errors on the way.

        Lines end at CRLF, LF or CR only (see `SSELineSplitter`), never at the other
        Unicode line boundaries httpx's `aiter_lines` cuts at.
        """
        url = self._url(path)
        logger.debug("provider.stream", extra={"provider": self._name, "url": url})
        headers = {
            **self._extra_headers,
            **self._headers(),
            "accept": "text/event-stream",
        }
        client = await self._get_client()
        request = client.build_request("POST", url, content=orjson.dumps(body), headers=headers)
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, url, streaming=False) from None
        try:
            if response.status_code not in _SUCCESS:
                try:
                    await response.aread()
                except httpx.HTTPError as exc:
                    raise self._transport_error(exc, url, streaming=True) from None
                raise self._http_error(response, response.text)
            splitter = SSELineSplitter()
            try:
                async for data in response.aiter_bytes():
                    for line in splitter.feed(data):
                        yield line
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, url, streaming=True) from None
            for line in splitter.flush():
                yield line
        finally:
            await response.aclose()

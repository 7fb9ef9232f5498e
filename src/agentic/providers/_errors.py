"""Errors raised by providers, mapped from HTTP statuses and wire-protocol failures.

```
AgenticError
  ProviderError                      # .provider, .status_code, .retryable, .retry_after
    ProviderAuthError                # 401, 403: the key is missing, wrong or not allowed
    ProviderRateLimitError           # 429: retryable, with the wait the server asked for
    ProviderServerError              # 5xx, 529 overloaded: retryable
    ProviderBadRequestError(ValueError)   # 400, 404, 422 and other 4xx: not retryable
    ProviderProtocolError            # malformed JSON, bad SSE, a stream dropped midway
    ProviderConnectionError          # the server could not be reached
      ProviderTimeoutError(TimeoutError)
  StructuredOutputError(ValueError)  # model text that is not the JSON/model asked for
```

`retryable` and `retry_after` are read by
[`ErrorInfo.from_exception()`][agentic.primitives.ErrorInfo.from_exception], which is how
the retry and rate-limit processors learn what to do. Messages never contain an API
key: providers redact their key from any text a server sends back before it reaches a
message.
"""

from __future__ import annotations

from typing import Any, ClassVar

from agentic.errors import AgenticError

__all__ = [
    "ProviderAuthError",
    "ProviderBadRequestError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderProtocolError",
    "ProviderRateLimitError",
    "ProviderServerError",
    "ProviderTimeoutError",
    "StructuredOutputError",
]


class ProviderError(AgenticError):
    """A call to a model provider failed."""

    default_retryable: ClassVar[bool] = False
    """Whether errors of this class are retryable unless the raiser says otherwise."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        """The name of the provider that failed."""
        self.status_code = status_code
        """The HTTP status, when the server answered with one."""
        self.error_type = error_type
        """The provider's own error type (`rate_limit_error`, `overloaded_error`, ...)."""
        self.retryable: bool = self.default_retryable if retryable is None else retryable
        """Whether the same call may succeed if tried again."""
        self.retry_after = retry_after
        """Seconds the server asked us to wait before retrying, if it said."""
        self.request_id = request_id
        """The provider's request id (for support tickets), when it sent one."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the keyword attributes (exceptions cross actor boundaries)."""
        return (_rebuild, (type(self), str(self), self.__dict__.copy()))


def _rebuild(cls: type[ProviderError], message: str, state: dict[str, Any]) -> ProviderError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ProviderAuthError(ProviderError):
    """The provider refused the credentials (HTTP 401 or 403)."""


class ProviderRateLimitError(ProviderError):
    """The provider is rate limiting us (HTTP 429); `retry_after` says how long to wait."""

    default_retryable = True


class ProviderServerError(ProviderError):
    """The provider failed or is overloaded (HTTP 5xx, Anthropic's 529)."""

    default_retryable = True


class ProviderBadRequestError(ProviderError, ValueError):
    """The provider rejected the request itself (HTTP 400, 404, 422, other 4xx)."""


class ProviderProtocolError(ProviderError):
    """The provider's answer broke the wire protocol: bad JSON, bad SSE, a dropped stream."""


class ProviderConnectionError(ProviderError):
    """The provider could not be reached (refused, reset, DNS, TLS)."""

    default_retryable = True


class ProviderTimeoutError(ProviderConnectionError, TimeoutError):
    """The provider did not answer within the configured timeout."""


class StructuredOutputError(AgenticError, ValueError):
    """Model text could not be turned into the JSON value or pydantic model asked for."""

    def __init__(
        self, message: str, *, text: str = "", target: str | None = None, errors: Any = None
    ) -> None:
        super().__init__(message)
        self.text = text
        """The text that was parsed."""
        self.target = target
        """The name of the model (or `"JSON"`) it was parsed into."""
        self.errors = errors
        """Validation errors (pydantic's list of dicts), when validation failed."""

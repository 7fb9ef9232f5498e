"""Retry-after parsing and the mapping of HTTP statuses to typed errors."""

import pickle
from datetime import UTC, datetime

import pytest

from agentic.errors import AgenticError
from agentic.primitives import ErrorInfo
from agentic.providers import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderError,
    ProviderRateLimitError,
    ProviderServerError,
    ProviderTimeoutError,
    parse_retry_after,
)
from agentic.providers._http import error_for_status

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            ({"Retry-After": "20"}, 20.0),
            ({"retry-after": "1.5"}, 1.5),
            ({"retry-after": "Sun, 22 Nov 2026 12:00:30 GMT"}, 30.0),
            ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
            (
                {
                    "anthropic-ratelimit-requests-reset": "2026-11-22T12:00:05Z",
                    "anthropic-ratelimit-tokens-reset": "2026-11-22T12:00:40Z",
                },
                40.0,
            ),
            ({"x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"}, 360.0),
            ({"x-ratelimit-reset-tokens": "20ms"}, 0.02),
            ({"retry-after": "Sun, 22 Nov 2026 11:00:00 GMT"}, 0.0),
            ({}, None),
            ({"retry-after": "soon"}, None),
            ({"x-ratelimit-reset-tokens": "later"}, None),
        ],
    )
    def test_headers(self, headers, expected):
        """Retry-After (seconds or date), retry-after-ms and vendor reset headers are read."""
        assert parse_retry_after(headers, now=NOW) == pytest.approx(expected)


class TestStatusMapping:
    @pytest.mark.parametrize(
        ("status", "cls", "retryable"),
        [
            (401, ProviderAuthError, False),
            (403, ProviderAuthError, False),
            (429, ProviderRateLimitError, True),
            (500, ProviderServerError, True),
            (503, ProviderServerError, True),
            (529, ProviderServerError, True),
            (408, ProviderTimeoutError, True),
            (400, ProviderBadRequestError, False),
            (404, ProviderBadRequestError, False),
            (422, ProviderBadRequestError, False),
        ],
    )
    def test_status_to_error(self, status, cls, retryable):
        """Each status maps to its error class with its retryability."""
        error = error_for_status(status, "m", provider="p", retry_after=3.0)
        assert type(error) is cls
        assert isinstance(error, ProviderError)
        assert isinstance(error, AgenticError)
        assert error.retryable is retryable
        info = ErrorInfo.from_exception(error)
        assert info.retryable is retryable
        assert info.type.endswith(cls.__name__)

    def test_errors_pickle_with_attributes(self):
        """Provider errors survive pickling (they cross actor boundaries)."""
        error = ProviderRateLimitError("slow", provider="p", status_code=429, retry_after=2.0)
        copy = pickle.loads(pickle.dumps(error))
        assert (str(copy), copy.retry_after, copy.status_code, copy.retryable) == (
            "slow",
            2.0,
            429,
            True,
        )

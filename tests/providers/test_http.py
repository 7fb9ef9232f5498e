"""Retry-after parsing and the mapping of HTTP statuses to typed errors."""

import asyncio
import gc
import pickle
import threading
import warnings
from datetime import UTC, datetime

import httpx
import pytest

from agentic.errors import AgenticError
from agentic.primitives import ErrorInfo
from agentic.providers import (
    ChatMessage,
    OpenAICompatibleProvider,
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


def _completion(text: str) -> dict[str, object]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


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


def _provider(api) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(model="m", api_key="k", base_url=f"{api.url}/v1")


def _resource_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


class TestClientPerLoop:
    def test_each_asyncio_run_closes_its_client(self, api) -> None:
        """A provider used by two asyncio.run calls, never closed, leaves no open transport."""
        provider = _provider(api)
        clients: list[httpx.AsyncClient] = []

        async def ask(provider: OpenAICompatibleProvider, text: str) -> httpx.AsyncClient:
            client = await provider._get_client()
            reply = await provider.complete([ChatMessage.user(text)])
            assert reply.content == text
            return client

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for text in ("one", "two"):
                api.reply_json(_completion(text))
                clients.append(asyncio.run(ask(provider, text)))
                assert clients[-1].is_closed
            del provider, clients
            gc.collect()
        assert _resource_warnings(caught) == []
        assert len(api.requests) == 2

    def test_each_asyncio_run_closes_its_streaming_client(self, api) -> None:
        """Streaming in two asyncio.run calls leaves no open transport either."""
        provider = _provider(api)

        async def stream(provider: OpenAICompatibleProvider) -> list[object]:
            return [chunk async for chunk in provider.stream([ChatMessage.user("hi")])]

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                api.reply_sse(
                    [{"choices": [{"index": 0, "delta": {"content": "ok"}}]}, "data: [DONE]\n\n"]
                )
                assert asyncio.run(stream(provider))
            del provider
            gc.collect()
        assert _resource_warnings(caught) == []

    def test_loops_in_two_threads_keep_their_own_clients(self, api) -> None:
        """Two threads, each with its own loop, use one provider at once; all replies arrive."""
        provider = _provider(api)
        rounds = 5
        for _ in range(2 * rounds):
            api.reply_json(_completion("ok"))
        barrier = threading.Barrier(2)
        answers: list[str | None] = []

        async def many(provider: OpenAICompatibleProvider) -> None:
            for _ in range(rounds):
                reply = await provider.complete([ChatMessage.user("hi")])
                answers.append(reply.content)

        def worker(provider: OpenAICompatibleProvider) -> None:
            barrier.wait()
            asyncio.run(many(provider))

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            threads = [threading.Thread(target=worker, args=(provider,)) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            del provider
            gc.collect()
        assert answers == ["ok"] * (2 * rounds)
        assert _resource_warnings(caught) == []

    def test_aclose_closes_the_client_of_a_hand_made_loop(self, api) -> None:
        """On a loop closed by hand, aclose() before close() leaves no open transport."""
        provider = _provider(api)
        api.reply_json(_completion("ok"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loop = asyncio.new_event_loop()
            try:
                reply = loop.run_until_complete(provider.complete([ChatMessage.user("hi")]))
                loop.run_until_complete(provider.aclose())
            finally:
                loop.close()
            assert reply.content == "ok"
            del provider
            gc.collect()
        assert _resource_warnings(caught) == []

    def test_aclose_then_reuse_opens_a_new_client(self, api) -> None:
        """After aclose() the provider works again on the same loop, with a new client."""
        provider = _provider(api)

        async def twice() -> list[str | None]:
            answers = []
            for _ in range(2):
                api.reply_json(_completion("ok"))
                answers.append((await provider.complete([ChatMessage.user("hi")])).content)
                await provider.aclose()
            return answers

        assert asyncio.run(twice()) == ["ok", "ok"]

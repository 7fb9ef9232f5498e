"""Providers through a Branch: names, and a real OpenAI-compatible server with 429 then success."""

from __future__ import annotations

import pytest

from agentic.branches import BranchError, ChatFailedError, ProviderManager, spawn_branch
from agentic.execution import TargetNotFoundError
from agentic.providers import OfflineProvider, OpenAICompatibleProvider, Pricing


def completion(content: str, usage=(12, 5)):
    """A chat.completion object shaped as the API reference documents it."""
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


class TestProviderManager:
    def test_offline_is_the_default(self):
        """With no providers, the offline provider is the default."""
        manager = ProviderManager()
        assert manager.names() == ["offline"]
        assert manager.target_name() == "provider:offline"

    def test_names_come_from_the_mapping(self):
        """A provider registered under another name is addressed and resolved by that name."""
        manager = ProviderManager({"fast": OfflineProvider(name="x")})
        assert manager.target_name("fast") == "provider:fast"
        assert manager.resolve("provider:fast").provider.name == "x"
        with pytest.raises(TargetNotFoundError):
            manager.resolve("provider:x")

    def test_unknown_default_is_refused(self):
        """A default naming no provider is a BranchError."""
        with pytest.raises(BranchError, match="default provider 'nope'"):
            ProviderManager([OfflineProvider()], default="nope")

    def test_chat_with_a_named_provider(self, system):
        """A chat may pick a provider by its name in the Branch."""
        ref = spawn_branch(
            system,
            "b",
            providers={
                "one": OfflineProvider(["from one"]),
                "two": OfflineProvider(["from two"], when_exhausted="cycle"),
            },
        )
        assert ref.chat("hi").content == "from one"
        assert ref.chat("hi", provider="two").content == "from two"
        targets = [log["record"]["target"] for log in ref.export()["logs"]]
        assert targets == ["provider:one", "provider:two"]


class TestRateLimitPerProvider:
    def test_each_provider_has_its_own_bucket(self, system):
        """Calls to one provider wait for its rate limit; another provider's are not held."""
        providers = {"one": OfflineProvider(name="one"), "two": OfflineProvider(name="two")}
        ref = spawn_branch(system, "b", providers=providers, requests_per_second=2)
        for n in range(3):
            ref.chat(f"one {n}", provider="one")
        ref.chat("two", provider="two")
        logs = ref.export()["logs"]

        def waits(log):
            decisions = log["record"]["metadata"].get("decisions", [])
            return [d for d in decisions if d["by"] == "rate_limit"]

        assert [log["record"]["target"] for log in logs] == ["provider:one"] * 3 + ["provider:two"]
        assert [bool(waits(log)) for log in logs[:2]] == [False] * 2  # the burst
        assert "provider:one" in waits(logs[2])[0]["reason"]
        assert waits(logs[3]) == []


class TestOpenAIThroughABranch:
    def test_rate_limited_then_success_is_retried(self, system, api):
        """A 429 with retry-after is retried after that wait; the Event shows both attempts."""
        provider = OpenAICompatibleProvider(
            model="gpt-4o-mini",
            api_key="sk-test-branch",
            base_url=f"{api.url}/v1",
            name="openai",
            pricing=Pricing(input_per_1k=1.0, output_per_1k=2.0),
        )
        api.reply_json(
            {
                "error": {
                    "message": "Rate limit reached",
                    "type": "requests",
                    "code": "rate_limit_exceeded",
                }
            },
            status=429,
            headers={"retry-after": "0.2"},
        )
        api.reply_json(completion("Hello from the server"))
        try:
            ref = spawn_branch(system, "b", providers=[provider], requests_per_second=50)
            result = ref.chat("hi")
        finally:
            system.run_coroutine(provider.aclose()).result(5)
        assert result.content == "Hello from the server"
        assert result.usage == {"input_tokens": 12, "output_tokens": 5}
        assert result.cost == pytest.approx((12 * 1.0 + 5 * 2.0) / 1000)
        assert len(api.requests) == 2
        assert api.requests[0]["path"] == "/v1/chat/completions"
        assert api.requests[1]["body"]["messages"] == [{"role": "user", "content": "hi"}]
        log = ref.export()["logs"][0]
        record = log["record"]
        attempts = record["execution"]["attempts"]
        assert len(attempts) == 2
        assert attempts[0]["error"]["type"].endswith("ProviderRateLimitError")
        assert attempts[0]["error"]["retry_after"] == pytest.approx(0.2)
        assert attempts[1]["error"] is None
        retries = [d for d in record["metadata"]["decisions"] if d["by"] == "retry"]
        assert len(retries) == 1
        assert "retrying in 0.2" in retries[0]["reason"]
        assert record["metadata"]["usage"] == {
            "input_tokens": 12,
            "output_tokens": 5,
            "total_tokens": 17,
        }
        assert record["metadata"]["cost"] == pytest.approx(0.022)
        assert "sk-test-branch" not in str(ref.export())

    def test_server_error_exhausts_attempts(self, system, api):
        """Server errors are retried up to the attempt limit; then the chat fails clearly."""
        provider = OpenAICompatibleProvider(
            model="gpt-4o-mini", api_key="sk-test-branch", base_url=f"{api.url}/v1", name="openai"
        )
        for _ in range(2):
            api.reply_json({"error": {"message": "boom", "type": "server_error"}}, status=500)
        try:
            ref = spawn_branch(system, "b", providers=[provider], attempts=2)
            with pytest.raises(ChatFailedError, match="failed") as caught:
                ref.chat("hi")
        finally:
            system.run_coroutine(provider.aclose()).result(5)
        assert len(caught.value.event.execution.attempts) == 2
        assert len(api.requests) == 2

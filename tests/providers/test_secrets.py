"""A canary API key appears nowhere: logs, exceptions, reprs, tracebacks, serialized config."""

import asyncio
import logging
import pickle
import traceback

import pytest
import structlog

from agentic.errors import AgenticError
from agentic.primitives import ErrorInfo
from agentic.providers import (
    AnthropicProvider,
    ChatMessage,
    OpenAICompatibleProvider,
    ToolSpec,
    load_config,
    load_providers,
)

CANARY = "sk-canary-XYZ-0123456789"
TOOL = ToolSpec(name="get_weather", parameters={"type": "object", "properties": {}})


def openai_scenarios(api):
    ok = {
        "id": "c",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
    }
    stream_ok = [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "a",
                                "function": {"name": "get_weather", "arguments": "{"},
                            }
                        ]
                    },
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]},
                    "finish_reason": "tool_calls",
                }
            ]
        },
        {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
        "data: [DONE]\n\n",
    ]
    # Servers echo the key they were sent (OpenAI's 401 message quotes it).
    echo = {
        "error": {
            "message": f"Incorrect API key provided: {CANARY}.",
            "type": "invalid_request_error",
        }
    }
    return [
        ("complete", lambda: api.reply_json(ok)),
        ("stream", lambda: api.reply_sse(stream_ok)),
        ("complete", lambda: api.reply_json(echo, status=401)),
        ("complete", lambda: api.reply_json(echo, status=429, headers={"retry-after": "1"})),
        ("complete", lambda: api.reply_json(echo, status=500)),
        ("complete", lambda: api.reply_json(echo, status=400)),
        ("complete", lambda: api.reply_json(f"<html>{CANARY}".encode())),
        ("stream", lambda: api.reply_sse([f"data: {{bad {CANARY}\n\n"])),
        ("stream", lambda: api.reply_sse([{"error": {"message": CANARY, "type": "server_error"}}])),
        ("stream", lambda: api.reply_sse(stream_ok, drop_after=1)),
        ("stream", lambda: api.reply_json(echo, status=401)),
    ]


def anthropic_scenarios(api):
    echo = {
        "type": "error",
        "error": {"type": "authentication_error", "message": f"bad key {CANARY}"},
    }
    return [
        (
            "complete",
            lambda: api.reply_json(
                {
                    "id": "m",
                    "type": "message",
                    "model": "x",
                    "content": [{"type": "text", "text": "ok"}],
                    "stop_reason": "end_turn",
                    "usage": {"input_tokens": 1, "output_tokens": 1},
                }
            ),
        ),
        ("complete", lambda: api.reply_json(echo, status=401)),
        ("complete", lambda: api.reply_json(echo, status=529)),
        (
            "stream",
            lambda: api.reply_sse(
                [
                    (
                        "error",
                        {"type": "error", "error": {"type": "overloaded_error", "message": CANARY}},
                    )
                ]
            ),
        ),
        (
            "stream",
            lambda: api.reply_sse(
                [("message_start", {"type": "message_start", "message": {"id": "m", "usage": {}}})],
                drop_after=0,
            ),
        ),
        ("stream", lambda: api.reply_sse([f"event: ping\ndata: {CANARY}\n\n"])),
    ]


async def exercise(provider, scenarios, errors, reprs):
    reprs.append(repr(provider))
    reprs.append(str(provider))
    reprs.append(repr(vars(provider)))
    async with provider:
        for mode, script in scenarios:
            script()
            try:
                if mode == "complete":
                    reprs.append(repr(await provider.complete([ChatMessage.user("hi")], [TOOL])))
                else:
                    async for chunk in provider.stream([ChatMessage.user("hi")], [TOOL]):
                        reprs.append(repr(chunk))
            except AgenticError as exc:
                errors.append(exc)


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as captured:
        yield caplog, captured


def test_canary_key_never_leaks(api, closed_port_url, tmp_path, logs):
    """Every output of the provider suite is free of the key the requests carried."""
    errors: list[BaseException] = []
    reprs: list[str] = []
    config_path = tmp_path / "providers.toml"
    config_path.write_text(
        f'[providers.o]\nkind = "openai"\nmodel = "m"\nbase_url = "{api.url}/v1"\napi_key = "${{KEY}}"\n'
        f'[providers.a]\nkind = "anthropic"\nmodel = "m"\nbase_url = "{api.url}"\napi_key = "${{KEY}}"\n'
        f'[providers.down]\nkind = "openai"\nmodel = "m"\nbase_url = "{closed_port_url}"\napi_key = "${{KEY}}"\n'
        '[providers.broken]\nkind = "openai"\nmodel = "m"\napi_key = "${KEY}"\ntimeout = -1\n'
    )
    env = {"KEY": CANARY}
    good = config_path.read_text().split("[providers.broken]")[0]
    good_path = tmp_path / "good.toml"
    good_path.write_text(good)
    providers = load_providers(good_path, env=env)
    config = load_config(good_path, env=env)

    async def main():
        await exercise(providers["o"], openai_scenarios(api), errors, reprs)
        await exercise(providers["a"], anthropic_scenarios(api), errors, reprs)
        await exercise(
            providers["down"], [("complete", lambda: None), ("stream", lambda: None)], errors, reprs
        )
        direct = OpenAICompatibleProvider(model="m", api_key=CANARY, base_url=f"{api.url}/v1")
        await exercise(direct, openai_scenarios(api)[2:3], errors, reprs)
        direct_a = AnthropicProvider(model="m", api_key=CANARY, base_url=api.url)
        await exercise(direct_a, anthropic_scenarios(api)[1:2], errors, reprs)

    asyncio.run(main())
    try:
        load_config(config_path, env=env)
    except AgenticError as exc:
        errors.append(exc)

    # The key really was used: the server saw it.
    seen = [
        r.headers.get("authorization", "") + r.headers.get("x-api-key", "") for r in api.requests
    ]
    assert sum(CANARY in s for s in seen) == len(api.requests) >= 15
    assert len(errors) >= 17

    texts = list(reprs)
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        texts.append(ErrorInfo.from_exception(error).model_dump_json())
        texts.append(repr(pickle.loads(pickle.dumps(error)).__dict__))
        texts.append(repr(vars(error)))
    texts += [
        config.model_dump_json(),
        repr(config),
        str(config.model_dump()),
        repr(config.providers),
    ]
    texts += [repr(p) for p in providers.values()]
    caplog, captured = logs
    texts += [caplog.text, repr([r.__dict__ for r in caplog.records]), repr(captured)]
    assert "HTTP Request: POST" in caplog.text  # httpx logs were captured too
    leaks = [t for t in texts if CANARY in t]
    assert leaks == []
    assert "***" in " ".join(str(e) for e in errors)  # the echoed key was redacted


def test_credentials_in_the_base_url_never_leak(api, closed_port_url, logs):
    """A password in the base URL authenticates the requests but shows in no message, repr or log."""
    password = "hunter2-canary"
    ok = openai_scenarios(api)[0][1]
    errors: list[BaseException] = []
    reprs: list[str] = []

    async def main():
        for url in (api.url, closed_port_url):
            provider = OpenAICompatibleProvider(
                model="m", api_key=None, base_url=url.replace("://", f"://bob:{password}@") + "/v1"
            )
            reprs.extend([repr(provider), provider.base_url])
            async with provider:
                ok()
                try:
                    reprs.append(repr(await provider.complete([ChatMessage.user("hi")])))
                except AgenticError as exc:
                    errors.append(exc)

    asyncio.run(main())
    assert api.requests[0].headers["authorization"].startswith("Basic ")  # still authenticated
    assert len(errors) == 1  # the closed port
    caplog, captured = logs
    texts = [*reprs, *(str(e) for e in errors), caplog.text, repr(captured)]
    assert "HTTP Request: POST" in caplog.text
    assert [t for t in texts if password in t] == []


class TestKeysThatCannotBeSent:
    @pytest.mark.parametrize("cls", [OpenAICompatibleProvider, AnthropicProvider])
    def test_surrounding_whitespace_is_not_part_of_the_key(self, api, cls):
        """A key read with its line break (a key file, a CRLF .env) is sent without it."""
        if cls is OpenAICompatibleProvider:
            base, scenarios = f"{api.url}/v1", openai_scenarios(api)
        else:
            base, scenarios = api.url, anthropic_scenarios(api)
        scenarios[0][1]()  # a successful answer
        provider = cls(model="m", api_key=f" {CANARY}\r\n", base_url=base)
        asyncio.run(provider.complete([ChatMessage.user("hi")]))
        sent = api.requests[-1].headers
        assert sent.get("authorization", sent.get("x-api-key")) in (f"Bearer {CANARY}", CANARY)

    @pytest.mark.parametrize("cls", [OpenAICompatibleProvider, AnthropicProvider])
    @pytest.mark.parametrize("bad", [f"{CANARY}\nX-Evil: 1", f"{CANARY}\u2019", f"sk\t{CANARY}"])
    def test_a_key_no_header_can_carry_is_refused_without_quoting_it(self, cls, bad, logs):
        """A line break or non-ASCII character in the key is a ConfigurationError that hides it."""
        with pytest.raises(AgenticError) as info:
            cls(model="m", api_key=bad, base_url="http://127.0.0.1:9/v1")
        error = info.value
        texts = [
            str(error),
            repr(error),
            repr(error.args),
            "".join(traceback.format_exception(error)),
        ]
        assert [t for t in texts if CANARY in t] == []
        assert "api_key" in str(error)

    def test_config_names_file_and_key_for_such_a_key(self, tmp_path):
        """In a config file, such a key is refused naming the file and the field, not the key."""
        path = tmp_path / "keys.toml"
        path.write_text('[providers.o]\nkind = "openai"\nmodel = "m"\napi_key = "${KEY}"\n')
        with pytest.raises(AgenticError, match=r"keys\.toml.*providers\.o\.api_key") as info:
            load_config(path, env={"KEY": f"{CANARY}\u2019"})
        assert CANARY not in str(info.value)


class TestHeaderValuesThatCannotBeSent:
    def test_surrounding_whitespace_of_a_header_value_is_dropped(self, api):
        """An extra header read with its line break (a key in `api-key`, Azure's way) works."""
        openai_scenarios(api)[0][1]()
        provider = OpenAICompatibleProvider(
            model="m", base_url=f"{api.url}/v1", headers={"api-key": f"{CANARY}\n"}
        )
        asyncio.run(provider.complete([ChatMessage.user("hi")]))
        assert api.requests[-1].headers["api-key"] == CANARY

    @pytest.mark.parametrize("bad", [f"{CANARY}\r\nX-Evil: 1", f"{CANARY}\u2019"])
    def test_a_header_value_no_header_can_carry_is_refused_naming_only_the_header(self, bad):
        """A line break or non-ASCII character in a header value is refused, value unquoted."""
        with pytest.raises(AgenticError, match="'api-key'") as info:
            OpenAICompatibleProvider(
                model="m", base_url="http://127.0.0.1:9/v1", headers={"api-key": bad}
            )
        error = info.value
        texts = [str(error), repr(error.args), "".join(traceback.format_exception(error))]
        assert [t for t in texts if CANARY in t] == []

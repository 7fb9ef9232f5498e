"""OfflineProvider: scripted, echo and rule-based answers; streaming; determinism."""

import asyncio
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic.errors import ConfigurationError
from agentic.providers import (
    ChatMessage,
    CompletionParams,
    OfflineProvider,
    Pricing,
    Provider,
    ProviderBadRequestError,
    ToolCall,
    ToolRule,
    ToolSpec,
    collect,
    count_tokens,
)

TOOLS = [ToolSpec(name="weather"), ToolSpec(name="clock"), ToolSpec(name="search")]
RULES = [
    ToolRule(pattern=r"weather in (?P<city>\w+)", tool="weather", arguments={"city": "{city}"}),
    ToolRule(pattern=r"time in (\w+)", tool="clock", arguments={"zone": "{1}", "fmt": 24}),
]


def run(coro):
    return asyncio.run(coro)


def chunks_of(provider, messages, tools=None, params=None):
    async def go():
        return [c async for c in provider.stream(messages, tools, params)]

    return run(go())


def tools_for(calls):
    """Pretend to run tools: a deterministic result per call."""
    return [
        ChatMessage.tool(
            f"{c.name} says {json.dumps(c.arguments, sort_keys=True)}",
            tool_call_id=c.id,
            name=c.name,
        )
        for c in calls
    ]


class TestScript:
    def test_replies_follow_assistant_turns(self):
        """Reply k answers a conversation holding k assistant messages."""
        provider = OfflineProvider(["first", "second"])
        conversation = [ChatMessage.user("a")]
        first = run(provider.complete(conversation))
        conversation += [first.message, ChatMessage.user("b")]
        second = run(provider.complete(conversation))
        assert (first.content, second.content) == ("first", "second")

    def test_keeps_no_state_between_conversations(self):
        """Two separate conversations each start at the first reply."""
        provider = OfflineProvider(["first", "second"])
        for _ in range(2):
            assert run(provider.complete([ChatMessage.user("x")])).content == "first"

    def test_scripted_tool_calls(self):
        """A scripted reply may call tools; ids are deterministic."""
        provider = OfflineProvider(
            [
                {"tool_calls": [{"name": "search", "arguments": {"q": "x"}}]},
                "done",
            ]
        )
        response = run(provider.complete([ChatMessage.user("go")], TOOLS))
        assert response.tool_calls == (
            ToolCall(id="call_0_0", name="search", arguments={"q": "x"}),
        )
        assert response.finish_reason == "tool_calls"

    def test_exhausted_script_echoes_by_default(self):
        """After the script runs out the provider echoes the last user message."""
        provider = OfflineProvider(["only"], echo_prefix="echo: ")
        conversation = [ChatMessage.user("a"), ChatMessage.assistant("only"), ChatMessage.user("b")]
        assert run(provider.complete(conversation)).content == "echo: b"

    def test_exhausted_script_cycles(self):
        """when_exhausted='cycle' restarts the script."""
        provider = OfflineProvider(["x", "y"], when_exhausted="cycle")
        conversation = [
            ChatMessage.user("1"),
            ChatMessage.assistant("x"),
            ChatMessage.user("2"),
            ChatMessage.assistant("y"),
            ChatMessage.user("3"),
        ]
        assert run(provider.complete(conversation)).content == "x"

    def test_exhausted_script_errors(self):
        """when_exhausted='error' raises a ProviderBadRequestError naming the reply."""
        provider = OfflineProvider([], when_exhausted="error")
        with pytest.raises(ProviderBadRequestError, match="no reply #1"):
            run(provider.complete([ChatMessage.user("hi")]))

    def test_no_messages_is_bad_request(self):
        """An empty conversation is refused."""
        with pytest.raises(ProviderBadRequestError):
            run(OfflineProvider().complete([]))

    def test_echo_is_the_default(self):
        """A provider with no script echoes."""
        assert run(OfflineProvider().complete([ChatMessage.user("ping")])).content == "ping"

    @pytest.mark.parametrize("suffix", [".json", ".toml"])
    def test_from_file(self, tmp_path, suffix):
        """Scripts and rules load from JSON or TOML files."""
        path = tmp_path / f"script{suffix}"
        if suffix == ".json":
            path.write_text(
                json.dumps(
                    {
                        "replies": ["hello"],
                        "rules": [
                            {
                                "pattern": "weather in (\\w+)",
                                "tool": "weather",
                                "arguments": {"city": "{1}"},
                            }
                        ],
                    }
                )
            )
        else:
            path.write_text(
                'replies = ["hello"]\n[[rules]]\npattern = "weather in (\\\\w+)"\n'
                'tool = "weather"\narguments = { city = "{1}" }\n'
            )
        provider = OfflineProvider.from_file(path)
        assert run(provider.complete([ChatMessage.user("hi")])).content == "hello"
        call = run(provider.complete([ChatMessage.user("weather in Rome")], TOOLS)).tool_calls[0]
        assert call.arguments == {"city": "Rome"}

    def test_from_json_list(self, tmp_path):
        """A JSON file may hold just a list of replies."""
        path = tmp_path / "s.json"
        path.write_text('["a", "b"]')
        assert OfflineProvider.from_file(path).replies[1].content == "b"

    def test_bad_file_names_it(self, tmp_path):
        """An unreadable or invalid script raises ConfigurationError naming the file."""
        path = tmp_path / "bad.json"
        path.write_text("{nope")
        with pytest.raises(ConfigurationError, match=r"bad\.json"):
            OfflineProvider.from_file(path)
        with pytest.raises(ConfigurationError, match=r"missing\.toml"):
            OfflineProvider.from_file(tmp_path / "missing.toml")


class TestRules:
    def test_user_rule_calls_tool_with_template_arguments(self):
        """A matching user message produces a tool call with groups filled in."""
        provider = OfflineProvider(rules=RULES)
        response = run(provider.complete([ChatMessage.user("What's the weather in Paris?")], TOOLS))
        assert response.tool_calls == (
            ToolCall(id="call_0_0", name="weather", arguments={"city": "Paris"}),
        )
        assert response.content == ""

    def test_several_matches_make_parallel_calls(self):
        """Every matching rule adds a call, in rule order."""
        provider = OfflineProvider(rules=RULES)
        response = run(
            provider.complete([ChatMessage.user("time in Tokyo and weather in Oslo")], TOOLS)
        )
        assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
            ("call_0_0", "weather", {"city": "Oslo"}),
            ("call_0_1", "clock", {"zone": "Tokyo", "fmt": 24}),
        ]

    def test_rules_only_call_offered_tools(self):
        """A rule for a tool that was not offered does not fire."""
        provider = OfflineProvider(rules=RULES)
        response = run(
            provider.complete([ChatMessage.user("weather in Paris")], [ToolSpec(name="clock")])
        )
        assert response.tool_calls == ()
        assert response.content == "weather in Paris"

    def test_after_a_tool_result_it_summarizes(self):
        """Tool results at the end of the conversation are summarized into an answer."""
        provider = OfflineProvider(rules=RULES)
        conversation = [ChatMessage.user("weather in Paris")]
        first = run(provider.complete(conversation, TOOLS))
        conversation += [first.message, ChatMessage.tool("sunny, 21 C", tool_call_id="call_0_0")]
        answer = run(provider.complete(conversation, TOOLS))
        assert answer.content == "weather: sunny, 21 C"
        assert answer.tool_calls == ()
        assert answer.finish_reason == "stop"

    def test_failed_tool_is_summarized_as_failure(self):
        """An is_error tool result is reported as a failure."""
        provider = OfflineProvider()
        conversation = [
            ChatMessage.user("x"),
            ChatMessage.assistant(None, tool_calls=(ToolCall(id="c1", name="search"),)),
            ChatMessage.tool("timeout", tool_call_id="c1", is_error=True),
        ]
        assert run(provider.complete(conversation)).content == "search failed: timeout"

    def test_tool_rules_chain_steps(self):
        """on='tool' rules continue from a tool's result; a multi-step loop completes."""
        rules = [
            *RULES,
            ToolRule(
                pattern=r"(\w+) says .*city.: .(\w+)",
                tool="search",
                arguments={"q": "news {2}"},
                on="tool",
                after_tool="weather",
            ),
        ]
        provider = OfflineProvider(rules=rules)
        conversation = [ChatMessage.user("weather in Paris")]
        steps = []
        for _ in range(5):
            response = run(provider.complete(conversation, TOOLS))
            conversation.append(response.message)
            steps.append([c.name for c in response.tool_calls])
            if not response.tool_calls:
                break
            conversation += tools_for(response.tool_calls)
        assert steps == [["weather"], ["search"], []]
        assert response.content == 'search: search says {"q": "news Paris"}'

    def test_bad_template_field_is_rejected(self):
        """A template naming a group the pattern lacks is a configuration error."""
        with pytest.raises(ConfigurationError, match="not a group"):
            OfflineProvider(rules=[{"pattern": "x", "tool": "t", "arguments": {"a": "{city}"}}])

    def test_bad_pattern_is_rejected(self):
        """An invalid regular expression is a configuration error."""
        with pytest.raises(ConfigurationError, match="bad pattern"):
            OfflineProvider(rules=[{"pattern": "(", "tool": "t"}])


class TestStreaming:
    def test_stream_splits_words_and_ends_with_the_same_response(self):
        """Deltas concatenate to the content; the last chunk equals complete()'s response."""
        provider = OfflineProvider(["The quick brown fox"])
        messages = [ChatMessage.user("go")]
        chunks = chunks_of(provider, messages)
        assert [c.delta for c in chunks[:-1]] == ["The ", "quick ", "brown ", "fox"]
        assert chunks[-1].response == run(provider.complete(messages))
        assert run(collect(provider.stream(messages))) == chunks[-1].response

    def test_stream_sends_tool_call_fragments(self):
        """Tool calls stream as an id/name fragment then argument pieces that reassemble."""
        provider = OfflineProvider(rules=RULES)
        messages = [ChatMessage.user("weather in Ouagadougou please")]
        chunks = chunks_of(provider, messages, TOOLS)
        deltas = [d for c in chunks for d in c.tool_call_deltas]
        assert (deltas[0].id, deltas[0].name) == ("call_0_0", "weather")
        assert len(deltas) > 2
        assert json.loads("".join(d.arguments for d in deltas)) == {"city": "Ouagadougou"}

    def test_chunk_words(self):
        """chunk_words groups several words per chunk."""
        provider = OfflineProvider(["a b c d e"], chunk_words=2)
        assert [c.delta for c in chunks_of(provider, [ChatMessage.user("x")])[:-1]] == [
            "a b ",
            "c d ",
            "e",
        ]


class TestAccounting:
    def test_token_heuristic(self):
        """Each word costs ceil(len/4) tokens."""
        assert count_tokens("") == 0
        assert count_tokens("a bb ccc dddd") == 4
        assert count_tokens("abcdefghi") == 3

    def test_usage_and_cost(self):
        """Usage counts prompt (3 per message + content) and output; pricing gives cost."""
        provider = OfflineProvider(
            ["four word reply here"], pricing=Pricing(input_per_1k=1.0, output_per_1k=2.0)
        )
        response = run(provider.complete([ChatMessage.user("hello there")]))
        assert (response.usage.input_tokens, response.usage.output_tokens) == (3 + 4, 5)
        assert response.cost == pytest.approx((7 * 1.0 + 5 * 2.0) / 1000)

    def test_stop_and_max_tokens(self):
        """Stop sequences cut the reply; max_tokens truncates it with finish_reason length."""
        provider = OfflineProvider(["one two three END four"])
        messages = [ChatMessage.user("x")]
        assert (
            run(provider.complete(messages, params=CompletionParams(stop=(" END",)))).content
            == "one two three"
        )
        cut = run(provider.complete(messages, params=CompletionParams(max_tokens=2)))
        assert (cut.content, cut.finish_reason) == ("one two", "length")

    def test_satisfies_provider_protocol(self):
        """OfflineProvider is a Provider."""
        assert isinstance(OfflineProvider(), Provider)
        assert OfflineProvider().capabilities.tools


messages_strategy = st.lists(
    st.builds(ChatMessage.user, st.text(max_size=40))
    | st.builds(ChatMessage.assistant, st.text(max_size=40)),
    min_size=1,
    max_size=6,
)


class TestDeterminism:
    @given(messages_strategy)
    def test_same_conversation_same_answer(self, messages):
        """Two providers with the same script answer the same conversation identically."""
        a = OfflineProvider(["r1", "r2"], rules=RULES)
        b = OfflineProvider(["r1", "r2"], rules=RULES)
        assert run(a.complete(messages, TOOLS)) == run(b.complete(messages, TOOLS))
        assert chunks_of(a, messages, TOOLS) == chunks_of(b, messages, TOOLS)

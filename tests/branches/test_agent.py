"""The agent loop on a Branch: tools in the loop, step limit, failures, plans, structured output."""

from __future__ import annotations

import asyncio
import threading

import pytest
from pydantic import BaseModel

from agentic.branches import (
    AssistantMessage,
    ChatFailedError,
    PlanStep,
    ToolCallMessage,
    ToolResultMessage,
    UserMessage,
    spawn_branch,
)
from agentic.execution import Policy, Rule
from agentic.providers import (
    Capabilities,
    ChatResponse,
    OfflineProvider,
    Pricing,
    ScriptedReply,
    StructuredOutputError,
    ToolCall,
    ToolRule,
)


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def double(x: int) -> int:
    """Double a number."""
    return 2 * x


def explode(reason: str) -> str:
    """Always fail."""
    raise ValueError(f"cannot do {reason}")


def tick() -> str:
    """Tick."""
    return "tick"


class TestAgentLoop:
    def test_multi_step_tool_task_completes(self, system):
        """The model calls a tool, then another on its result, then answers; all in order."""
        provider = OfflineProvider(
            rules=[
                ToolRule(
                    pattern=r"add (\d+) and (\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"}
                ),
                ToolRule(
                    pattern=r"\d+",
                    tool="double",
                    arguments={"x": "{0}"},
                    on="tool",
                    after_tool="add",
                ),
            ]
        )
        ref = spawn_branch(system, "b", tools=[add, double], providers=[provider])
        result = ref.chat("please add 2 and 3, then double it")
        assert result.stopped == "answer"
        assert result.content == "double: 10"
        assert (result.steps, result.tool_calls) == (3, 2)
        kinds = [type(m) for m in ref.messages()]
        assert kinds == [
            UserMessage,
            ToolCallMessage,
            ToolResultMessage,
            ToolCallMessage,
            ToolResultMessage,
            AssistantMessage,
        ]
        assert result.message_ids == [str(m.id) for m in ref.messages()]
        assert ref.info().logs == 5  # 3 provider calls + 2 tool calls, every step explainable

    def test_every_step_is_explainable_from_the_logs(self, system):
        """Each tool result names the Event that ran it; its Log names the model's call id."""
        provider = OfflineProvider(
            rules=[
                ToolRule(
                    pattern=r"add (\d+) and (\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"}
                )
            ]
        )
        ref = spawn_branch(system, "b", tools=[add], providers=[provider])
        ref.chat("add 4 and 5")
        logs = {log["event_id"]: log for log in ref.export()["logs"]}
        call = next(m for m in ref.messages() if isinstance(m, ToolCallMessage))
        result = next(m for m in ref.messages() if isinstance(m, ToolResultMessage))
        log = logs[result.event_id]
        assert log["record"]["target"] == "add"
        assert log["record"]["arguments"] == {"a": "4", "b": "5"}
        assert log["record"]["metadata"]["tool_call_id"] == call.call_id == result.call_id
        assert log["record"]["caller"] == "b"
        providers = [entry for entry in logs.values() if entry["record"]["kind"] == "provider"]
        sent = providers[-1]["record"]["arguments"]["messages"]
        assert [m["role"] for m in sent] == ["user", "assistant", "tool"]

    def test_step_limit_stops_a_model_that_never_finishes(self, system):
        """A model that always asks for a tool is stopped at max_steps, without a reply."""
        provider = OfflineProvider(
            rules=[
                ToolRule(pattern="go", tool="tick"),
                ToolRule(pattern=".*", tool="tick", on="tool"),
            ]
        )
        ref = spawn_branch(system, "b", tools=[tick], providers=[provider])
        result = ref.chat("go", max_steps=3)
        assert result.stopped == "max_steps"
        assert result.reply is None
        assert (result.steps, result.tool_calls) == (3, 3)
        assert ref.info().status == "ready"

    def test_tool_failure_goes_back_to_the_model(self, system):
        """A failing tool becomes an error tool message the model answers; the chat does not crash."""
        provider = OfflineProvider(
            rules=[ToolRule(pattern="try (\\w+)", tool="explode", arguments={"reason": "{1}"})]
        )
        ref = spawn_branch(system, "b", tools=[explode], providers=[provider])
        result = ref.chat("try magic")
        assert result.stopped == "answer"
        failure = next(m for m in ref.messages() if isinstance(m, ToolResultMessage))
        assert failure.is_error
        assert "cannot do magic" in failure.content
        assert result.content.startswith("explode failed: error: tool 'explode' failed")

    def test_denied_tool_is_reported_to_the_model(self, system):
        """A tool the policy denies comes back to the model as an error tool message."""
        policy = Policy(rules=[Rule(effect="deny", targets=["explode"], name="no-explosions")])
        provider = OfflineProvider(
            rules=[ToolRule(pattern="try", tool="explode", arguments={"reason": "x"})]
        )
        ref = spawn_branch(system, "b", tools=[explode], providers=[provider], policy=policy)
        result = ref.chat("try")
        failure = next(m for m in ref.messages() if isinstance(m, ToolResultMessage))
        assert failure.is_error
        assert "denied" in failure.content
        assert result.stopped == "answer"

    def test_parallel_tool_calls_run_concurrently(self, system):
        """Two tool calls of one answer both reach a barrier that only opens when both wait there."""
        barrier = asyncio.Barrier(2)
        threads = threading.Barrier(2, timeout=10)

        async def left() -> str:
            """Meet right at the barrier."""
            async with asyncio.timeout(10):
                await barrier.wait()
            return "left"

        async def right() -> str:
            """Meet left at the barrier."""
            async with asyncio.timeout(10):
                await barrier.wait()
            return "right"

        def north() -> str:
            """Meet south at the barrier (sync, in a worker thread)."""
            threads.wait()
            return "north"

        def south() -> str:
            """Meet north at the barrier (sync, in a worker thread)."""
            threads.wait()
            return "south"

        provider = OfflineProvider(
            rules=[
                ToolRule(pattern="both", tool=name) for name in ("left", "right", "north", "south")
            ]
        )
        ref = spawn_branch(system, "b", tools=[left, right, north, south], providers=[provider])
        result = ref.chat("both")
        assert result.tool_calls == 4
        results = [m for m in ref.messages() if isinstance(m, ToolResultMessage)]
        # Results enter in the model's order of the calls, none failed.
        assert [(m.tool, m.content, m.is_error) for m in results] == [
            ("left", "left", False),
            ("right", "right", False),
            ("north", "north", False),
            ("south", "south", False),
        ]

    def test_concurrent_chats_run_as_whole_turns(self, system):
        """Chats sent at once from many threads each keep their messages together, in some order."""
        provider = OfflineProvider(
            rules=[ToolRule(pattern=r"add (\d+)", tool="add", arguments={"a": "{1}", "b": "1"})]
        )
        ref = spawn_branch(system, "b", tools=[add], providers=[provider])
        results = {}

        def chat(n: int) -> None:
            results[n] = ref.chat(f"add {n}")

        workers = [threading.Thread(target=chat, args=(n,)) for n in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(30)
        assert sorted(results) == list(range(8))
        ids = [str(m.id) for m in ref.messages()]
        turns = sorted((ids.index(r.message_ids[0]), n) for n, r in results.items())
        cursor = 0
        for start, n in turns:
            assert start == cursor  # each turn's messages are contiguous
            assert ids[start : start + 4] == results[n].message_ids
            assert results[n].content == f"add: {n + 1}"
            cursor += 4
        assert cursor == len(ids)

    def test_usage_and_cost_add_up(self, system):
        """A chat's usage is the sum over its provider calls; cost follows the pricing."""
        pricing = Pricing(input_per_1k=1.0, output_per_1k=2.0)
        provider = OfflineProvider(["hello there"], pricing=pricing)
        ref = spawn_branch(system, "b", providers=[provider])
        result = ref.chat("hi")
        assert result.usage["input_tokens"] > 0
        assert result.usage["output_tokens"] == 4
        expected = pricing.cost(provider.respond(_user("hi")).usage)
        assert result.cost == pytest.approx(expected)
        log = ref.export()["logs"][0]["record"]
        assert log["metadata"]["usage"]["output_tokens"] == 4
        assert log["metadata"]["cost"] == pytest.approx(expected)

    def test_failing_provider_fails_the_chat_with_its_event(self, system):
        """A provider that fails for good ends the chat with ChatFailedError carrying the Event."""
        provider = OfflineProvider([], when_exhausted="error")
        ref = spawn_branch(system, "b", providers=[provider])
        ref.add_message(AssistantMessage(content="used up the script"))
        with pytest.raises(ChatFailedError, match="provider call") as caught:
            ref.chat("hi")
        assert caught.value.event.status == "failed"
        assert ref.info().status == "ready"


def _user(text):
    from agentic.providers import ChatMessage

    return [ChatMessage.user(text)]


class TestPlan:
    def test_given_steps_run_in_order(self, system):
        """Each given step runs as a chat turn, in order, and its result is recorded."""
        provider = OfflineProvider(
            rules=[
                ToolRule(
                    pattern=r"add (\d+) and (\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"}
                )
            ]
        )
        ref = spawn_branch(system, "b", tools=[add], providers=[provider])
        result = ref.run_plan("sums", steps=["add 1 and 2", "add 3 and 4", "say done"])
        assert result.source == "given"
        assert result.completed
        assert [s.text for s in result.steps] == ["add 1 and 2", "add 3 and 4", "say done"]
        assert [s.result for s in result.steps] == ["add: 3", "add: 7", "Step 3 of 3: say done"]
        assert [s.index for s in result.steps] == [0, 1, 2]
        state = ref.export()
        assert [PlanStep.from_dict(s).text for s in state["steps"]] == [
            s.text for s in result.steps
        ]
        ids = [str(m.id) for m in ref.messages()]
        assert [i for s in result.steps for i in s.message_ids] == ids

    def test_model_plans_the_steps(self, system):
        """Without steps the model's JSON plan is used."""
        provider = OfflineProvider(
            ['```json\n{"steps": ["first", "second"]}\n```', "did first", "did second"]
        )
        ref = spawn_branch(system, "b", providers=[provider])
        result = ref.run_plan("two things")
        assert result.source == "model"
        assert [s.text for s in result.steps] == ["first", "second"]
        assert [s.result for s in result.steps] == ["did first", "did second"]

    def test_offline_echo_falls_back_to_the_goal(self, system):
        """When the answer is no plan (the offline echo), the goal itself is the only step."""
        ref = spawn_branch(system, "b")
        result = ref.run_plan("water the plants")
        assert result.source == "goal"
        assert [s.text for s in result.steps] == ["water the plants"]
        assert result.completed

    def test_failed_step_ends_the_plan(self, system):
        """A step whose provider call fails is recorded failed and later steps do not run."""
        provider = OfflineProvider(["ok"], when_exhausted="error")
        ref = spawn_branch(system, "b", providers=[provider])
        result = ref.run_plan("g", steps=["one", "two", "three"])
        assert [s.status for s in result.steps] == ["done", "failed"]
        assert not result.completed


class Point(BaseModel):
    x: int
    y: int


class TestStructured:
    def test_chat_model_parses_the_answer(self, system):
        """A JSON answer becomes the pydantic model; the turn is in the conversation."""
        provider = OfflineProvider(['Here: ```json\n{"x": 1, "y": 2}\n```'])
        ref = spawn_branch(system, "b", providers=[provider])
        assert ref.chat_model("where?", Point) == Point(x=1, y=2)
        assert [type(m) for m in ref.messages()] == [UserMessage, AssistantMessage]
        request = ref.export()["logs"][0]["record"]["arguments"]["messages"][0]
        assert request["role"] == "system"
        assert "JSON Schema" in request["content"]

    def test_one_repair_round_trip(self, system):
        """A bad first answer gets one repair request; each model call is its own Event."""
        provider = OfflineProvider(['{"x": 1}', '{"x": 1, "y": 5}'])
        ref = spawn_branch(system, "b", providers=[provider])
        assert ref.chat_model("where?", Point) == Point(x=1, y=5)
        messages = ref.messages()
        assert "missing required property y" in messages[2].content
        assert ref.info().logs == 2

    def test_no_repair_fails_clearly(self, system):
        """Without repair a bad answer raises StructuredOutputError naming the model."""
        provider = OfflineProvider(["no json here"])
        ref = spawn_branch(system, "b", providers=[provider])
        with pytest.raises(StructuredOutputError, match="Point"):
            ref.chat_model("where?", Point, repair=False)
        assert ref.info().logs == 1

    def test_scripted_reply_models(self, system):
        """Scripted replies with tool calls and text work with structured output off."""
        provider = OfflineProvider([ScriptedReply(content="plain")])
        ref = spawn_branch(system, "b", providers=[provider])
        assert ref.chat("x").content == "plain"


class RepeatingIds:
    """A provider that (wrongly) gives two tool calls of one answer the same id."""

    name = "repeating"
    capabilities = Capabilities()
    pricing = None

    async def complete(self, messages, tools=None, params=None):
        if messages[-1].role == "tool":
            return ChatResponse(content="two results", provider=self.name)
        calls = (
            ToolCall(id="same", name="add", arguments={"a": 1, "b": 1}),
            ToolCall(id="same", name="add", arguments={"a": 2, "b": 2}),
        )
        return ChatResponse(tool_calls=calls, finish_reason="tool_calls", provider=self.name)

    def stream(self, messages, tools=None, params=None):
        raise NotImplementedError

    async def aclose(self):
        return None


class TestOddProviders:
    def test_repeated_call_ids_do_not_stall_the_turn(self, system):
        """Two calls with one id still give two results, in order, and the turn ends."""
        ref = spawn_branch(system, "b", tools=[add], providers=[RepeatingIds()])
        result = ref.chat("go")
        assert result.content == "two results"
        results = [m.content for m in ref.messages() if isinstance(m, ToolResultMessage)]
        assert results == ["2", "4"]

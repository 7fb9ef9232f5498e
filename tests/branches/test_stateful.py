"""A Hypothesis state machine drives a Branch with random operations against a plain model."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agentic.actors import ActorSystem
from agentic.branches import (
    BranchRef,
    Cancel,
    Chat,
    RequestCancelledError,
    reply_topic,
    spawn_branch,
)
from agentic.primitives import EventStatus
from agentic.providers import OfflineProvider, ToolRule

pytestmark = pytest.mark.stateful


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


HANGING = threading.Event()


async def hang(topic: str) -> str:
    """Work on a topic until cancelled."""
    HANGING.set()
    await asyncio.sleep(3600)
    return topic


PROVIDER = OfflineProvider(
    rules=[
        ToolRule(pattern=r"^add (\d+) and (\d+)$", tool="add", arguments={"a": "{1}", "b": "{2}"}),
        ToolRule(pattern=r"^hang on (\w+)$", tool="hang", arguments={"topic": "{1}"}),
    ]
)
words = st.text(alphabet="abcdefgh ", min_size=1, max_size=12).map(str.strip).filter(bool)
numbers = st.integers(min_value=0, max_value=999)


class BranchMachine(RuleBasedStateMachine):
    """The model: the conversation as (kind, content) pairs, the number of Logs, the forks."""

    def __init__(self) -> None:
        super().__init__()
        self.before = set(threading.enumerate())
        self.system = ActorSystem("stateful", ask_timeout=10.0)
        self.branch = spawn_branch(self.system, "main", tools=[add, hang], providers=[PROVIDER])
        self.model: list[tuple[str, str]] = []
        self.logs = 0
        self.forks: list[tuple[BranchRef, list[tuple[str, str]]]] = []

    def teardown(self) -> None:
        self.system.shutdown(timeout=10.0)
        for thread in threading.enumerate():
            if thread not in self.before:  # a tool's worker thread may be on its last line
                thread.join(2.0)
        left = [t for t in threading.enumerate() if t not in self.before and t.is_alive()]
        assert left == []

    @rule(text=words)
    def add_message(self, text: str) -> None:
        self.branch.add_message(text)
        self.model.append(("UserMessage", text))

    @rule(a=numbers, b=numbers)
    def invoke_tool(self, a: int, b: int) -> None:
        event = self.branch.invoke("add", a=a, b=b)
        assert event.status is EventStatus.COMPLETED
        assert event.execution.response == a + b
        self.logs += 1

    @rule(a=numbers, b=numbers)
    def chat_with_tool(self, a: int, b: int) -> None:
        result = self.branch.chat(f"add {a} and {b}")
        assert result.content == f"add: {a + b}"
        self.model += [
            ("UserMessage", f"add {a} and {b}"),
            ("ToolCallMessage", ""),
            ("ToolResultMessage", str(a + b)),
            ("AssistantMessage", f"add: {a + b}"),
        ]
        self.logs += 3

    @rule(text=words)
    def chat_echo(self, text: str) -> None:
        result = self.branch.chat(f"say {text}")
        assert result.content == f"say {text}"
        self.model += [("UserMessage", f"say {text}"), ("AssistantMessage", f"say {text}")]
        self.logs += 1

    @rule(text=words)
    def stream_echo(self, text: str) -> None:
        stream = self.branch.stream_chat(f"say {text}")
        pieces = [delta.text for delta in stream]
        assert "".join(pieces) == stream.result.content == f"say {text}"
        self.model += [("UserMessage", f"say {text}"), ("AssistantMessage", f"say {text}")]
        self.logs += 1

    @rule(topic=st.sampled_from(["owls", "bees"]), reason=words)
    def cancelled_chat(self, topic: str, reason: str) -> None:
        HANGING.clear()
        ticket = uuid.uuid4()
        with self.system.bus.subscribe(reply_topic("main", ticket), maxsize=1) as sub:
            self.branch.ref.ask(Chat(text=f"hang on {topic}", ticket=ticket))
            assert HANGING.wait(10.0)
            assert self.branch.ref.ask(Cancel(ticket=ticket, reason=reason)) is True
            outcome = sub.get(timeout=10.0)
        assert outcome is not None
        assert isinstance(outcome.payload.error, RequestCancelledError)
        self.model += [
            ("UserMessage", f"hang on {topic}"),
            ("ToolCallMessage", ""),
            ("ToolResultMessage", f"error: tool 'hang' cancelled: {reason}"),
        ]
        self.logs += 2  # the model call, and the tool call ended cancelled
        deadline = time.monotonic() + 10.0
        while self.branch.info().in_flight:  # the cancelled tool call's Event ends
            assert time.monotonic() < deadline
            time.sleep(0.005)

    @rule(steps=st.lists(words, min_size=1, max_size=3))
    def run_plan(self, steps: list[str]) -> None:
        result = self.branch.run_plan("goal", steps=steps)
        assert result.completed
        assert [s.text for s in result.steps] == steps
        for index, text in enumerate(steps):
            line = f"Step {index + 1} of {len(steps)}: {text}"
            self.model += [("UserMessage", line), ("AssistantMessage", line)]
        self.logs += len(steps)

    @precondition(lambda self: len(self.forks) < 3)
    @rule(data=st.data())
    def fork(self, data: st.DataObject) -> None:
        upto = data.draw(st.integers(min_value=0, max_value=len(self.model)))
        child = self.branch.fork(upto=upto)
        self.forks.append((child, list(self.model[:upto])))

    @rule()
    def export_import(self) -> None:
        state = self.branch.export()
        self.branch.import_state(state)
        assert self.branch.export() == state

    @invariant()
    def conversation_matches(self) -> None:
        seen = [(type(m).__name__, m.content) for m in self.branch.messages()]
        assert seen == self.model
        info = self.branch.info()
        assert (info.logs, info.status, info.in_flight, info.queued) == (self.logs, "ready", 0, 0)

    @invariant()
    def forks_keep_their_copy(self) -> None:
        for child, expected in self.forks:
            assert [(type(m).__name__, m.content) for m in child.messages()] == expected


TestBranchMachine = BranchMachine.TestCase
TestBranchMachine.settings = settings(max_examples=50, stateful_step_count=15, deadline=None)

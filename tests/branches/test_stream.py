"""Streaming chats: the answer's text as it arrives, in order, then the ChatResult."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from agentic.branches import (
    BranchStatus,
    ChatDelta,
    ChatFailedError,
    ToolCallMessage,
    ToolResultMessage,
    spawn_branch,
)
from agentic.providers import (
    Capabilities,
    ChatResponse,
    OfflineProvider,
    OpenAICompatibleProvider,
    ProviderBadRequestError,
    ProviderServerError,
    StreamChunk,
    ToolRule,
)

from .conftest import Reply, wait_until


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def idle(ref) -> bool:
    info = ref.info()
    return info.status is BranchStatus.READY and info.in_flight == 0


class Scripted:
    """A streaming provider that plays one script per call: text pieces, then an end.

    An end is a final text (the response) or an exception raised after the pieces;
    `hold` makes the stream wait (until cancelled) after its pieces.
    """

    name = "scripted"
    pricing = None

    def __init__(self, *calls, streaming: bool = True) -> None:
        self.calls = list(calls)
        self.capabilities = Capabilities(streaming=streaming)
        self.cancelled = threading.Event()

    async def complete(self, messages, tools=None, params=None):
        _pieces, end = self.calls.pop(0)
        if isinstance(end, Exception):
            raise end
        return ChatResponse(content=end, provider=self.name)

    async def stream(self, messages, tools=None, params=None):
        pieces, end = self.calls.pop(0)
        for piece in pieces:
            yield StreamChunk(delta=piece)
        if end == "hold":
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        if isinstance(end, Exception):
            raise end
        yield StreamChunk(response=ChatResponse(content=end, provider=self.name))

    async def aclose(self):
        return None


class TestSyncStreams:
    def test_the_deltas_make_the_answer(self, system):
        """The offline echo arrives word by word; the pieces joined are the final answer."""
        ref = spawn_branch(system, "b")
        stream = ref.stream_chat("the quick brown fox")
        deltas = list(stream)
        assert len(deltas) == 4
        assert {d.step for d in deltas} == {1}
        assert "".join(d.text for d in deltas) == stream.result.content == "the quick brown fox"
        assert stream.done
        assert stream.dropped == 0

    def test_each_model_call_of_a_tool_turn_is_a_step(self, system):
        """Step 1 shows the tool call and its result; the answer after it streams as step 2."""
        provider = OfflineProvider(
            rules=[
                ToolRule(
                    pattern=r"add (\d+) and (\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"}
                )
            ]
        )
        ref = spawn_branch(system, "b", tools=[add], providers=[provider])
        stream = ref.stream_chat("add 2 and 3")
        deltas = list(stream)
        assert stream.result.steps == 2
        notices = [d for d in deltas if d.message is not None]
        assert [(d.step, type(d.message), d.text) for d in notices] == [
            (1, ToolCallMessage, ""),
            (1, ToolResultMessage, ""),
        ]
        call, result = (d.message for d in notices)
        assert (call.tool, call.arguments, result.content) == ("add", {"a": "2", "b": "3"}, "5")
        assert [m.id for m in ref.messages()[1:3]] == [call.id, result.id]  # the very messages
        assert {d.step for d in deltas if d.message is None} == {2}
        assert "".join(d.text for d in deltas) == stream.result.content
        assert [m.content for m in ref.messages() if isinstance(m, ToolResultMessage)] == ["5"]

    def test_a_retried_step_says_restart(self, system):
        """A stream that fails retryably mid-way is tried again; the reader is told to restart."""
        provider = Scripted(
            (["par", "tial"], ProviderServerError("dropped", provider="scripted")),
            (["full", " answer"], "full answer"),
        )
        ref = spawn_branch(system, "b", providers=[provider])
        stream = ref.stream_chat("go")
        assert [(d.text, d.restart) for d in stream] == [
            ("par", False),
            ("tial", False),
            ("", True),
            ("full", False),
            (" answer", False),
        ]
        assert stream.result.content == "full answer"

    def test_a_provider_without_streaming_gives_one_piece(self, system):
        """A provider that cannot stream still answers; its text comes as one delta."""
        provider = Scripted(([], "all at once"), streaming=False)
        ref = spawn_branch(system, "b", providers=[provider])
        stream = ref.stream_chat("go")
        assert [d.text for d in stream] == ["all at once"]
        assert stream.result.content == "all at once"

    def test_a_failed_turn_raises_from_the_iteration(self, system):
        """A provider error that is not retryable ends the iteration with ChatFailedError."""
        provider = Scripted((["so"], ProviderBadRequestError("bad", provider="scripted")))
        ref = spawn_branch(system, "b", providers=[provider])
        stream = ref.stream_chat("go")
        deltas = iter(stream)
        assert next(deltas).text == "so"
        with pytest.raises(ChatFailedError, match="bad"):
            next(deltas)
        assert stream.result is None

    def test_leaving_the_loop_cancels_the_turn(self, system):
        """A reader that breaks off cancels the turn: the provider call ends, the Branch goes on."""
        provider = Scripted((["once", " upon"], "hold"), ([], "next"))
        ref = spawn_branch(system, "b", providers=[provider])
        for delta in ref.stream_chat("story"):
            assert delta.text == "once"
            break
        assert provider.cancelled.wait(10.0)
        wait_until(lambda: idle(ref))
        assert ref.chat("again").content == "next"

    def test_plain_chats_publish_no_text(self, system):
        """Only streaming chats publish their text."""
        ref = spawn_branch(system, "b")
        with system.bus.subscribe("branch.b.stream.*", maxsize=100) as sub:
            ref.chat("quiet please")
            assert sub.get(timeout=0.2) is None


class TestAsyncStreams:
    def test_async_for_reads_the_answer(self, system):
        """`async for` over `astream_chat` gives the same pieces as the sync stream."""
        ref = spawn_branch(system, "b")

        async def main():
            stream = await ref.astream_chat("one two three")
            pieces = [delta async for delta in stream]
            return pieces, stream.result

        pieces, result = asyncio.run(main())
        assert all(isinstance(p, ChatDelta) for p in pieces)
        assert "".join(p.text for p in pieces) == result.content == "one two three"

    def test_leaving_the_async_with_block_cancels_the_turn(self, system):
        """`async with` closes the stream on exit; an unfinished turn is cancelled."""
        provider = Scripted((["once"], "hold"))
        ref = spawn_branch(system, "b", providers=[provider])

        async def main():
            async with await ref.astream_chat("story") as stream:
                async for delta in stream:
                    return delta.text
            return None

        assert asyncio.run(main()) == "once"
        assert provider.cancelled.wait(10.0)
        wait_until(lambda: idle(ref))


class TestOverHTTP:
    def test_openai_server_sent_events_stream_through_the_branch(self, system, api):
        """Text deltas from a real SSE response reach the reader in order."""
        chunks = [
            {"role": "assistant", "content": ""},
            {"content": "Hel"},
            {"content": "lo, "},
            {"content": "world"},
        ]
        lines = []
        for delta in chunks:
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            lines.append({"id": "c1", "object": "chat.completion.chunk", "choices": [choice]})
        final = {"index": 0, "delta": {}, "finish_reason": "stop"}
        lines.append({"id": "c1", "object": "chat.completion.chunk", "choices": [final]})
        usage = {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
        lines.append({"id": "c1", "object": "chat.completion.chunk", "choices": [], "usage": usage})
        body = "".join(f"data: {json.dumps(line)}\n\n" for line in lines) + "data: [DONE]\n\n"
        api.replies.append(Reply(200, {"content-type": "text/event-stream"}, body.encode()))
        provider = OpenAICompatibleProvider(
            model="gpt-4o-mini", api_key="sk-test", base_url=f"{api.url}/v1", name="openai"
        )
        try:
            ref = spawn_branch(system, "b", providers=[provider])
            stream = ref.stream_chat("hi")
            texts = [d.text for d in stream]
        finally:
            system.run_coroutine(provider.aclose()).result(5)
        assert texts == ["Hel", "lo, ", "world"]
        assert stream.result.content == "Hello, world"
        assert stream.result.usage == {"input_tokens": 3, "output_tokens": 3}
        assert api.requests[0]["body"]["stream"] is True


class TestManyReaders:
    def test_streams_from_many_threads_each_get_their_own_text(self, system):
        """8 threads x 10 streaming chats over 4 Branches: every reader gets exactly its answer."""
        branches = [spawn_branch(system, f"b{i}") for i in range(4)]
        failures: list[str] = []
        lock = threading.Lock()

        def reader(worker: int) -> None:
            branch = branches[worker % 4]
            for turn in range(10):
                text = f"worker {worker} turn {turn} says hello"
                stream = branch.stream_chat(text)
                joined = "".join(delta.text for delta in stream)
                if joined != text or stream.result is None or stream.result.content != text:
                    with lock:
                        failures.append(f"{worker}.{turn}: {joined!r}")

        threads = [threading.Thread(target=reader, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)
        assert failures == []
        for index, branch in enumerate(branches):
            contents = [m.content for m in branch.messages()]
            assert len(contents) == 2 * 2 * 10  # two workers, ten turns, two messages each
            for worker in (index, index + 4):
                mine = [c for c in contents if c.startswith(f"worker {worker} ")]
                assert mine == [
                    f"worker {worker} turn {t} says hello" for t in range(10) for _ in (0, 1)
                ]

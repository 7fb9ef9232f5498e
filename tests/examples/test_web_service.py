"""examples/web_service.py served by uvicorn on 127.0.0.1, driven over real HTTP with httpx."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web_service.py"


def load_example():
    spec = importlib.util.spec_from_file_location("web_service_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server() -> Iterator[str]:
    """The example app on a free port of 127.0.0.1, in a thread; stopped (no thread left) after."""
    before = set(threading.enumerate())
    app = load_example().build_app()
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"
    )
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not served.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start within 10 s"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(15)
    assert not thread.is_alive()
    for extra in threading.enumerate():
        if extra not in before:
            extra.join(2.0)
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left == [], f"threads left after the server stopped: {left}"


def sse(server: str, text: str) -> list[tuple[str, dict]]:
    """POST /chat/stream and return its server-sent events as (event, data) pairs."""
    events: list[tuple[str, dict]] = []
    with (
        httpx.Client(base_url=server, timeout=30) as client,
        client.stream("POST", "/chat/stream", json={"text": text}) as reply,
    ):
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        kind = "message"
        for line in reply.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((kind, json.loads(line.removeprefix("data: "))))
                kind = "message"
    return events


class TestWebService:
    def test_concurrent_chats_over_http(self, server):
        """Twenty concurrent POST /chat requests all get their own answers; turns stay whole."""

        async def main():
            async with httpx.AsyncClient(base_url=server, timeout=30) as client:
                chats = [client.post("/chat", json={"text": f"add {n} and {n}"}) for n in range(20)]
                replies = await asyncio.gather(*chats)
                messages = await client.get("/messages")
                info = await client.get("/info")
                return replies, messages, info

        replies, messages, info = asyncio.run(main())
        assert [r.status_code for r in replies] == [200] * 20
        bodies = [r.json() for r in replies]
        assert [b["reply"] for b in bodies] == [f"add: {2 * n}" for n in range(20)]
        assert all(b["tool_calls"] == 1 and b["stopped"] == "answer" for b in bodies)
        conversation = [m["id"] for m in messages.json()]
        assert len(conversation) == 80
        for body in bodies:  # each turn's four messages are adjacent in the conversation
            start = conversation.index(body["message_ids"][0])
            assert conversation[start : start + 4] == body["message_ids"]
        assert info.json()["status"] == "ready"
        assert info.json()["logs"] == 60

    def test_add_and_read_messages(self, server):
        """POST /messages appends, GET /messages?last=n reads the tail, bad input is a 400."""
        with httpx.Client(base_url=server, timeout=30) as client:
            for text in ("one", "two", "three"):
                assert client.post("/messages", json={"text": text}).status_code == 201
            tail = client.get("/messages", params={"last": 2}).json()
            assert [m["content"] for m in tail] == ["two", "three"]
            assert client.post("/chat", json={}).status_code == 400
            echo = client.post("/chat", json={"text": "count the words of a b c"}).json()
            assert echo["reply"] == "word_count: 3"
            plain = client.post("/chat", json={"text": "hello"}).json()
            assert plain["reply"] == "You said: hello"

    def test_streamed_chat_over_http(self, server):
        """POST /chat/stream sends the answer as server-sent events, then `done` with the reply."""
        events = sse(server, "streams arrive in pieces")
        pieces = [data for kind, data in events if kind == "message"]
        assert [kind for kind, _ in events] == ["message"] * len(pieces) + ["done"]
        assert len(pieces) == 6  # "You said: " and the four words
        assert all(piece["step"] == 1 and not piece["restart"] for piece in pieces)
        done = events[-1][1]
        assert "".join(piece["text"] for piece in pieces) == done["reply"]
        assert done["reply"] == "You said: streams arrive in pieces"
        with httpx.Client(base_url=server, timeout=30) as client:
            assert client.post("/chat/stream", json={"text": ""}).status_code == 400
            last = client.get("/messages", params={"last": 1}).json()
        assert last[0]["content"] == done["reply"]

    def test_tool_use_streams_as_tool_events(self, server):
        """A tool call and its result arrive as `tool` events before the answer's text."""
        events = sse(server, "add 2 and 3")
        kinds = [kind for kind, _ in events]
        assert kinds[:2] == ["tool", "tool"]
        assert kinds[-1] == "done"
        call, result = events[0][1], events[1][1]
        assert (call["type"], call["tool"], call["arguments"]) == (
            "ToolCallMessage",
            "add",
            {"a": "2", "b": "3"},
        )
        assert (result["type"], result["tool"], result["content"]) == (
            "ToolResultMessage",
            "add",
            "5",
        )
        text = "".join(data["text"] for kind, data in events if kind == "message")
        assert text == events[-1][1]["reply"] == "add: 5"

    def test_a_client_that_hangs_up_cancels_its_turn(self, server):
        """Closing a /chat/stream connection mid-turn cancels the turn (its 30 s tool stops)."""

        async def main():
            async with httpx.AsyncClient(base_url=server, timeout=30) as client:
                async with client.stream(
                    "POST", "/chat/stream", json={"text": "research owls"}
                ) as reply:
                    assert reply.status_code == 200
                    await asyncio.sleep(0.3)  # the research tool is running now
                # Hung up. Within 10 s (the tool alone takes 30) the Branch is idle again.
                deadline = time.monotonic() + 10
                while True:
                    info = (await client.get("/info")).json()
                    if info["status"] == "ready" and info["in_flight"] == 0:
                        break
                    assert time.monotonic() < deadline, f"the turn went on: {info}"
                    await asyncio.sleep(0.05)
                return (await client.get("/messages", params={"last": 1})).json()[0]

        last = asyncio.run(main())
        assert last["type"] == "ToolResultMessage"
        assert last["content"].startswith("error: tool 'research' cancelled")

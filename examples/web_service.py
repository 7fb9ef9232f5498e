"""A Branch embedded in a small Starlette web service, served by uvicorn.

Run it (no key and no network needed: the offline provider answers):

    python examples/web_service.py --port 8000

then talk to it:

    curl -s localhost:8000/chat -d '{"text": "add 2 and 3"}'
    curl -sN localhost:8000/chat/stream -d '{"text": "tell me about streams"}'
    curl -sN localhost:8000/chat/stream -d '{"text": "research owls"}'  # Ctrl-C: cancelled
    curl -s localhost:8000/messages
    curl -s localhost:8000/info

Every handler awaits the Branch through the `a`-prefixed BranchRef methods, so the
server's event loop never blocks: many requests are served at once while the Branch
works through them one turn at a time, in arrival order. `/chat/stream` sends the
answer as server-sent events while the model produces it; a client that hangs up
cancels its turn on the Branch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from agentic.actors import ActorSystem
from agentic.branches import (
    BranchError,
    BranchRef,
    ToolCallMessage,
    ToolResultMessage,
    spawn_branch,
)
from agentic.providers import OfflineProvider, ToolRule


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: The first.
        b: The second.
    """
    return a + b


def word_count(text: str) -> int:
    """Count the words of a text.

    Args:
        text: The text.
    """
    return len(text.split())


async def research(topic: str) -> str:
    """Research a topic (a slow tool: it takes 30 seconds, long enough to hang up on).

    Args:
        topic: What to research.
    """
    await asyncio.sleep(30)
    return f"notes on {topic}"


def offline_provider() -> OfflineProvider:
    """A deterministic model: it calls the tools when asked, else echoes."""
    return OfflineProvider(
        rules=[
            ToolRule(
                pattern=r"add (-?\d+) and (-?\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"}
            ),
            ToolRule(
                pattern=r"count the words of (.+)", tool="word_count", arguments={"text": "{1}"}
            ),
            ToolRule(pattern=r"research (.+)", tool="research", arguments={"topic": "{1}"}),
        ],
        echo_prefix="You said: ",
    )


def _message(message: Any) -> dict[str, Any]:
    shown = {
        "id": str(message.id),
        "type": type(message).__name__,
        "role": str(message.role),
        "content": message.content,
    }
    if isinstance(message, (ToolCallMessage, ToolResultMessage)):
        shown["tool"] = message.tool
    if isinstance(message, ToolCallMessage):
        shown["arguments"] = message.arguments
    return shown


async def _text(request: Request) -> str | None:
    """Return the body's `text` (a JSON object's string field), else None."""
    try:
        body = await request.json()
    except ValueError:
        return None
    text = body.get("text") if isinstance(body, dict) else None
    return text if isinstance(text, str) else None


_BAD_TEXT = JSONResponse({"error": "send {'text': '...'}"}, status_code=400)


async def sse_chat(branch: BranchRef, text: str) -> AsyncIterator[str]:
    """Chat with `branch`, as server-sent events: text pieces and `tool` events, then `done`.

    Leaving early (the client hung up) closes the stream, which cancels the turn.
    """
    async with await branch.astream_chat(text) as stream:
        try:
            async for delta in stream:
                if delta.message is not None:  # a tool call as it starts, a result as it ends
                    tool = {"step": delta.step, **_message(delta.message)}
                    yield f"event: tool\ndata: {json.dumps(tool)}\n\n"
                    continue
                piece = {"step": delta.step, "text": delta.text, "restart": delta.restart}
                yield f"data: {json.dumps(piece)}\n\n"
        except BranchError as exc:
            yield f"event: error\ndata: {json.dumps({'error': str(exc)})}\n\n"
            return
        result = stream.result
        assert result is not None  # the loop ended with the turn's result
        done = {"reply": result.content, "steps": result.steps, "stopped": result.stopped}
        yield f"event: done\ndata: {json.dumps(done)}\n\n"


def _branch(request: Request) -> BranchRef:
    branch: BranchRef = request.app.state.branch
    return branch


async def chat(request: Request) -> JSONResponse:
    """POST /chat {"text"}: one turn of the agent loop; its answer as JSON."""
    text = await _text(request)
    if not text:
        return _BAD_TEXT
    try:
        result = await _branch(request).achat(text)
    except BranchError as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)
    return JSONResponse(
        {
            "reply": result.content,
            "steps": result.steps,
            "tool_calls": result.tool_calls,
            "stopped": result.stopped,
            "message_ids": result.message_ids,
        }
    )


async def chat_stream(request: Request) -> JSONResponse | StreamingResponse:
    """POST /chat/stream {"text"}: the turn's answer as server-sent events."""
    text = await _text(request)
    if not text:
        return _BAD_TEXT
    return StreamingResponse(sse_chat(_branch(request), text), media_type="text/event-stream")


async def messages(request: Request) -> JSONResponse:
    """GET /messages[?last=n]: the conversation (its last n messages)."""
    last = request.query_params.get("last")
    found = await _branch(request).amessages(int(last) if last and last.isdigit() else None)
    return JSONResponse([_message(m) for m in found])


async def add_message(request: Request) -> JSONResponse:
    """POST /messages {"text"}: append a user message."""
    text = await _text(request)
    if text is None:
        return _BAD_TEXT
    message = await _branch(request).aadd_message(text)
    return JSONResponse(_message(message), status_code=201)


async def info(request: Request) -> JSONResponse:
    """GET /info: the Branch's summary."""
    summary = await _branch(request).ainfo()
    return JSONResponse(summary.model_dump(mode="json"))


def build_app(system: ActorSystem | None = None, *, name: str = "web") -> Starlette:
    """Build the app; it spawns its Branch at startup and shuts the system down after.

    Args:
        system: The actor system to use (a new one by default; it is shut down with
            the app only if the app created it).
        name: The Branch's name.
    """
    owned = system is None
    actors = system if system is not None else ActorSystem("web")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        branch = spawn_branch(
            actors, name, tools=[add, word_count, research], providers=[offline_provider()]
        )
        app.state.branch = branch
        try:
            yield
        finally:
            # shutdown() and stop() join threads: keep them off the server's loop.
            await asyncio.to_thread(actors.shutdown if owned else branch.stop)

    routes = [
        Route("/chat", chat, methods=["POST"]),
        Route("/chat/stream", chat_stream, methods=["POST"]),
        Route("/messages", messages, methods=["GET"]),
        Route("/messages", add_message, methods=["POST"]),
        Route("/info", info, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    """Serve the app with uvicorn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(build_app(), host=args.host, port=args.port, ws="none")


if __name__ == "__main__":
    main()

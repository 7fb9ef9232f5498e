"""A Branch embedded in a small Starlette web service, served by uvicorn.

Run it (no key and no network needed: the offline provider answers):

    python examples/web_service.py --port 8000

then talk to it:

    curl -s localhost:8000/chat -d '{"text": "add 2 and 3"}'
    curl -s localhost:8000/messages
    curl -s localhost:8000/info

Every handler awaits the Branch through the `a`-prefixed BranchRef methods, so the
server's event loop never blocks: many requests are served at once while the Branch
works through them one turn at a time, in arrival order.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agentic.actors import ActorSystem
from agentic.branches import BranchError, BranchRef, spawn_branch
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


def offline_provider() -> OfflineProvider:
    """A deterministic model: it calls `add` and `word_count` when asked, else echoes."""
    return OfflineProvider(
        rules=[
            ToolRule(
                pattern=r"add (-?\d+) and (-?\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"}
            ),
            ToolRule(
                pattern=r"count the words of (.+)", tool="word_count", arguments={"text": "{1}"}
            ),
        ],
        echo_prefix="You said: ",
    )


def _message(message: Any) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "type": type(message).__name__,
        "role": str(message.role),
        "content": message.content,
    }


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def build_app(system: ActorSystem | None = None, *, name: str = "web") -> Starlette:
    """Build the app; it spawns its Branch at startup and shuts the system down after.

    Args:
        system: The actor system to use (a new one by default; it is shut down with
            the app only if the app created it).
        name: The Branch's name.
    """
    owned = system is None
    actors = system if system is not None else ActorSystem("web")
    state: dict[str, BranchRef] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state["branch"] = spawn_branch(
            actors, name, tools=[add, word_count], providers=[offline_provider()]
        )
        try:
            yield
        finally:
            if owned:
                # shutdown() joins threads: keep it off the server's loop.
                await asyncio.to_thread(actors.shutdown)
            else:
                await asyncio.to_thread(state["branch"].stop)

    async def chat(request: Request) -> JSONResponse:
        text = (await _body(request)).get("text")
        if not isinstance(text, str) or not text:
            return JSONResponse({"error": "send {'text': '...'}"}, status_code=400)
        try:
            result = await state["branch"].achat(text)
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

    async def messages(request: Request) -> JSONResponse:
        last = request.query_params.get("last")
        found = await state["branch"].amessages(int(last) if last and last.isdigit() else None)
        return JSONResponse([_message(m) for m in found])

    async def add_message(request: Request) -> JSONResponse:
        text = (await _body(request)).get("text")
        if not isinstance(text, str):
            return JSONResponse({"error": "send {'text': '...'}"}, status_code=400)
        message = await state["branch"].aadd_message(text)
        return JSONResponse(_message(message), status_code=201)

    async def info(_: Request) -> JSONResponse:
        summary = await state["branch"].ainfo()
        return JSONResponse(summary.model_dump(mode="json"))

    routes = [
        Route("/chat", chat, methods=["POST"]),
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

"""Real use of the Branches' public API, checked with `mypy --strict` (test_api.py).

Not collected by pytest: it is a type-checking fixture, though it also runs as a script.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import assert_type
from uuid import UUID

import structlog
from pydantic import BaseModel

from agentic.actors import ActorSystem, AskTimeoutError
from agentic.branches import (
    AsyncChatStream,
    BranchInfo,
    BranchRef,
    ChatDelta,
    ChatResult,
    ChatStream,
    Message,
    PlanResult,
    RequestCancelledError,
    spawn_branch,
)
from agentic.primitives import Event, EventStatus
from agentic.providers import OfflineProvider, ToolRule


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


class Sum(BaseModel):
    """A structured answer."""

    total: int


def use_sync(branch: BranchRef) -> str:
    """The blocking API."""
    event = branch.invoke("add", a=2, b=3)
    assert_type(event, Event)
    assert event.status is EventStatus.COMPLETED
    result = branch.chat("add 2 and 3")
    assert_type(result, ChatResult)
    stream = branch.stream_chat("say hello")
    assert_type(stream, ChatStream)
    pieces: list[str] = []
    for delta in stream:
        assert_type(delta, ChatDelta)
        pieces.append(delta.text)
    assert_type(stream.result, ChatResult | None)
    assert_type(stream.ticket, UUID)
    assert_type(branch.cancel(), bool)
    plan = branch.run_plan("greet", steps=["say hi", "say bye"])
    assert_type(plan, PlanResult)
    messages = branch.messages(last=2)
    assert_type(messages, list[Message])
    info = branch.info()
    assert_type(info, BranchInfo)
    return "".join(pieces) + " / " + result.content


async def use_async(branch: BranchRef) -> str:
    """The coroutine API: never blocks the host's loop."""
    stream = await branch.astream_chat("stream this")
    assert_type(stream, AsyncChatStream)
    async with stream:
        text = "".join([delta.text async for delta in stream])
    try:
        await asyncio.wait_for(branch.achat("quick"), timeout=30)
    except (TimeoutError, AskTimeoutError, RequestCancelledError):
        return "gave up"
    assert_type(await branch.acancel(stream.ticket), bool)
    return text


def main() -> None:
    """Run both against an offline Branch (logging only warnings, as a host would)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    provider = OfflineProvider(
        rules=[
            ToolRule(pattern=r"add (\d+) and (\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"})
        ]
    )
    with ActorSystem("typing") as system:
        branch = spawn_branch(system, "typed", tools=[add], providers=[provider])
        lines = [
            use_sync(branch),
            asyncio.run(use_async(branch)),
            str(branch.chat_model('{"total": 5}', Sum, repair=False).total),
        ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

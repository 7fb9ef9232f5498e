"""UsageProcessor: usage and cost of provider calls on the Event (and so in the audit Log)."""

from __future__ import annotations

import asyncio

from agentic.branches import UsageProcessor
from agentic.execution import AuditProcessor, Call, Executor, FunctionTarget, TargetMap
from agentic.primitives import Log


def run(call: Call, response) -> Log:
    async def respond(arguments) -> object:
        return response

    audit = AuditProcessor(lazy=False)
    targets = TargetMap([FunctionTarget(call.target, respond)])
    executor = Executor(targets, [audit, UsageProcessor()])

    async def main():
        return await executor.submit(call)

    asyncio.run(main())
    return audit.logs[0]


class TestUsageProcessor:
    def test_provider_call_usage_reaches_the_log(self):
        """A completed provider call's usage and cost appear in its Log's record metadata."""
        call = Call(target="provider:x", kind="provider")
        log = run(
            call, {"usage": {"input_tokens": 7, "output_tokens": 3}, "cost": 0.5, "model": "m"}
        )
        metadata = log.record["metadata"]
        assert metadata["usage"] == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
        assert metadata["cost"] == 0.5
        assert metadata["model"] == "m"

    def test_tool_calls_are_left_alone(self):
        """A tool call's metadata gets no usage."""
        call = Call(target="tool", kind="tool")
        log = run(call, {"usage": {"input_tokens": 7}})
        assert "usage" not in log.record["metadata"]

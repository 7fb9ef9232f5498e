"""Shared helpers for the execution tests: targets with known behaviour."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from agentic.execution import Call, FunctionTarget, TargetMap


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on a fresh loop."""
    return asyncio.run(coro)


class FlakyError(Exception):
    """An error that says whether a retry may help."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Probe:
    """Targets that record what reached them."""

    def __init__(self) -> None:
        self.reached: list[str] = []
        self.cancelled: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.failures_left: dict[str, int] = {}

    async def ok(self, arguments: dict[str, Any]) -> Any:
        self.reached.append(arguments.get("tag", "ok"))
        return {"echo": arguments}

    async def boom(self, arguments: dict[str, Any]) -> Any:
        self.reached.append("boom")
        msg = "boom"
        raise ValueError(msg)

    async def slow(self, arguments: dict[str, Any]) -> Any:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(float(arguments.get("seconds", 0.01)))
        except asyncio.CancelledError:
            self.cancelled.append(arguments.get("tag", "slow"))
            raise
        finally:
            self.in_flight -= 1
        self.reached.append(arguments.get("tag", "slow"))
        return "slept"

    async def hang(self, arguments: dict[str, Any]) -> Any:
        self.reached.append("hang")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.append(arguments.get("tag", "hang"))
            raise

    async def flaky(self, arguments: dict[str, Any]) -> Any:
        """Fail `fails` times (retryable or not), then succeed."""
        key = arguments.get("tag", "flaky")
        left = self.failures_left.setdefault(key, int(arguments.get("fails", 1)))
        self.reached.append(key)
        if left > 0:
            self.failures_left[key] = left - 1
            raise FlakyError(
                f"flaky {key}",
                retryable=bool(arguments.get("retryable", True)),
                retry_after=arguments.get("retry_after"),
            )
        return "recovered"

    async def unserializable(self, arguments: dict[str, Any]) -> Any:
        return object()

    def resolver(self) -> TargetMap:
        return TargetMap(
            [
                FunctionTarget("ok", self.ok),
                FunctionTarget("boom", self.boom),
                FunctionTarget("slow", self.slow),
                FunctionTarget("hang", self.hang),
                FunctionTarget("flaky", self.flaky),
                FunctionTarget("unserializable", self.unserializable),
                FunctionTarget("secret_op", self.ok),
            ]
        )


def call(target: str, caller: str | None = None, **arguments: Any) -> Call:
    """Build a Call."""
    return Call(target=target, arguments=arguments, caller=caller)


async def no_sleep(_seconds: float) -> None:
    """A sleep that only yields."""
    await asyncio.sleep(0)

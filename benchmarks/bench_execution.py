"""Benchmark: the Processor/Executor chain around a no-op tool, agentic vs lionagi 0.36.

Run with the venv that has both installed:

    /work/venv-lion/bin/python benchmarks/bench_execution.py [--repeat 5]

Measures, in one process and interleaved (medians over --repeat rounds):

* per-Event latency, Events submitted one after another (each awaited):
  - agentic `Executor` with no processors (the bare executor),
  - agentic `Executor` with `default_chain()` (audit, validation, policy,
    concurrency, retry, timeout) around a registered no-op `Tool`,
  - lionagi `Executor.append()` + `forward()` of one no-op Event;
  the chain overhead is the difference between the first two.
* the audit's cost per finished Event for a provider Call carrying an 800-message
  conversation (`AuditProcessor.record()` building the Log at once), now and as it
  was before argument values were bounded (whole-Event snapshot, redaction by a
  regex search per key, full copy), and the JSON size of the Log each one keeps;
* throughput with 1,000 Events in flight at once:
  - agentic: 1,000 `start_soon()` then `gather()`, default chain;
  - lionagi: 1,000 `append()` then one `forward()` (queue capacity and concurrency
    limit 1,000, so all run in one task group).

structlog is configured to drop info lines (cached loggers), as a production host
that logs warnings only would; the audit still snapshots every finished Event.

Each figure is reported twice: by wall clock and by process CPU time. On a shared
machine (other processes competing for the cores) the CPU-time figures are the
stable ones: they count the work done, not the time spent waiting to be scheduled.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Self

import structlog

from agentic.execution import (
    DEFAULT_SECRET_KEYS,
    REDACTED,
    AuditProcessor,
    Call,
    Executor,
    FunctionTarget,
    TargetMap,
    default_chain,
)
from agentic.primitives import Event, Log
from agentic.tools import Tool, ToolRegistry

SEQUENTIAL = 3000
IN_FLIGHT = 1000
CONVERSATION = 800
AUDITS = 30


class Clock:
    """Wall and CPU time of one measured stretch."""

    def __enter__(self) -> Self:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def per_event(clock: Clock, n: int) -> tuple[float, float]:
    return clock.wall / n * 1e6, clock.cpu / n * 1e6


def rate(clock: Clock, n: int) -> tuple[float, float]:
    return n / clock.wall, n / clock.cpu


async def noop() -> None:
    """Do nothing."""


def registry() -> ToolRegistry:
    return ToolRegistry([Tool(noop)])


# -- agentic ------------------------------------------------------------------------


async def agentic_sequential(processors: Any) -> tuple[float, float]:
    ex = Executor(registry(), processors)
    await ex.submit(Call(target="noop"))  # warm up
    with Clock() as clock:
        for _ in range(SEQUENTIAL):
            await ex.submit(Call(target="noop"))
    await ex.stop()
    return per_event(clock, SEQUENTIAL)


async def agentic_direct() -> tuple[float, float]:
    tool = Tool(noop)
    with Clock() as clock:
        for _ in range(SEQUENTIAL):
            await tool.invoke(tool.validate({}))
    return per_event(clock, SEQUENTIAL)


async def agentic_throughput(processors: Any) -> tuple[float, float]:
    ex = Executor(registry(), processors)
    with Clock() as clock:
        tasks = [ex.start_soon(Call(target="noop")) for _ in range(IN_FLIGHT)]
        events = await asyncio.gather(*tasks)
    assert all(e.status.value == "completed" for e in events)
    assert len(ex.logs or ()) in (0, IN_FLIGHT)
    await ex.stop()
    return rate(clock, IN_FLIGHT)


# -- audit of a provider Call carrying a long conversation ----------------------------


def conversation(n: int) -> list[dict[str, Any]]:
    """`n` messages shaped as a Branch sends them (`Message.model_dump(mode="json")`)."""
    roles = ("UserMessage", "AssistantMessage")
    return [
        {
            "$type": roles[i % 2],
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "created_at": "2026-11-22T01:00:00.000000Z",
            "metadata": {},
            "content": f"message {i}: " + "lorem ipsum dolor sit amet " * 8,
        }
        for i in range(n)
    ]


async def provider_call(n: int) -> Event:
    async def answer(_arguments: dict[str, Any]) -> dict[str, Any]:
        return {"content": "ok", "usage": {"input_tokens": 10 * n, "output_tokens": 2}}

    call = Call(
        target="model",
        kind="provider",
        caller="branch",
        arguments={"messages": conversation(n), "model": "m", "temperature": 0.0},
    )
    ex = Executor(TargetMap([FunctionTarget("model", answer)]), ())
    event = await ex.submit(call)
    await ex.stop()
    return event


def old_redact(value: Any) -> Any:
    """Redaction as it was before the verdict cache (a regex search per key, a full copy)."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and DEFAULT_SECRET_KEYS.search(key)
            else old_redact(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [old_redact(item) for item in value]
    return value


def old_audit(event: Event) -> Log:
    """The Log as the audit built it before values were bounded (whole Event, redacted)."""
    record = event.to_dict()
    record["arguments"] = old_redact(record["arguments"])
    return Log(
        event_id=record["id"], event_type=record["$type"], status=record["status"], record=record
    )


async def audit_large_call(old: bool) -> tuple[float, float]:
    event = await provider_call(CONVERSATION)
    audit = AuditProcessor(lazy=False, max_logs=1)
    with Clock() as clock:
        for _ in range(AUDITS):
            if old:
                old_audit(event)
            else:
                audit.record(event)
    return per_event(clock, AUDITS)


async def log_bytes(old: bool) -> tuple[float, float]:
    """Bytes of JSON one Log holds for the 800-message Call (reported in both columns)."""
    event = await provider_call(CONVERSATION)
    if old:
        log = old_audit(event)
    else:
        audit = AuditProcessor(lazy=False)
        audit.record(event)
        log = audit.logs[0]
    size = float(len(log.to_json()))
    return size, size


# -- lionagi ------------------------------------------------------------------------


def lionagi_classes() -> tuple[type, type, type]:
    from lionagi.protocols.generic.event import Event as LEvent
    from lionagi.protocols.generic.processor import Executor as LExecutor
    from lionagi.protocols.generic.processor import Processor as LProcessor

    class NoopEvent(LEvent):
        async def _invoke(self) -> None:
            return None

    class NoopProcessor(LProcessor):
        event_type: ClassVar[type] = NoopEvent

    class NoopExecutor(LExecutor):
        processor_type: ClassVar[type] = NoopProcessor

    return NoopEvent, NoopProcessor, NoopExecutor


def lionagi_config() -> dict[str, Any]:
    return {
        "queue_capacity": IN_FLIGHT,
        "capacity_refresh_time": 0.001,
        "concurrency_limit": IN_FLIGHT,
    }


async def lionagi_sequential() -> tuple[float, float]:
    event_cls, _, executor_cls = lionagi_classes()
    ex = executor_cls(processor_config=lionagi_config())
    await ex.start()
    with Clock() as clock:
        for _ in range(SEQUENTIAL):
            await ex.append(event_cls())
            await ex.forward()
    await ex.stop()
    assert ex.status_counts().get("completed") == SEQUENTIAL
    return per_event(clock, SEQUENTIAL)


async def lionagi_throughput() -> tuple[float, float]:
    event_cls, _, executor_cls = lionagi_classes()
    ex = executor_cls(processor_config=lionagi_config())
    await ex.start()
    with Clock() as clock:
        for _ in range(IN_FLIGHT):
            await ex.append(event_cls())
        await ex.forward()
    assert ex.status_counts().get("completed") == IN_FLIGHT, ex.status_counts()
    await ex.stop()
    return rate(clock, IN_FLIGHT)


# -- driver -------------------------------------------------------------------------


MEASURES: list[tuple[str, Callable[[], Awaitable[tuple[float, float]]]]] = [
    ("direct tool.invoke (µs)", agentic_direct),
    ("agentic bare executor (µs/Event)", lambda: agentic_sequential(())),
    ("agentic default chain (µs/Event)", lambda: agentic_sequential(None)),
    ("lionagi append+forward (µs/Event)", lionagi_sequential),
    ("agentic default chain, 1,000 in flight (Events/s)", lambda: agentic_throughput(None)),
    (
        "agentic chain without concurrency cap, 1,000 in flight (Events/s)",
        lambda: agentic_throughput(default_chain(concurrency=None)),
    ),
    ("lionagi, 1,000 in flight (Events/s)", lionagi_throughput),
    (
        f"audit of one {CONVERSATION}-message provider Call, before (µs/Event)",
        lambda: audit_large_call(old=True),
    ),
    (
        f"audit of one {CONVERSATION}-message provider Call, now (µs/Event)",
        lambda: audit_large_call(old=False),
    ),
    (f"Log of the {CONVERSATION}-message Call, before (bytes)", lambda: log_bytes(old=True)),
    (f"Log of the {CONVERSATION}-message Call, now (bytes)", lambda: log_bytes(old=False)),
]


async def one_round() -> dict[str, tuple[float, float]]:
    results: dict[str, tuple[float, float]] = {}
    for name, measure in MEASURES:
        gc.collect()
        results[name] = await measure()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=True,
    )
    logging.getLogger("lionagi").setLevel(logging.WARNING)
    rounds = [asyncio.run(one_round()) for _ in range(args.repeat)]
    wall = {k: statistics.median(r[k][0] for r in rounds) for k in rounds[0]}
    cpu = {k: statistics.median(r[k][1] for r in rounds) for k in rounds[0]}
    width = max(len(k) for k in wall)
    print(f"median of {args.repeat} rounds")
    print(f"{'measure':<{width}}  {'wall':>12}  {'cpu':>12}")
    for key, value in wall.items():
        print(f"{key:<{width}}  {value:>12,.1f}  {cpu[key]:>12,.1f}")
    print()
    for label, table in (("wall", wall), ("cpu", cpu)):
        bare = table["agentic bare executor (µs/Event)"]
        full = table["agentic default chain (µs/Event)"]
        lion = table["lionagi append+forward (µs/Event)"]
        ours = table["agentic default chain, 1,000 in flight (Events/s)"]
        theirs = table["lionagi, 1,000 in flight (Events/s)"]
        print(
            f"[{label}] chain overhead (default chain - bare executor): "
            f"{full - bare:.1f} µs/Event (goal <= 30); "
            f"latency lionagi/agentic {lion / full:.2f}x; "
            f"throughput agentic/lionagi {ours / theirs:.2f}x (goal >= 3)"
        )


if __name__ == "__main__":
    main()

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
* throughput with 1,000 Events in flight at once:
  - agentic: 1,000 `start_soon()` then `gather()`, default chain;
  - lionagi: 1,000 `append()` then one `forward()` (queue capacity and concurrency
    limit 1,000, so all run in one task group).

structlog is configured to drop info lines (cached loggers), as a production host
that logs warnings only would; the audit still builds every Log.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import time
from typing import Any, ClassVar

import structlog

from agentic.execution import Call, Executor, default_chain
from agentic.tools import Tool, ToolRegistry

SEQUENTIAL = 3000
IN_FLIGHT = 1000


async def noop() -> None:
    """Do nothing."""


def registry() -> ToolRegistry:
    return ToolRegistry([Tool(noop)])


# -- agentic ------------------------------------------------------------------------


async def agentic_sequential(processors: Any) -> float:
    ex = Executor(registry(), processors)
    await ex.submit(Call(target="noop"))  # warm up
    start = time.perf_counter()
    for _ in range(SEQUENTIAL):
        await ex.submit(Call(target="noop"))
    elapsed = time.perf_counter() - start
    await ex.stop()
    return elapsed / SEQUENTIAL * 1e6


async def agentic_direct() -> float:
    tool = Tool(noop)
    start = time.perf_counter()
    for _ in range(SEQUENTIAL):
        await tool.invoke(tool.validate({}))
    return (time.perf_counter() - start) / SEQUENTIAL * 1e6


async def agentic_throughput(processors: Any) -> float:
    ex = Executor(registry(), processors)
    start = time.perf_counter()
    tasks = [ex.start_soon(Call(target="noop")) for _ in range(IN_FLIGHT)]
    events = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    assert all(e.status.value == "completed" for e in events)
    assert len(ex.logs or ()) in (0, IN_FLIGHT)
    await ex.stop()
    return IN_FLIGHT / elapsed


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


async def lionagi_sequential() -> float:
    event_cls, _, executor_cls = lionagi_classes()
    ex = executor_cls(processor_config=lionagi_config())
    await ex.start()
    start = time.perf_counter()
    for _ in range(SEQUENTIAL):
        await ex.append(event_cls())
        await ex.forward()
    elapsed = time.perf_counter() - start
    await ex.stop()
    assert ex.status_counts().get("completed") == SEQUENTIAL
    return elapsed / SEQUENTIAL * 1e6


async def lionagi_throughput() -> float:
    event_cls, _, executor_cls = lionagi_classes()
    ex = executor_cls(processor_config=lionagi_config())
    await ex.start()
    start = time.perf_counter()
    for _ in range(IN_FLIGHT):
        await ex.append(event_cls())
    await ex.forward()
    elapsed = time.perf_counter() - start
    assert ex.status_counts().get("completed") == IN_FLIGHT, ex.status_counts()
    await ex.stop()
    return IN_FLIGHT / elapsed


# -- driver -------------------------------------------------------------------------


async def one_round() -> dict[str, float]:
    results: dict[str, float] = {}
    gc.collect()
    results["direct tool.invoke (µs)"] = await agentic_direct()
    gc.collect()
    results["agentic bare executor (µs/Event)"] = await agentic_sequential(())
    gc.collect()
    results["agentic default chain (µs/Event)"] = await agentic_sequential(None)
    gc.collect()
    results["lionagi append+forward (µs/Event)"] = await lionagi_sequential()
    gc.collect()
    results["agentic default chain, 1,000 in flight (Events/s)"] = await agentic_throughput(None)
    gc.collect()
    results["agentic no concurrency cap, 1,000 in flight (Events/s)"] = await agentic_throughput(
        default_chain(concurrency=None)
    )
    gc.collect()
    results["lionagi, 1,000 in flight (Events/s)"] = await lionagi_throughput()
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
    medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    width = max(len(k) for k in medians)
    print(f"{'measure':<{width}}  {'median':>12}  {'min':>12}  {'max':>12}")
    for key, value in medians.items():
        values = [r[key] for r in rounds]
        print(f"{key:<{width}}  {value:>12,.1f}  {min(values):>12,.1f}  {max(values):>12,.1f}")
    bare = medians["agentic bare executor (µs/Event)"]
    full = medians["agentic default chain (µs/Event)"]
    lion = medians["lionagi append+forward (µs/Event)"]
    ours = medians["agentic default chain, 1,000 in flight (Events/s)"]
    theirs = medians["lionagi, 1,000 in flight (Events/s)"]
    print()
    print(
        f"chain overhead (default chain - bare executor): {full - bare:.1f} µs/Event (goal <= 30)"
    )
    print(f"latency ratio lionagi / agentic default chain:  {lion / full:.2f}x")
    print(f"throughput ratio agentic / lionagi:             {ours / theirs:.2f}x (goal >= 3)")


if __name__ == "__main__":
    main()

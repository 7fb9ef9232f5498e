"""Benchmark: Branches beside raw pykka actors, in the same process.

Run: python benchmarks/bench_branches.py [--repeat 5] [--asks 20000] [--tells 50000] [--idle 200]
     [--chats 300]

Measures, with a raw `pykka.ThreadingActor` as the reference:
* ask round trip: one host thread asking sequentially. Branch: `Info()` (the reply is
  a fresh `BranchInfo`) and `ReadMessages(last=1)` through the actor ref, and
  `BranchRef.info()` (the public handle, with its stopped/refused checks). pykka: an
  actor answering a small dict from its state.
* tell throughput: one host thread telling N messages, then one ask to sync. The
  messaging cost alone: Branch `ReadMessages(last=0)` (answers [] at once; a tell drops
  it) beside a pykka actor answering a constant. Then real work,
  Branch: `AddMessage` of pre-built messages (each goes into the Pile and the
  conversation Progression); pykka: an actor appending the same messages to a list.
  Also pykka storing them into the same kind of Pile, to separate messaging cost from
  the Pile's.
* agent-loop overhead with the offline provider: microseconds per step of a chat that
  calls one tool (two model calls and one tool call, each an Event through the chain,
  plus the messages), and per one-step chat without tools.
* streaming: microseconds per piece of a 2,000-word answer read through
  `BranchRef.stream_chat`, in total and over the same chat without streaming.
* memory per idle Branch: tracemalloc and RSS growth over `--idle` Branches beside as
  many idle pykka actors, each measured in a fresh subprocess.

Prints the median of `--repeat` rounds, with ratios against pykka and the goals.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pykka
import structlog

from agentic.actors import ActorSystem
from agentic.branches import AddMessage, Info, Message, ReadMessages, UserMessage, spawn_branch
from agentic.primitives import Pile, Progression
from agentic.providers import OfflineProvider, ToolRule
from agentic.tools import Tool


class PykkaState(pykka.ThreadingActor):
    """A raw pykka actor with a little state: a list, or a Pile and a Progression."""

    def __init__(self, *, pile: bool = False) -> None:
        super().__init__()
        self.items: list[Any] = []
        self.pile: Pile[Message] | None = Pile(item_type=Message) if pile else None
        self.order = Progression()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, AddMessage):
            if self.pile is not None:
                self.pile.include(message.message)
                self.order.include(message.message.id)
            else:
                self.items.append(message.message)
            return message.message
        return {"name": "pykka", "items": len(self.items)}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ask_round_trip(asks: int) -> dict[str, float]:
    ref = PykkaState.start()
    pykka_s = timed(lambda: [ref.ask("info") for _ in range(asks)]) / asks
    ref.stop()
    with ActorSystem("bench") as system:
        branch = spawn_branch(system, "b")
        branch.add_message("hello")
        info = Info()
        read = ReadMessages(last=1)
        actor = branch.ref
        info_s = timed(lambda: [actor.ask(info) for _ in range(asks)]) / asks
        read_s = timed(lambda: [actor.ask(read) for _ in range(asks)]) / asks
        handle_s = timed(lambda: [branch.info() for _ in range(asks)]) / asks
    return {
        "pykka": pykka_s * 1e6,
        "info": info_s * 1e6,
        "read": read_s * 1e6,
        "handle": handle_s * 1e6,
    }


def tell_throughput(tells: int) -> dict[str, float]:
    messages = [AddMessage(message=UserMessage(content=f"m{i}")) for i in range(tells)]
    rates: dict[str, float] = {}
    for label, pile in (("pykka", False), ("pykka_pile", True)):
        ref = PykkaState.start(pile=pile)

        def pykka_run(actor: Any = ref) -> None:
            for message in messages:
                actor.tell(message)
            actor.ask("sync")

        rates[label] = tells / timed(pykka_run)
        ref.stop()
    with ActorSystem("bench", mailbox_size=1000) as system:
        actor = spawn_branch(system, "b").ref
        sync = Info()

        def branch_run() -> None:
            for message in messages:
                actor.tell(message)
            actor.ask(sync)

        rates["branch"] = tells / timed(branch_run)
        noop = ReadMessages(last=0)

        def branch_noop() -> None:
            for _ in range(tells):
                actor.tell(noop)
            actor.ask(sync)

        rates["branch_noop"] = tells / timed(branch_noop)
    ref = PykkaState.start()

    def pykka_noop() -> None:
        for _ in range(tells):
            ref.tell("noop")
        ref.ask("sync")

    rates["pykka_noop"] = tells / timed(pykka_noop)
    ref.stop()
    return rates


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def agent_loop(chats: int) -> dict[str, float]:
    """Microseconds per agent-loop step (a model call or a tool call, each an Event).

    Each chat starts from an empty conversation (an import, not timed), so the
    number is per step, not per step of an ever longer conversation.
    """
    model = OfflineProvider(
        rules=[
            ToolRule(pattern=r"add (\d+) and (\d+)", tool="add", arguments={"a": "{1}", "b": "{2}"})
        ]
    )
    tool = Tool(add, blocking=False)  # a quick pure function: runs on the loop
    with ActorSystem("bench") as system:
        branch = spawn_branch(system, "loop", tools=[tool], providers=[model])
        empty = branch.export()
        branch.chat("add 1 and 1")  # warm up
        tool_s = echo_s = 0.0
        for n in range(chats):
            branch.import_state(empty)
            start = time.perf_counter()
            result = branch.chat(f"add {n} and 1")
            tool_s += time.perf_counter() - start
            assert result.tool_calls == 1
            branch.import_state(empty)
            start = time.perf_counter()
            branch.chat("hi", use_tools=False)
            echo_s += time.perf_counter() - start
    # Two model calls and one tool call per tool chat; one model call per plain chat.
    return {"step": tool_s / (chats * 3) * 1e6, "echo_chat": echo_s / chats * 1e6}


def streaming(chats: int, words: int = 2000) -> dict[str, float]:
    """Microseconds per streamed piece of a `words`-word answer read through `stream_chat`.

    `total` is the whole streaming chat per piece; `over_plain` subtracts the same chat
    without streaming (so it is the cost streaming adds per piece: the provider's
    stream, the bus publish from the loop, the reader's queue and the delta values).
    """
    answer = " ".join(f"word{i}" for i in range(words))
    model = OfflineProvider([answer], when_exhausted="cycle")
    with ActorSystem("bench") as system:
        branch = spawn_branch(system, "stream", providers=[model])
        empty = branch.export()
        assert len(list(branch.stream_chat("warm up"))) == words
        plain_s = stream_s = 0.0
        for _ in range(chats):
            branch.import_state(empty)
            start = time.perf_counter()
            branch.chat("go")
            plain_s += time.perf_counter() - start
            branch.import_state(empty)
            start = time.perf_counter()
            pieces = sum(1 for _ in branch.stream_chat("go"))
            stream_s += time.perf_counter() - start
            assert pieces == words
    per = 1e6 / (chats * words)
    return {"total": stream_s * per, "over_plain": (stream_s - plain_s) * per}


_MEMORY_CHILD = """
import gc, json, sys, tracemalloc
kind, count = sys.argv[1], int(sys.argv[2])

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

import pykka
import structlog
from agentic.actors import ActorSystem
from agentic.branches import spawn_branch

class Idle(pykka.ThreadingActor):
    pass

system = ActorSystem("mem", mailbox_size=1000)
if kind == "branch":  # warm up imports and lazy singletons outside the measurement
    spawn_branch(system, "warm").info()
else:
    Idle.start().stop()
gc.collect()
tracemalloc.start()
base_rss, base_mem = rss(), tracemalloc.get_traced_memory()[0]
refs = []
for i in range(count):
    if kind == "branch":
        refs.append(spawn_branch(system, f"b{i}"))
    else:
        refs.append(Idle.start())
if kind == "branch":
    for ref in refs:
        ref.info()
else:
    for ref in refs:
        pass
gc.collect()
mem = tracemalloc.get_traced_memory()[0] - base_mem
grown = rss() - base_rss
print(json.dumps({"tracemalloc": mem / count, "rss": grown / count}))
if kind == "branch":
    system.shutdown()
else:
    pykka.ActorRegistry.stop_all()
"""


def memory(idle: int) -> dict[str, dict[str, float]]:
    result = {}
    for kind in ("pykka", "branch"):
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, kind, str(idle)],
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        result[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    # The audit emits one structlog line per Event; a host decides where they go. Here
    # they are dropped below warning, as a service's production setup would.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description="Branches beside raw pykka")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--asks", type=int, default=20000)
    parser.add_argument("--tells", type=int, default=50000)
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--chats", type=int, default=300)
    args = parser.parse_args()

    asks: list[dict[str, float]] = []
    tells: list[dict[str, float]] = []
    loops: list[dict[str, float]] = []
    streams: list[dict[str, float]] = []
    for _ in range(args.repeat):
        asks.append(ask_round_trip(args.asks))
        tells.append(tell_throughput(args.tells))
        loops.append(agent_loop(args.chats))
        streams.append(streaming(max(args.chats // 30, 3)))
        gc.collect()
    mem = memory(args.idle)

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    def ratio(rows: list[dict[str, float]], key: str, base: str) -> float:
        return statistics.median(row[key] / row[base] for row in rows)

    print(f"rounds: {args.repeat}; asks {args.asks:,}; tells {args.tells:,}; idle {args.idle}")
    print(f"{'metric':58} {'pykka':>12} {'branch':>12} {'ratio':>7}  goal")
    lines = [
        ("ask round trip (us): Info via the actor ref", "pykka", "info", "<= 1.5", asks),
        ("ask round trip (us): ReadMessages(last=1) via the ref", "pykka", "read", "-", asks),
        ("ask round trip (us): BranchRef.info()", "pykka", "handle", "-", asks),
        (
            "tell throughput (msg/s): no-op message each side",
            "pykka_noop",
            "branch_noop",
            ">= 0.7",
            tells,
        ),
        ("tell throughput (msg/s): AddMessage vs list append", "pykka", "branch", "-", tells),
        (
            "tell throughput (msg/s): AddMessage vs pykka into a Pile",
            "pykka_pile",
            "branch",
            "-",
            tells,
        ),
    ]
    for label, base, key, goal, rows in lines:
        print(
            f"{label:58} {med(rows, base):>12,.1f} {med(rows, key):>12,.1f} "
            f"{ratio(rows, key, base):>7.2f}  {goal}"
        )
    for what in ("tracemalloc", "rss"):
        pk, br = mem["pykka"][what], mem["branch"][what]
        print(
            f"{'memory per idle actor (bytes), ' + what:58} {pk:>12,.0f} {br:>12,.0f} {br / pk:>7.2f}  -"
        )
    print(
        f"agent loop, offline provider: {med(loops, 'step'):,.0f} us per step (model or tool call)"
    )
    print(f"agent loop, offline provider: {med(loops, 'echo_chat'):,.0f} us per one-step chat")
    print(
        f"streaming chat, offline provider: {med(streams, 'total'):,.1f} us per piece read, "
        f"{med(streams, 'over_plain'):,.1f} us over the same chat unstreamed (goal < 50)"
    )
    tracemalloc.stop()


if __name__ == "__main__":
    main()

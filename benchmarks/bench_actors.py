"""Benchmark: agentic.actors beside raw pykka, in the same process.

Run: python benchmarks/bench_actors.py [--repeat 5] [--asks 20000] [--tells 50000]

Measures, for both runtimes:
* ask round trip (one host thread asking one actor, sequentially);
* tell throughput (one host thread telling one actor N messages, then one ask to
  sync); ours with the default bounded mailbox (1000, so the sender feels
  backpressure) and with a mailbox large enough never to fill;
* asks from 8 threads to 16 actors at once (aggregate throughput);
* async round trip: our `ask_async` (never blocks the loop) beside `await` on a pykka
  future (which blocks the loop in `get()`), for reference;
* memory per idle actor: tracemalloc and RSS growth for 200 idle actors, each runtime
  measured in a fresh subprocess.

Prints the median of `--repeat` rounds, with ratios against pykka and the goals.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pykka

from agentic.actors import Actor, ActorSystem


class PykkaEcho(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        return message


class Echo(Actor):
    def receive(self, message: Any) -> Any:
        return message


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ask_round_trip(asks: int) -> dict[str, float]:
    ref = PykkaEcho.start()
    pykka_s = timed(lambda: [ref.ask(i) for i in range(asks)]) / asks
    ref.stop()
    with ActorSystem("bench") as system:
        ours = system.spawn(Echo)
        ours_s = timed(lambda: [ours.ask(i) for i in range(asks)]) / asks
    return {"pykka": pykka_s * 1e6, "ours": ours_s * 1e6}


def tell_throughput(tells: int) -> dict[str, float]:
    ref = PykkaEcho.start()

    def pykka_run() -> None:
        for i in range(tells):
            ref.tell(i)
        ref.ask("sync")

    pykka_rate = tells / timed(pykka_run)
    ref.stop()
    rates = {"pykka": pykka_rate}
    for label, size in (("ours", 1000), ("ours_unbounded", tells + 10)):
        with ActorSystem("bench", mailbox_size=size) as system:
            ours = system.spawn(Echo)

            def ours_run(actor: Any = ours) -> None:
                for i in range(tells):
                    actor.tell(i)
                actor.ask("sync")

            rates[label] = tells / timed(ours_run)
    return rates


def fan_in(asks_per_thread: int, threads: int = 8, actors: int = 16) -> dict[str, float]:
    def run(ask_fns: list[Any]) -> float:
        barrier = threading.Barrier(threads + 1)

        def worker(index: int) -> None:
            barrier.wait()
            for i in range(asks_per_thread):
                ask_fns[(index + i) % len(ask_fns)](i)

        workers = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
        for w in workers:
            w.start()
        barrier.wait()
        start = time.perf_counter()
        for w in workers:
            w.join()
        return threads * asks_per_thread / (time.perf_counter() - start)

    refs = [PykkaEcho.start() for _ in range(actors)]
    pykka_rate = run([r.ask for r in refs])
    for r in refs:
        r.stop()
    with ActorSystem("bench") as system:
        ours = [system.spawn(Echo) for _ in range(actors)]
        ours_rate = run([r.ask for r in ours])
    return {"pykka": pykka_rate, "ours": ours_rate}


def async_round_trip(asks: int) -> dict[str, float]:
    ref = PykkaEcho.start()

    async def pykka_main() -> None:
        for i in range(asks):
            await ref.ask(i, block=False)

    pykka_s = timed(lambda: asyncio.run(pykka_main())) / asks
    ref.stop()
    with ActorSystem("bench") as system:
        ours = system.spawn(Echo)

        async def ours_main() -> None:
            for i in range(asks):
                await ours.ask_async(i)

        ours_s = timed(lambda: asyncio.run(ours_main())) / asks
    return {"pykka": pykka_s * 1e6, "ours": ours_s * 1e6}


def rss_kib() -> int:
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory_child(kind: str, count: int) -> None:
    """Measure in this (fresh) process; print JSON."""
    gc.collect()
    rss0 = rss_kib()
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    if kind == "pykka":
        refs = [PykkaEcho.start() for _ in range(count)]
        refs[-1].ask("sync")
    else:
        system = ActorSystem("bench")
        refs = [system.spawn(Echo) for _ in range(count)]
        refs[-1].ask("sync")
    time.sleep(0.2)
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    traced = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
    tracemalloc.stop()
    rss1 = rss_kib()
    print(json.dumps({"traced": traced / count, "rss": (rss1 - rss0) * 1024 / count}))
    if kind == "pykka":
        pykka.ActorRegistry.stop_all()
    else:
        system.shutdown()


def memory(count: int) -> dict[str, dict[str, float]]:
    out = {}
    for kind in ("pykka", "ours"):
        proc = subprocess.run(
            [sys.executable, __file__, "--memory-child", kind, "--count", str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
        out[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--asks", type=int, default=20_000)
    parser.add_argument("--tells", type=int, default=50_000)
    parser.add_argument("--fan-in", type=int, default=2_000, help="asks per thread")
    parser.add_argument("--count", type=int, default=200, help="idle actors for memory")
    parser.add_argument("--memory-child", choices=["pykka", "ours"])
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.count)
        return

    rounds: dict[str, list[dict[str, float]]] = {"ask": [], "tell": [], "fan": [], "async": []}
    for _ in range(args.repeat):
        rounds["ask"].append(ask_round_trip(args.asks))
        rounds["tell"].append(tell_throughput(args.tells))
        rounds["fan"].append(fan_in(args.fan_in))
        rounds["async"].append(async_round_trip(args.asks // 4))
    mem = memory(args.count)

    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in rounds[kind])

    rows = [
        ("ask round trip (us)", med("ask", "pykka"), med("ask", "ours"), "ours/pykka <= 1.5"),
        (
            "tell throughput (msg/s), mailbox 1000",
            med("tell", "pykka"),
            med("tell", "ours"),
            "ours/pykka >= 0.7",
        ),
        (
            "tell throughput (msg/s), mailbox never full",
            med("tell", "pykka"),
            med("tell", "ours_unbounded"),
            "ours/pykka >= 0.7",
        ),
        ("asks/s, 8 threads x 16 actors", med("fan", "pykka"), med("fan", "ours"), "-"),
        (
            "async round trip (us) [pykka blocks the loop]",
            med("async", "pykka"),
            med("async", "ours"),
            "-",
        ),
        (
            "memory per idle actor, tracemalloc (B)",
            mem["pykka"]["traced"],
            mem["ours"]["traced"],
            "-",
        ),
        ("memory per idle actor, RSS (B)", mem["pykka"]["rss"], mem["ours"]["rss"], "-"),
    ]
    print(
        f"repeat={args.repeat} asks={args.asks} tells={args.tells} fan-in={args.fan_in}/thread idle={args.count}"
    )
    print(f"{'metric':50} {'pykka':>12} {'agentic':>12} {'ratio':>7}  goal")
    for name, theirs, ours, goal in rows:
        print(f"{name:50} {theirs:12.1f} {ours:12.1f} {ours / theirs:7.2f}  {goal}")


if __name__ == "__main__":
    main()

"""Benchmark the event store on 100k records.

Run: python benchmarks/bench_store.py [--records 100000] [--runs 3]

Measures appends/s one at a time and grouped (explicit batches and group commit from
threads), replay records/s (read_all and an aggregate fold), and snapshot + tail load
time. The reference ("peer") is raw sqlite3 with the same table: one INSERT + COMMIT
per record, and one executemany per batch, so the ratios show what the store's checks,
encoding and decoding cost on top of SQLite itself.
"""

import argparse
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from agentic.store import AppendRequest, NewRecord, Repository, SQLiteEventStore


class Counter:
    """A small aggregate: sums its records."""

    def __init__(self, stream_id: str) -> None:
        self._stream_id = stream_id
        self.total = 0
        self.count = 0

    @property
    def stream_id(self) -> str:
        return self._stream_id

    def apply(self, record_type: str, payload: dict[str, Any]) -> None:  # noqa: ARG002
        self.total += payload["n"]
        self.count += 1

    def snapshot_state(self) -> dict[str, Any]:
        return {"total": self.total, "count": self.count}

    def restore(self, state: dict[str, Any]) -> None:
        self.total, self.count = state["total"], state["count"]


def payload(n: int) -> dict[str, Any]:
    return {"n": n, "kind": "tick", "text": "some short text"}


def fresh(durability: str) -> SQLiteEventStore:
    return SQLiteEventStore(Path(tempfile.mkdtemp()) / "e.db", durability=durability)  # type: ignore[arg-type]


def raw_conn(durability: str) -> sqlite3.Connection:
    conn = sqlite3.connect(Path(tempfile.mkdtemp()) / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={durability.upper()}")
    conn.execute(
        "CREATE TABLE records (position INTEGER PRIMARY KEY, stream TEXT, sequence INTEGER,"
        " type TEXT, payload BLOB, timestamp REAL, UNIQUE (stream, sequence)) STRICT"
    )
    return conn


def bench_single(durability: str, count: int) -> tuple[float, float]:
    store = fresh(durability)
    start = time.perf_counter()
    for n in range(count):
        store.append(f"s{n % 10}", [NewRecord("tick", payload(n))])
    ours = count / (time.perf_counter() - start)
    store.close()
    conn = raw_conn(durability)
    start = time.perf_counter()
    for n in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
            (n + 1, f"s{n % 10}", n // 10 + 1, "tick", orjson.dumps(payload(n)), time.time()),
        )
        conn.execute("COMMIT")
    raw = count / (time.perf_counter() - start)
    conn.close()
    return ours, raw


def bench_batches(durability: str, count: int, size: int) -> tuple[float, float]:
    store = fresh(durability)
    start = time.perf_counter()
    for first in range(0, count, size):
        store.append("s", [NewRecord("tick", payload(n)) for n in range(first, first + size)])
    ours = count / (time.perf_counter() - start)
    store.close()
    conn = raw_conn(durability)
    start = time.perf_counter()
    now = time.time()
    for first in range(0, count, size):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
            [
                (n + 1, "s", n + 1, "tick", orjson.dumps(payload(n)), now)
                for n in range(first, first + size)
            ],
        )
        conn.execute("COMMIT")
    raw = count / (time.perf_counter() - start)
    conn.close()
    return ours, raw


def bench_append_many(durability: str, count: int, streams: int) -> float:
    store = fresh(durability)
    per = 100
    start = time.perf_counter()
    for first in range(0, count, per * streams):
        store.append_many(
            AppendRequest(
                f"s{s}",
                [
                    NewRecord("tick", payload(n))
                    for n in range(first + s * per, first + (s + 1) * per)
                ],
            )
            for s in range(streams)
        )
    rate = count / (time.perf_counter() - start)
    store.close()
    return rate


def bench_threads(durability: str, count: int, threads: int) -> tuple[float, float]:
    store = fresh(durability)
    commits = [0]
    original = store._committer._on_commit

    def counting(position: int) -> None:
        commits[0] += 1
        original(position)

    store._committer._on_commit = counting
    per = count // threads

    def work(t: int) -> None:
        for n in range(per):
            store.append(f"s{t}", [NewRecord("tick", payload(n))])

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    rate = per * threads / (time.perf_counter() - start)
    store.close()
    return rate, per * threads / max(commits[0], 1)


def bench_replay(count: int) -> dict[str, float]:
    store = fresh("off")
    for first in range(0, count, 1000):
        store.append("s", [NewRecord("tick", payload(n)) for n in range(first, first + 1000)])
    start = time.perf_counter()
    total = sum(1 for _ in store.read_all())
    read_all = total / (time.perf_counter() - start)
    start = time.perf_counter()
    total = sum(1 for _ in store.read("s"))
    read_stream = total / (time.perf_counter() - start)
    repo = Repository(store)
    start = time.perf_counter()
    full = repo.load(Counter("s"), use_snapshot=False)
    fold_time = time.perf_counter() - start
    assert full.aggregate.count == count
    # Snapshot 1,000 records before the end, then load = snapshot + 1,000-record tail.
    partial = repo.replay(Counter("s"), up_to_position=count - 1000)
    store.save_snapshot("s", count - 1000, partial.snapshot_state(), type="Counter")
    start = time.perf_counter()
    loaded = repo.load(Counter("s"))
    snapshot_time = time.perf_counter() - start
    assert loaded.aggregate.snapshot_state() == full.aggregate.snapshot_state()
    conn = sqlite3.connect(store.path)
    start = time.perf_counter()
    raw_total = 0
    for row in conn.execute("SELECT position, stream, sequence, type, payload FROM records"):
        orjson.loads(row[4])
        raw_total += 1
    raw_read = raw_total / (time.perf_counter() - start)
    conn.close()
    store.close()
    return {
        "read_all": read_all,
        "read_stream": read_stream,
        "fold": count / fold_time,
        "fold_time": fold_time,
        "snapshot_time": snapshot_time,
        "raw_read": raw_read,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=2_000, help="records for one-at-a-time")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    count = args.records
    rows: dict[str, list[tuple[float, float | None]]] = {}

    def add(name: str, ours: float, peer: float | None = None) -> None:
        rows.setdefault(name, []).append((ours, peer))

    for _ in range(args.runs):
        for durability in ("full", "normal"):
            ours, raw = bench_single(durability, args.single)
            add(f"append 1 at a time ({durability}), appends/s", ours, raw)
        for durability in ("full", "normal"):
            for size in (100, 1000):
                ours, raw = bench_batches(durability, count, size)
                add(f"append batches of {size} ({durability}), records/s", ours, raw)
        add("append_many 10 streams x 100 (full), records/s", bench_append_many("full", count, 10))
        for durability in ("full", "normal"):
            for threads in (8, 64):
                rate, per_commit = bench_threads(durability, count // 5, threads)
                label = f"group commit {threads} threads, 1 record/append ({durability})"
                add(f"{label}, appends/s", rate)
                add(f"{label}, appends/commit", per_commit)
        replay = bench_replay(count)
        add("replay read_all, records/s", replay["read_all"], replay["raw_read"])
        add("replay read(stream), records/s", replay["read_stream"], replay["raw_read"])
        add("replay into aggregate (Repository.load), records/s", replay["fold"])
        add("full replay load time, ms", replay["fold_time"] * 1000)
        add("snapshot + 1k tail load time, ms", replay["snapshot_time"] * 1000)

    print(f"\nevent store, {count:,} records, median of {args.runs} runs")
    print(f"{'measure':60} {'agentic':>12} {'raw sqlite3':>12} {'ratio':>7}")
    for name, values in rows.items():
        ours = statistics.median(v[0] for v in values)
        peers = [v[1] for v in values if v[1] is not None]
        if peers:
            peer = statistics.median(peers)
            print(f"{name:60} {ours:12,.0f} {peer:12,.0f} {ours / peer:7.2f}")
        else:
            print(f"{name:60} {ours:12,.1f} {'':>12} {'':>7}")


if __name__ == "__main__":
    main()

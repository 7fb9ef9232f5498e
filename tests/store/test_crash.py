"""Crash test: a child appends continuously and is killed with SIGKILL, again and again."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentic.store import SQLiteEventStore

CHILD = Path(__file__).with_name("crash_child.py")
KILLS = 50


def _run_child(
    db: Path, first: int, rng: random.Random
) -> tuple[set[int], dict[int, tuple[int, ...]], int | None, set[int]]:
    """Start the child, kill it at a random moment; return what it reported."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(db), str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acked: set[int] = set()
    positions: dict[int, tuple[int, ...]] = {}
    deduplicated: set[int] = set()
    sent: list[int] = []
    ready = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            parts = line.split()
            if parts[0] == "READY":
                ready.set()
            elif parts[0] == "SEND":
                sent.append(int(parts[1]))
            elif parts[0] == "ACK":
                n = int(parts[1])
                acked.add(n)
                positions[n] = tuple(int(p) for p in parts[2].split(","))
                if parts[3] == "1":
                    deduplicated.add(n)

    thread = threading.Thread(target=reader)
    thread.start()
    assert ready.wait(30), "child did not start"
    time.sleep(rng.uniform(0.0, 0.15))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    thread.join()
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    proc.stdout.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL, err
    unacked = next((n for n in sent if n not in acked), None)
    return acked, positions, unacked, deduplicated


def _verify(db: Path, acked_positions: dict[int, tuple[int, ...]]) -> set[int]:
    """Replay the whole log; check it is whole and holds every acknowledged batch."""
    with SQLiteEventStore(db) as store:
        records = list(store.read_all())  # raises on a gap or a torn (undecodable) record
        assert [r.position for r in records] == list(range(1, len(records) + 1))
        batches: dict[int, list[int]] = {}
        where: dict[int, list[int]] = {}
        for record in records:
            assert record.idempotency_key == f"b{record.payload['batch']}:{record.payload['i']}"
            batches.setdefault(record.payload["batch"], []).append(record.payload["i"])
            where.setdefault(record.payload["batch"], []).append(record.position)
        for n, items in batches.items():
            assert items == list(range(1 + n % 4)), f"batch {n} is torn or duplicated: {items}"
        for n, positions in acked_positions.items():
            assert n in batches, f"acknowledged batch {n} was lost"
            assert tuple(where[n]) == positions
        for stream in store.streams():
            sequences = [r.sequence for r in store.read(stream)]
            assert sequences == list(range(1, len(sequences) + 1))
        return set(batches)


@pytest.mark.slow
class TestCrash:
    def test_sigkill_loses_no_acknowledged_append(self, tmp_path):
        """After 50 SIGKILLs, the log holds every acked batch once, whole, gap-free."""
        db = tmp_path / "crash.db"
        rng = random.Random(20261122)
        acked_positions: dict[int, tuple[int, ...]] = {}
        resends = 0
        for _ in range(KILLS):
            # Each child starts by re-sending the last acknowledged batch (it must come
            # back deduplicated, at its original positions), then the batch that was in
            # flight at the kill (committed or not: the keys decide), then new ones.
            first = max(acked_positions, default=0)
            _, positions, _, dedup = _run_child(db, first, rng)
            for n, where in positions.items():
                assert acked_positions.setdefault(n, where) == where, f"batch {n} moved"
            resends += first in dedup
            stored = _verify(db, acked_positions)
            assert stored == set(range(max(stored) + 1))  # nothing lost in between
        assert len(acked_positions) > KILLS
        assert resends > KILLS // 2  # the re-send path really ran, and deduplicated

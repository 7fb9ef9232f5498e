"""Subscriptions: catch up, then follow live, with no gap and no repeat."""

import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from agentic.store import CorruptRecordError, NewRecord, SQLiteEventStore, Subscription


def tick(n: int, kind: str = "t") -> NewRecord:
    return NewRecord(kind, {"n": n})


class TestCatchUpThenLive:
    def test_switch_from_catch_up_to_live_is_seamless(self, store):
        """Records stored before and appended during following arrive once, in order."""
        for n in range(300):
            store.append("a", [tick(n)])
        sub = store.subscribe(1)
        seen: list[int] = []

        def writer() -> None:
            for n in range(300, 1000):
                store.append(f"s{n % 3}", [tick(n)])

        thread = threading.Thread(target=writer)
        thread.start()
        for record in sub.follow(idle_timeout=5.0):
            seen.append(record.position)
            if len(seen) == 1000:
                break
        thread.join()
        assert seen == list(range(1, 1001))
        assert sub.next_position == 1001

    def test_from_position_in_the_middle(self, store):
        """Following from position p starts at p."""
        store.append("a", [tick(n) for n in range(10)])
        assert [r.position for r in store.subscribe(7).poll()] == [7, 8, 9, 10]

    def test_poll_times_out_empty(self, store):
        """poll() with a timeout and nothing new returns an empty list."""
        sub = store.subscribe(1)
        assert sub.poll(0.05) == []
        store.append("a", [tick(1)])
        assert [r.position for r in sub.poll(1.0)] == [1]
        assert sub.poll(0) == []

    def test_filters_skip_without_gaps(self, store):
        """A filtered subscription sees only matches and still advances past the rest."""
        sub = store.subscribe(1, types=["keep"])
        store.append("a", [tick(1, "drop"), tick(2, "keep"), tick(3, "drop")])
        assert [r.payload["n"] for r in sub.poll(1.0)] == [2]
        assert sub.next_position == 4
        store.append("a", [tick(4, "keep")])
        assert [r.payload["n"] for r in sub.poll(1.0)] == [4]

    def test_stream_and_correlation_filters(self, store):
        """Stream and correlation filters apply to following too."""
        by_stream = store.subscribe(stream="b")
        by_corr = store.subscribe(correlation_id="c")
        store.append("a", [NewRecord("t", {}, "c")])
        store.append("b", [NewRecord("t", {})])
        assert [r.stream for r in by_stream.poll(1.0)] == ["b"]
        assert [r.position for r in by_corr.poll(1.0)] == [1]

    def test_iterator_blocks_until_a_record_then_close_ends_it(self, store):
        """Iteration waits for new records; close() ends it."""
        sub = store.subscribe(1)
        got: list[int] = []

        def consume() -> None:
            got.extend(record.position for record in sub)

        thread = threading.Thread(target=consume)
        thread.start()
        store.append("a", [tick(1), tick(2)])
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        sub.close()
        thread.join(5)
        assert not thread.is_alive()
        assert got == [1, 2]
        assert isinstance(sub, Subscription)

    def test_follow_ends_after_idle_timeout(self, store):
        """follow(idle_timeout) stops when nothing arrives in time."""
        store.append("a", [tick(1)])
        assert [r.position for r in store.subscribe(1).follow(idle_timeout=0.05)] == [1]


class TestPollPeriod:
    def test_a_poll_period_that_is_not_positive_is_refused(self, store):
        """poll=0 would make wait_for(timeout=None) return False at once (or spin): refused."""
        for poll in (0, -1.0, float("nan")):
            with pytest.raises(ValueError, match="poll"):
                store.wait_for(5, None, poll=poll)
            with pytest.raises(ValueError, match="poll"):
                store.subscribe(1, poll=poll)


class TestCorruption:
    def test_a_corrupt_record_is_never_skipped_and_nothing_is_delivered_twice(self, store):
        """A subscriber that retries after a CorruptRecordError gets each good record once."""
        store.append("a", [tick(n) for n in range(3000)])
        bad = sqlite3.connect(store.path)
        bad.execute("UPDATE records SET payload = X'7b' WHERE position = 2500")
        bad.commit()
        bad.close()
        sub = store.subscribe(1)
        seen: list[int] = []
        failures: list[int | None] = []
        for _ in range(4):
            try:
                seen.extend(record.position for record in sub.poll(0))
            except CorruptRecordError as exc:
                failures.append(exc.position)
        assert failures == [2500, 2500, 2500]
        assert seen == list(range(1, 2001))  # the page before the bad one, once
        assert sub.next_position == 2001
        with pytest.raises(CorruptRecordError):
            sub.poll(0)


class TestAcrossProcesses:
    def test_sees_commits_of_another_process(self, tmp_path):
        """A subscriber notices records another process commits (by polling)."""
        path = tmp_path / "e.db"
        code = (
            "import sys\n"
            "from agentic.store import NewRecord, SQLiteEventStore\n"
            "with SQLiteEventStore(sys.argv[1], durability='normal') as s:\n"
            "    for n in range(200):\n"
            "        s.append('x', [NewRecord('t', {'n': n})])\n"
        )
        with SQLiteEventStore(path, durability="normal") as store:
            sub = store.subscribe(1, poll=0.01)
            child = subprocess.Popen([sys.executable, "-c", code, str(path)])
            seen: list[int] = []
            for record in sub.follow(idle_timeout=20.0):
                seen.append(record.payload["n"])
                if len(seen) == 200:
                    break
            assert child.wait(30) == 0
            assert seen == list(range(200))
            assert sub.poll(0) == []

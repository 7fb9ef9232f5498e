"""Concurrent appenders: many threads, and several processes, on one database."""

import sqlite3
import subprocess
import sys
import threading
from collections import Counter

import pytest

from agentic.store import (
    ConcurrencyError,
    NewRecord,
    SQLiteEventStore,
    StoreClosedError,
    StoreError,
)

CHILD = """
import sys
from agentic.store import NewRecord, SQLiteEventStore
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with SQLiteEventStore(path, durability="normal") as store:
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        store.append(f"shared-{i % 2}", [NewRecord("t", {"who": name, "i": i})])
        if i % 10 == 0:
            head = store.stream_sequence("counter")
            while True:
                try:
                    store.append("counter", [NewRecord("inc", {"who": name})], expected_sequence=head)
                    break
                except Exception:
                    head = store.stream_sequence("counter")
"""


def check_log(store: SQLiteEventStore) -> list:
    records = list(store.read_all())
    assert [r.position for r in records] == list(range(1, len(records) + 1))
    for stream in store.streams():
        sequences = [r.sequence for r in store.read(stream)]
        assert sequences == list(range(1, len(sequences) + 1))
    return records


class TestThreads:
    def test_many_threads_lose_and_repeat_nothing(self, store):
        """16 threads x 100 appends: every record once, sequences and positions gap-free."""

        def work(t: int) -> None:
            for i in range(100):
                store.append(f"s{t % 3}", [NewRecord("t", {"t": t, "i": i})])

        threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        records = check_log(store)
        assert len(records) == 1600
        assert Counter((r.payload["t"], r.payload["i"]) for r in records) == Counter(
            {(t, i): 1 for t in range(16) for i in range(100)}
        )
        for t in range(16):
            mine = [r.payload["i"] for r in records if r.payload["t"] == t]
            assert mine == list(range(100))  # each thread's appends keep its own order

    def test_optimistic_counter_is_exact(self, store):
        """Read-then-append with expected_sequence and retry counts every increment."""
        conflicts = Counter()

        def work() -> None:
            for _ in range(50):
                while True:
                    head = store.stream_sequence("counter")
                    try:
                        store.append("counter", [NewRecord("inc", {})], expected_sequence=head)
                        break
                    except ConcurrencyError:
                        conflicts["n"] += 1

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.stream_sequence("counter") == 400
        assert [r.sequence for r in store.read("counter")] == list(range(1, 401))

    def test_group_commit_batches_concurrent_appends(self, store):
        """Appends that wait for the writer are committed together (fewer transactions)."""
        commits = []
        original = store._committer._on_commit
        store._committer._on_commit = lambda position: (
            commits.append(position),
            original(position),
        )
        barrier = threading.Barrier(8)

        def work(t: int) -> None:
            barrier.wait()
            for i in range(50):
                store.append("s", [NewRecord("t", {"t": t, "i": i})])

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.last_position() == 400
        assert len(commits) < 400
        assert commits == sorted(commits)

    def test_idempotent_resend_from_many_threads(self, store):
        """Threads racing to send the same keyed append store it once."""
        results = []

        def work() -> None:
            records = [NewRecord("t", {"i": i}, idempotency_key=f"k{i}") for i in range(3)]
            results.append(store.append("a", records))

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.last_position() == 3
        assert {r.positions for r in results} == {(1, 2, 3)}
        assert sum(not r.deduplicated for r in results) == 1


class TestGroupIsolation:
    def test_one_callers_unencodable_id_fails_only_that_caller(self, tmp_path):
        """A stream id SQLite cannot take (a lone surrogate) fails its own append, not its group's."""
        path = tmp_path / "e.db"
        with SQLiteEventStore(path, durability="normal") as store:
            blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            blocker.execute("BEGIN IMMEDIATE")  # the appends below queue up as one group
            outcomes: dict[str, object] = {}

            def append(name: str, stream: str) -> None:
                try:
                    outcomes[name] = store.append(stream, [NewRecord("t", {"who": name})])
                except Exception as exc:
                    outcomes[name] = exc

            leader = threading.Thread(target=append, args=("leader", "a"))
            leader.start()
            while not store._committer._writing:
                threading.Event().wait(0.001)
            names = [f"good{i}" for i in range(4)]
            others = [threading.Thread(target=append, args=(name, "a")) for name in names]
            others.append(threading.Thread(target=append, args=("bad", "b\udc80")))
            for thread in others:
                thread.start()
            while len(store._committer._queue) + sum(not t.is_alive() for t in others) < 5:
                threading.Event().wait(0.001)
            blocker.execute("COMMIT")
            blocker.close()
            for thread in [leader, *others]:
                thread.join()
            assert isinstance(outcomes.pop("bad"), ValueError)
            assert all(not isinstance(outcome, Exception) for outcome in outcomes.values())
            assert sorted(r.payload["who"] for r in check_log(store)) == sorted(["leader", *names])


class TestWriteLock:
    def test_waits_for_another_writer_then_appends(self, tmp_path):
        """An append waits while another connection holds the write lock."""
        path = tmp_path / "e.db"
        with SQLiteEventStore(path, durability="normal", timeout=10) as store:
            other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            timer = threading.Timer(0.2, lambda: other.execute("COMMIT"))
            timer.start()
            assert store.append("a", [NewRecord("t", {})]).positions == (1,)
            timer.join()
            other.close()

    def test_gives_up_after_timeout(self, tmp_path):
        """A write lock held longer than the timeout fails the append, writing nothing."""
        path = tmp_path / "e.db"
        with SQLiteEventStore(path, durability="normal", timeout=0.1) as store:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreError, match="locked"):
                store.append("a", [NewRecord("t", {})])
            other.execute("ROLLBACK")
            other.close()
            assert store.append("a", [NewRecord("t", {})]).positions == (1,)


class TestClose:
    def test_close_while_appending(self, tmp_path):
        """Closing under load: each append either commits (and is kept) or is refused."""
        path = tmp_path / "e.db"
        store = SQLiteEventStore(path, durability="normal")
        acked: list[tuple[int, int]] = []
        refused = Counter()
        started = threading.Barrier(9)

        def work(t: int) -> None:
            started.wait()
            for i in range(10_000):
                try:
                    store.append("s", [NewRecord("t", {"t": t, "i": i})])
                except StoreClosedError:
                    refused[t] += 1
                    return
                acked.append((t, i))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        started.wait()
        while len(acked) < 200:
            threading.Event().wait(0.001)
        store.close()
        for thread in threads:
            thread.join()
        assert sum(refused.values()) == 8
        with SQLiteEventStore(path) as reopened:
            stored = [(r.payload["t"], r.payload["i"]) for r in check_log(reopened)]
        assert set(acked) <= set(stored)
        assert len(stored) == len(set(stored))


class TestProcesses:
    def test_two_processes_and_threads_on_one_file(self, tmp_path):
        """Two child processes and this one append at once: nothing lost or repeated."""
        path = tmp_path / "shared.db"  # not created yet: the children race to create it
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(path), name, "300"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for name in ("p1", "p2")
        ]
        try:
            for child in children:
                assert child.stdout.readline().strip() == "ready"
            with SQLiteEventStore(path, durability="normal") as store:
                for child in children:
                    child.stdin.write("go\n")
                    child.stdin.flush()
                for i in range(300):
                    store.append(f"shared-{i % 2}", [NewRecord("t", {"who": "parent", "i": i})])
                for child in children:
                    child.stdin.close()
                    assert child.wait(60) == 0
                    child.stdout.close()
                records = check_log(store)
                ticks = [r for r in records if r.type == "t"]
                assert len(ticks) == 900
                assert Counter((r.payload["who"], r.payload["i"]) for r in ticks) == Counter(
                    {(who, i): 1 for who in ("p1", "p2", "parent") for i in range(300)}
                )
                assert store.stream_sequence("counter") == 60
        finally:
            for child in children:  # a failed assertion must not leave children or pipes behind
                if child.poll() is None:
                    child.kill()
                child.wait()
                for pipe in (child.stdin, child.stdout):
                    if pipe is not None and not pipe.closed:
                        pipe.close()


INTERRUPTED = """
import linecache, os, signal, sqlite3, sys, threading, time
from agentic.store import NewRecord, SQLiteEventStore
path = sys.argv[1]
store = SQLiteEventStore(path, durability="normal", timeout=20)
committer = store._committer
blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
blocker.execute("BEGIN IMMEDIATE")  # the leader's BEGIN waits on this lock


def append(who):
    return store.append("a", [NewRecord("t", {"who": who})])


leader = threading.Thread(target=append, args=("leader",))
leader.start()
while not committer._writing:
    time.sleep(0.001)
main = threading.get_ident()


def waiting(ident):
    frame = sys._current_frames().get(ident)
    line = "" if frame is None else linecache.getline(frame.f_code.co_filename, frame.f_lineno)
    return "request.wake.acquire()" in line


def interrupt():
    while not waiting(main):  # the main thread waits behind the leader,
        time.sleep(0.001)
    worker.start()
    while not waiting(worker.ident):  # and the worker behind it
        time.sleep(0.001)
    signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C while the main thread waits


worker = threading.Thread(target=append, args=("worker",))
threading.Thread(target=interrupt).start()
try:
    append("main")
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
blocker.execute("COMMIT")
leader.join()
worker.join(10)
later = threading.Thread(target=append, args=("later",))
later.start()
later.join(10)
if worker.is_alive() or later.is_alive():
    print("hung", flush=True)
    os._exit(1)
store.close()
with SQLiteEventStore(path) as reopened:
    print(" ".join(sorted(r.payload["who"] for r in reopened.read("a"))), flush=True)
"""


INTERRUPTED_WRITER = """
import linecache, signal, sqlite3, sys, threading, time
from agentic.store import NewRecord, SQLiteEventStore
path = sys.argv[1]
store = SQLiteEventStore(path, durability="normal", timeout=20)
committer = store._committer
blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
blocker.execute("BEGIN IMMEDIATE")  # the first writer's BEGIN waits on this lock
committed = committer._on_commit


def relock(position):
    # The first group is committed: take the lock again before its writer hands its
    # role on, so the next writer (the main thread) waits in BEGIN IMMEDIATE too.
    committer._on_commit = committed
    blocker.execute("BEGIN IMMEDIATE")
    committed(position)


committer._on_commit = relock


def inside(ident, name):
    frame = sys._current_frames().get(ident)
    while frame is not None:
        if frame.f_code.co_name == name:
            return True
        frame = frame.f_back
    return False


def waiting(ident):
    frame = sys._current_frames().get(ident)
    line = "" if frame is None else linecache.getline(frame.f_code.co_filename, frame.f_lineno)
    return "request.wake.acquire()" in line


outcomes = {}


def append(who):
    try:
        store.append(who, [NewRecord("t", {})])
        outcomes[who] = "ok"
    except BaseException as exc:
        outcomes[who] = type(exc).__name__


main = threading.get_ident()
first = threading.Thread(target=append, args=("first",))
first.start()
while not inside(first.ident, "_write"):
    time.sleep(0.001)
workers = [threading.Thread(target=append, args=(f"w{i}",)) for i in range(3)]


def interrupt():
    while not waiting(main):  # the main thread waits behind the first writer,
        time.sleep(0.001)
    for worker in workers:  # and the workers behind it
        worker.start()
        while not waiting(worker.ident):
            time.sleep(0.001)
    blocker.execute("COMMIT")  # the first group commits; main is handed the role
    while not inside(main, "_write"):  # main writes the group of itself and the workers
        time.sleep(0.001)
    time.sleep(0.1)
    signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C: raised when its BEGIN returns
    time.sleep(0.1)
    blocker.execute("COMMIT")


threading.Thread(target=interrupt).start()
try:
    store.append("main", [NewRecord("t", {})])
    print("main not interrupted", flush=True)
except KeyboardInterrupt:
    print("main interrupted", flush=True)
first.join()
for worker in workers:
    worker.join()
print(sorted(outcomes.items()), flush=True)
store.append("later", [NewRecord("t", {})])
print(sorted(store.streams()), flush=True)
blocker.close()
store.close()
"""


INTERRUPTED_BEGIN = """
import os, signal, sqlite3, sys, threading, time
from agentic.store import NewRecord, SQLiteEventStore
path = sys.argv[1]
store = SQLiteEventStore(path, durability="normal", timeout=20)
blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
blocker.execute("BEGIN IMMEDIATE")  # the append's BEGIN waits in SQLite's busy handler
main = threading.get_ident()


def interrupt():
    while True:
        frame = sys._current_frames().get(main)
        if frame is not None and frame.f_code.co_name == "_write":
            break
        time.sleep(0.001)
    time.sleep(0.1)
    signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C: raised when BEGIN returns
    time.sleep(0.1)
    blocker.execute("COMMIT")


threading.Thread(target=interrupt).start()
try:
    store.append("a", [NewRecord("t", {"who": "interrupted"})])
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
blocker.close()
with SQLiteEventStore(path, durability="normal", timeout=1) as other:  # as another process
    other.append("a", [NewRecord("t", {"who": "other"})])
store.append("a", [NewRecord("t", {"who": "same"})])
print(" ".join(r.payload["who"] for r in store.read("a")), flush=True)
store.close()
"""


INTERRUPTED_SNAPSHOT = (
    INTERRUPTED_BEGIN.replace(
        'store = SQLiteEventStore(path, durability="normal", timeout=20)',
        'store = SQLiteEventStore(path, durability="normal", timeout=20)\n'
        'store.append("a", [NewRecord("t", {"who": "first"})])',
    )
    .replace(
        'frame.f_code.co_name == "_write"',
        'frame.f_code.co_name == "write"',
    )
    .replace(
        'store.append("a", [NewRecord("t", {"who": "interrupted"})])',
        'store.save_snapshot("a", 1, {"who": "interrupted"}, type="demo")',
    )
)


class TestInterrupt:
    def test_ctrl_c_while_waiting_to_append_leaves_the_store_working(self, tmp_path):
        """An append interrupted while it waits behind another (Ctrl-C) writes nothing, blocks no one."""
        child = subprocess.run(
            [sys.executable, "-c", INTERRUPTED, str(tmp_path / "e.db")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # the child ends itself (os._exit) if an append hangs
        assert child.stdout.split("\n")[:2] == ["interrupted", "later leader worker"], child.stderr
        assert child.returncode == 0, child.stderr

    def test_ctrl_c_as_the_transaction_begins_rolls_it_back(self, tmp_path):
        """An interrupt landing just after BEGIN leaves no transaction (and write lock) open."""
        child = subprocess.run(
            [sys.executable, "-c", INTERRUPTED_BEGIN, str(tmp_path / "e.db")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert child.stdout.split("\n")[:2] == ["interrupted", "other same"], child.stderr
        assert child.returncode == 0, child.stderr

    def test_ctrl_c_as_a_snapshot_write_begins_rolls_it_back(self, tmp_path):
        """A snapshot write interrupted just after BEGIN leaves no pooled transaction open."""
        assert "save_snapshot" in INTERRUPTED_SNAPSHOT
        child = subprocess.run(
            [sys.executable, "-c", INTERRUPTED_SNAPSHOT, str(tmp_path / "e.db")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert child.stdout.split("\n")[:2] == ["interrupted", "first other same"], child.stderr
        assert child.returncode == 0, child.stderr

    def test_ctrl_c_while_writing_a_group_fails_the_others_with_a_store_error(self, tmp_path):
        """A writer interrupted mid-group raises KeyboardInterrupt; its group's others get StoreError."""
        child = subprocess.run(
            [sys.executable, "-c", INTERRUPTED_WRITER, str(tmp_path / "e.db")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert child.stdout.split("\n")[:3] == [
            "main interrupted",
            "[('first', 'ok'), ('w0', 'StoreError'), ('w1', 'StoreError'), ('w2', 'StoreError')]",
            "['first', 'later']",  # nothing of the interrupted group was written
        ], child.stderr
        assert child.returncode == 0, child.stderr


FORKED = """
import os, signal, sqlite3, sys, threading, time
from agentic.store import NewRecord, SQLiteEventStore
path = sys.argv[1]
store = SQLiteEventStore(path, durability="normal", timeout=20)
store.append("a", [NewRecord("t", {"who": "first"})])
blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
blocker.execute("BEGIN IMMEDIATE")
writer = threading.Thread(target=store.append, args=("a", [NewRecord("t", {"who": "parent"})]))
writer.start()
while not store._committer._writing:
    time.sleep(0.001)
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # the child: the parent's thread is mid-append
    signal.alarm(5)  # a hang ends the child with SIGALRM
    out = os.fdopen(write, "w")
    for name, call in (
        ("append", lambda: store.append("a", [NewRecord("t", {"who": "child"})])),
        ("read", lambda: list(store.read("a"))),
    ):
        try:
            call()
            out.write(f"{name} ok\\n")
        except Exception as exc:
            out.write(f"{name} {type(exc).__name__}\\n")
        out.flush()
    store.close()  # closed already: touches none of the parent's handles
    out.close()
    os._exit(0)
os.close(write)
_, status = os.waitpid(pid, 0)
child = os.fdopen(read).read()
blocker.execute("COMMIT")
writer.join()
print(child.replace("\\n", "|"), os.waitstatus_to_exitcode(status), flush=True)
print(" ".join(r.payload["who"] for r in store.read("a")), flush=True)
store.close()
"""


class TestFork:
    def test_a_forked_child_is_refused_the_parents_store(self, tmp_path):
        """After fork (a parent thread mid-append), the inherited store refuses work, not hangs."""
        child = subprocess.run(
            [sys.executable, "-c", FORKED, str(tmp_path / "e.db")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert child.stdout.split("\n")[:2] == [
            "append StoreClosedError|read StoreClosedError| 0",
            "first parent",
        ], child.stderr
        assert child.returncode == 0, child.stderr


OPENER = """
import sys
from agentic.store import NewRecord, SQLiteEventStore
sys.stdin.readline()
with SQLiteEventStore(sys.argv[1]) as store:
    store.append("opened", [NewRecord("hello", {"who": sys.argv[2]})])
print("ok", flush=True)
"""


class TestFreshFileRace:
    def test_many_processes_open_a_new_store_at_once(self, tmp_path):
        """Processes that create the same store at one moment all open it (WAL switch retried)."""
        for round_ in range(3):
            path = tmp_path / f"fresh-{round_}.db"
            children = [
                subprocess.Popen(
                    [sys.executable, "-c", OPENER, str(path), f"p{i}"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for i in range(12)
            ]
            try:
                for child in children:  # release them together
                    child.stdin.write("go\n")
                    child.stdin.flush()
                outcomes = [child.communicate(timeout=60) for child in children]
            finally:
                for child in children:
                    if child.poll() is None:
                        child.kill()
                        child.wait()
            assert [out.strip() for out, _ in outcomes] == ["ok"] * 12, [err for _, err in outcomes]
            with SQLiteEventStore(path) as store:
                assert sorted(r.payload["who"] for r in store.read("opened")) == sorted(
                    f"p{i}" for i in range(12)
                )

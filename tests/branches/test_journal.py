"""Persisted Branches: every change is a record; replay rebuilds the exported state exactly."""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from agentic.actors import ActorRef, ActorSystem
from agentic.branches import (
    LOG_ADDED,
    LOGS_DROPPED,
    MESSAGE_ADDED,
    SNAPSHOT_TYPE,
    STATE_SET,
    STEP_RECORDED,
    AssistantMessage,
    Branch,
    BranchError,
    BranchJournal,
    BranchRef,
    BranchState,
    BranchStoppedError,
    InvokeTool,
    SystemMessage,
    ToolCallMessage,
    ToolResultMessage,
    UserMessage,
    replay_branch,
    spawn_branch,
)
from agentic.primitives import EventStatus
from agentic.providers import OfflineProvider, ToolRule
from agentic.store import (
    Aggregate,
    ConcurrencyError,
    CorruptRecordError,
    NewRecord,
    SQLiteEventStore,
)

from .conftest import wait_until


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def fail(reason: str) -> str:
    """Always fail."""
    raise RuntimeError(reason)


PROVIDER = OfflineProvider(
    rules=[
        ToolRule(pattern=r"^add (\d+) and (\d+)$", tool="add", arguments={"a": "{1}", "b": "{2}"})
    ]
)
OPTIONS: dict[str, Any] = {"tools": [add, fail], "providers": [PROVIDER], "attempts": 1}


def types(store: SQLiteEventStore, stream: str) -> list[str]:
    return [record.type for record in store.read(stream)]


@pytest.fixture
def store(tmp_path: Path):
    """A real SQLite event store in a temporary directory."""
    with SQLiteEventStore(tmp_path / "events.db", durability="normal") as events:
        yield events


class TestRecords:
    def test_new_stream_starts_with_the_whole_state(self, system, store):
        """A new journaled Branch records its initial state (ids included) before anything."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        assert types(store, "branch-main") == [STATE_SET]
        assert replay_branch(store, "branch-main") == branch.export()

    def test_each_change_is_one_record_and_reads_append_nothing(self, system, store):
        """A message is one record, a tool call one Log record; reads append nothing."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        branch.add_message("hello")
        branch.invoke("add", a=1, b=2)
        branch.messages()
        branch.info()
        branch.export()
        assert types(store, "branch-main") == [STATE_SET, MESSAGE_ADDED, LOG_ADDED]

    def test_records_of_one_handler_share_one_append(self, system, store):
        """A plan step's records (its step, the next step's message) commit together."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        branch.run_plan("goal", ["one", "two"])
        records = list(store.read("branch-main"))
        assert STEP_RECORDED in [r.type for r in records]
        by_time: dict[float, list[str]] = {}
        for record in records:
            by_time.setdefault(record.timestamp, []).append(record.type)
        # One append = one commit = one timestamp; some append carries several records.
        assert any(len(group) > 1 for group in by_time.values())
        assert replay_branch(store, "branch-main", use_snapshot=False) == branch.export()

    def test_an_answer_is_given_after_its_records_are_appended(self, system, store):
        """When invoke() or chat() returns, their Logs and messages are already in the store."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        branch.invoke("add", a=1, b=2)
        assert types(store, "branch-main").count(LOG_ADDED) == 1
        branch.chat("add 2 and 3")
        assert types(store, "branch-main").count(MESSAGE_ADDED) == 4
        assert types(store, "branch-main").count(LOG_ADDED) == 4

    def test_failed_logs_keep_their_terminal_status(self, system, store):
        """The Log of a failing tool is recorded with status failed and replays as such."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        event = branch.invoke("fail", reason="nope")
        assert event.status is EventStatus.FAILED
        state = replay_branch(store, "branch-main")
        assert [log["status"] for log in state["logs"]] == ["failed"]
        assert state == branch.export()

    def test_stop_appends_the_logs_of_cancelled_events(self, system, store):
        """Stopping a Branch with a tool call in flight records that Event's cancelled Log."""

        async def wait() -> str:
            """Wait longer than the test."""
            await asyncio.sleep(60)
            return "late"

        branch = spawn_branch(system, "main", tools=[wait], journal=store)
        branch.ref.tell(InvokeTool(tool="wait", arguments={}))
        wait_until(lambda: branch.info().in_flight == 1)
        branch.stop()
        records = list(store.read("branch-main"))
        assert [r.type for r in records] == [STATE_SET, LOG_ADDED]
        assert records[-1].payload["log"]["status"] == "cancelled"

    def test_max_logs_drops_are_recorded(self, system, store):
        """With max_logs the dropped Logs are recorded, so replay keeps the same newest ones."""
        branch = spawn_branch(system, "main", journal=store, max_logs=2, **OPTIONS)
        for n in range(5):
            branch.invoke("add", a=n, b=n)
        assert LOGS_DROPPED in types(store, "branch-main")
        live = branch.export()
        assert len(live["logs"]) == 2
        assert replay_branch(store, "branch-main", use_snapshot=False) == live

    def test_import_records_the_whole_state(self, system, store):
        """An import is one state record; replay gives the imported state."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        branch.add_message("one")
        before = branch.export()
        branch.add_message("two")
        branch.import_state(before)
        assert types(store, "branch-main")[-1] == STATE_SET
        assert replay_branch(store, "branch-main") == before == branch.export()

    def test_subclasses_replay_as_themselves(self, system, store):
        """Every Message subclass comes back as its own class with its own fields."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        sent = [
            SystemMessage(content="be brief"),
            UserMessage(content="hi"),
            AssistantMessage(content="yo", provider="p", usage={"input_tokens": 3}, cost=0.5),
            ToolCallMessage(call_id="c1", tool="add", arguments={"a": 1}),
            ToolResultMessage(call_id="c1", tool="add", content="1", is_error=True),
        ]
        for message in sent:
            branch.add_message(message)
        state = BranchState("branch-main")
        for record in store.read("branch-main"):
            state.apply(record.type, record.payload)
        assert state.messages is not None
        assert state.messages.read() == sent
        assert [type(m) for m in state.messages.read()] == [type(m) for m in sent]


class TestStop:
    def test_a_message_acknowledged_during_a_turn_survives_a_stop(self, system, store):
        """A message added (and answered) during a turn is in the journal after the Branch stops."""
        gate = asyncio.Event()

        async def wait() -> str:
            """Wait for the gate."""
            await gate.wait()
            return "open"

        provider = OfflineProvider(rules=[ToolRule(pattern="go", tool="wait")])
        branch = spawn_branch(system, "main", journal=store, tools=[wait], providers=[provider])
        errors: list[BaseException] = []

        def chat() -> None:
            try:
                branch.chat("go")
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=chat)
        thread.start()
        wait_until(lambda: branch.info().in_flight == 1)
        acknowledged = branch.add_message("meanwhile")
        branch.stop()
        thread.join(10)
        assert len(errors) == 1
        assert isinstance(errors[0], BranchStoppedError)
        state = replay_branch(store, "branch-main")
        ids = [item["id"] for item in state["messages"]["messages"]["items"]]
        assert ids[-1] == str(acknowledged.id)


class TestReplay:
    def test_a_fresh_branch_on_the_same_journal_continues(self, system, store):
        """Stop, spawn again on the journal: same state, and new records follow the old ones."""
        journal = BranchJournal(store)
        first = spawn_branch(system, "main", journal=journal, **OPTIONS)
        first.chat("add 1 and 2")
        live = first.export()
        first.stop()
        count = store.stream_sequence("branch-main")
        second = spawn_branch(system, "main", journal=journal, **OPTIONS)
        assert second.export() == live
        assert store.stream_sequence("branch-main") == count  # replay appends nothing
        second.add_message("more")
        assert types(store, "branch-main")[count:] == [MESSAGE_ADDED]
        assert replay_branch(store, "branch-main") == second.export()

    def test_live_snapshot_bounds_replay(self, system, store):
        """BranchRef.snapshot() saves the live state; replay starts there and applies the tail."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        branch.chat("hello")
        snapshot = branch.snapshot()
        assert snapshot is not None
        assert snapshot.type == SNAPSHOT_TYPE
        assert snapshot.sequence == store.stream_sequence("branch-main")
        assert snapshot.state == branch.export()
        branch.add_message("after")
        assert replay_branch(store, "branch-main") == branch.export()

    def test_async_snapshot(self, system, store):
        """asnapshot() is the coroutine twin of snapshot()."""
        branch = spawn_branch(system, "main", journal=store)

        async def main() -> Any:
            await branch.aadd_message("hi")
            return await branch.asnapshot()

        snapshot = asyncio.run(main())
        assert snapshot is not None
        assert snapshot.state == branch.export()

    def test_snapshot_policy_saves_every_n_records(self, system, store):
        """snapshot_every=3 leaves at most 3 records to replay after the latest snapshot."""
        journal = BranchJournal(store, snapshot_every=3)
        branch = spawn_branch(system, "main", journal=journal, **OPTIONS)
        for n in range(10):
            branch.add_message(f"m{n}")
        snapshot = store.load_snapshot("branch-main")
        assert snapshot is not None
        assert store.stream_sequence("branch-main") - snapshot.sequence < 3
        assert replay_branch(store, "branch-main") == branch.export()

    def test_store_side_snapshot_while_the_branch_runs(self, system, store):
        """journal.snapshot() rebuilds from committed records and saves them; the Branch goes on."""
        journal = BranchJournal(store)
        branch = spawn_branch(system, "main", journal=journal, **OPTIONS)
        branch.add_message("one")
        snapshot = journal.snapshot("main")
        assert snapshot is not None
        assert snapshot.state == branch.export()
        branch.add_message("two")
        assert journal.replay("main") == branch.export()
        assert journal.snapshot("nobody") is None

    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(texts=st.lists(st.text(alphabet="abc", min_size=1, max_size=4), max_size=6))
    def test_replay_up_to_a_position_gives_the_state_then(self, texts):
        """Replaying up to the position of each answer gives the export taken at that moment."""
        folder = Path(tempfile.mkdtemp())
        try:
            with (
                SQLiteEventStore(folder / "e.db", durability="off") as events,
                ActorSystem("prefix") as actors,
            ):
                branch = spawn_branch(actors, "main", journal=events)
                seen = [(events.last_position(), branch.export())]
                for text in texts:
                    branch.add_message(text)
                    seen.append((events.last_position(), branch.export()))
                middle = seen[len(seen) // 2]
                for position, state in seen:
                    got = replay_branch(events, "branch-main", up_to_position=position)
                    assert got == state
                # A snapshot is used only by replays up to a position at or after it.
                events.save_snapshot("branch-main", middle[0], middle[1], type=SNAPSHOT_TYPE)
                for position, state in seen:
                    got = replay_branch(events, "branch-main", up_to_position=position)
                    assert got == state
        finally:
            shutil.rmtree(folder)


class TestErrors:
    def test_unknown_record_type_is_a_clear_error(self, system, store):
        """A record the Branch does not know stops replay with the position named."""
        spawn_branch(system, "main", journal=store).stop()
        bad = store.append("branch-main", [NewRecord("branch.teleported", {})])
        with pytest.raises(CorruptRecordError, match="unknown branch record type") as caught:
            replay_branch(store, "branch-main")
        assert caught.value.position == bad.last_position
        with pytest.raises(CorruptRecordError):
            spawn_branch(system, "again", journal=BranchJournal(store, stream="branch-main"))

    def test_malformed_record_is_a_clear_error(self, system, store):
        """A message record that holds no Message is refused, naming its position."""
        spawn_branch(system, "main", journal=store).stop()
        log_doc = {"$type": "PlanStep", "plan": "00000000-0000-0000-0000-000000000001"}
        store.append("branch-main", [NewRecord(MESSAGE_ADDED, {"message": log_doc})])
        with pytest.raises(CorruptRecordError, match="cannot be replayed"):
            replay_branch(store, "branch-main")

    def test_records_before_any_state_are_refused(self, store):
        """A stream that does not start with a state record is not a Branch."""
        store.append("branch-x", [NewRecord(MESSAGE_ADDED, {"message": {}})])
        with pytest.raises(CorruptRecordError, match="before the branch's first"):
            replay_branch(store, "branch-x")

    def test_empty_stream_is_a_clear_error(self, store):
        """Replaying a stream with no branch records raises BranchError naming it."""
        with pytest.raises(BranchError, match="'branch-none' holds no branch records"):
            replay_branch(store, "branch-none")

    def test_another_writer_makes_the_next_append_fail(self, system, store):
        """A record appended behind the Branch's back: its next change fails with ConcurrencyError."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        store.append("branch-main", [NewRecord(MESSAGE_ADDED, {"message": {}})])
        with pytest.raises(ConcurrencyError):
            branch.add_message("lost race")
        with pytest.raises(ConcurrencyError):  # a long request's answer carries it too
            branch.invoke("add", a=1, b=1)

    def test_bad_arguments(self, system, store):
        """No name, a state for an existing stream, a snapshot without journal: each refused."""
        with pytest.raises(ValueError, match="needs a name"):
            spawn_branch(system, journal=store)
        spawn_branch(system, "main", journal=store).stop()
        with pytest.raises(ValueError, match="already holds a branch"):
            spawn_branch(system, "main", journal=store, state=replay_branch(store, "branch-main"))
        with pytest.raises(BranchError, match="no journal"):
            spawn_branch(system, "plain").snapshot()
        with pytest.raises(ValueError, match="snapshot_every"):
            BranchJournal(store, snapshot_every=0)

    def test_branch_state_is_an_aggregate(self):
        """BranchState fits the store's Aggregate protocol; empty state round-trips as {}."""
        state = BranchState("s")
        assert isinstance(state, Aggregate)
        assert state.snapshot_state() == {}
        with pytest.raises(BranchError):
            state.export()
        with pytest.raises(BranchError, match="not a branch state"):
            state.restore({"format": 99})


class TestConcurrency:
    def test_many_threads_adding_messages(self, system, store):
        """8 threads x 25 messages: 200 message records, in the conversation's order."""
        branch = spawn_branch(system, "main", journal=store)

        def work(worker: int) -> None:
            for n in range(25):
                branch.add_message(f"{worker}:{n}")

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        records = [r for r in store.read("branch-main") if r.type == MESSAGE_ADDED]
        conversation = [m.content for m in branch.messages()]
        assert len(conversation) == 200
        assert [r.payload["message"]["content"] for r in records] == conversation
        assert replay_branch(store, "branch-main") == branch.export()

    def test_snapshots_while_events_finish(self, system, store):
        """Snapshots taken while tool calls finish on the loop agree with the records."""
        branch = spawn_branch(system, "main", journal=store, **OPTIONS)
        for n in range(60):
            branch.ref.tell(InvokeTool(tool="add", arguments={"a": n, "b": n}))
            if n % 6 == 0:
                snapshot = branch.snapshot()
                assert snapshot is not None
                position = snapshot.position
                replayed = replay_branch(
                    store, "branch-main", up_to_position=position, use_snapshot=False
                )
                assert replayed == snapshot.state
        wait_until(lambda: branch.info().in_flight == 0 and branch.info().logs == 60)
        live = branch.export()
        assert replay_branch(store, "branch-main") == live
        assert replay_branch(store, "branch-main", use_snapshot=False) == live

    def test_branches_sharing_one_store(self, system, store):
        """Four journaled Branches chatting at once on one store each replay to their own state."""
        branches = [spawn_branch(system, f"b{n}", journal=store, **OPTIONS) for n in range(4)]

        def work(branch: BranchRef) -> None:
            for n in range(5):
                branch.chat(f"add {n} and {n}")

        threads = [threading.Thread(target=work, args=(b,)) for b in branches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for branch in branches:
            assert replay_branch(store, f"branch-{branch.name}") == branch.export()
            assert len(branch.messages()) == 20


CHILD = """
import sys
from agentic.actors import ActorSystem
from agentic.branches import spawn_branch
from agentic.store import SQLiteEventStore

with SQLiteEventStore(sys.argv[1], durability="full") as store, ActorSystem() as system:
    branch = spawn_branch(system, "main", journal=store)
    n = len(branch.messages())
    while True:
        branch.add_message(f"m{n}")
        print(f"ACK {n}", flush=True)
        n += 1
"""


class TestCrash:
    def test_sigkill_loses_no_acknowledged_message(self, tmp_path):
        """A child killed with SIGKILL: replay holds every acknowledged message once, in order."""
        path = str(tmp_path / "events.db")
        rng = random.Random(5)
        acked = -1
        for _ in range(3):
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, path],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert child.stdout is not None
            target = rng.randint(5, 40)
            seen = 0
            for line in child.stdout:
                if line.startswith("ACK "):
                    acked = int(line.split()[1])
                    seen += 1
                    if seen >= target:
                        break
            child.send_signal(signal.SIGKILL)
            child.communicate()
            assert child.returncode == -signal.SIGKILL
            with SQLiteEventStore(path) as events:
                state = replay_branch(events, "branch-main", use_snapshot=False)
            contents = [m["content"] for m in state["messages"]["messages"]["items"]]
            assert contents == [f"m{n}" for n in range(len(contents))]
            assert len(contents) >= acked + 1


class BoomError(RuntimeError):
    """A bug in a handler (not a refusal)."""


class ExplodingBranch(Branch):
    """A Branch whose handler adds a message and then raises, on 'explode'."""

    def _handle(self, message: Any) -> Any:
        if message == "explode":
            self.messages.add(UserMessage(content="half done"))
            raise BoomError("the handler failed")
        return super()._handle(message)


class TestRestart:
    def test_restart_keeps_journaling(self, system, store):
        """A handler that raises: its change is still recorded, and the restarted Branch goes on."""
        writer = BranchJournal(store).open("boom")
        ref: ActorRef[Branch] = system.spawn(
            lambda: ExplodingBranch(journal=writer, **OPTIONS), name="boom"
        )
        branch = BranchRef(ref, timeout=10.0)
        branch.add_message("before")
        with pytest.raises(BoomError):
            ref.ask("explode")
        assert ref.health().restarts == 1
        branch.add_message("after")
        branch.invoke("add", a=2, b=2)
        live = branch.export()
        contents = [m["content"] for m in live["messages"]["messages"]["items"]]
        assert contents == ["before", "half done", "after"]
        assert replay_branch(store, "branch-boom", use_snapshot=False) == live
        assert types(store, "branch-boom").count(STATE_SET) == 1


words = st.text(alphabet="abcxyz ", min_size=1, max_size=8).map(str.strip).filter(bool)
numbers = st.integers(min_value=0, max_value=99)
messages = st.one_of(
    words.map(lambda t: UserMessage(content=t)),
    words.map(lambda t: SystemMessage(content=t)),
    st.builds(
        AssistantMessage,
        content=words,
        provider=st.sampled_from([None, "offline"]),
        usage=st.dictionaries(st.sampled_from(["input_tokens", "output_tokens"]), numbers),
        cost=st.one_of(st.none(), st.floats(0, 10, allow_nan=False)),
    ),
    st.builds(
        ToolCallMessage, call_id=words, tool=words, arguments=st.dictionaries(words, numbers)
    ),
    st.builds(ToolResultMessage, call_id=words, tool=words, content=words, is_error=st.booleans()),
)


class JournaledBranchMachine(RuleBasedStateMachine):
    """Random operations on a journaled Branch; every replay must equal the live export."""

    def __init__(self) -> None:
        super().__init__()
        self.before = set(threading.enumerate())
        self.folder = Path(tempfile.mkdtemp())
        self.store = SQLiteEventStore(self.folder / "events.db", durability="off")
        self.system = ActorSystem("journal", ask_timeout=10.0)
        self.exports: list[dict[str, Any]] = []
        self.positions: list[tuple[int, dict[str, Any]]] = []
        self.options: dict[str, Any] = {}
        self.journal = BranchJournal(self.store)
        self.branch: BranchRef | None = None

    @initialize(max_logs=st.sampled_from([None, 2]), snapshot_every=st.sampled_from([None, 4]))
    def start(self, max_logs: int | None, snapshot_every: int | None) -> None:
        self.options = {**OPTIONS, "max_logs": max_logs}
        self.journal = BranchJournal(self.store, snapshot_every=snapshot_every)
        self.branch = spawn_branch(self.system, "main", journal=self.journal, **self.options)

    @property
    def live(self) -> BranchRef:
        assert self.branch is not None
        return self.branch

    @rule(message=messages)
    def add_message(self, message: Any) -> None:
        self.live.add_message(message)

    @rule(a=numbers, b=numbers)
    def invoke_ok(self, a: int, b: int) -> None:
        assert self.live.invoke("add", a=a, b=b).status is EventStatus.COMPLETED

    @rule(reason=words)
    def invoke_failing(self, reason: str) -> None:
        assert self.live.invoke("fail", reason=reason).status is EventStatus.FAILED

    @rule(a=numbers, b=numbers)
    def chat_with_tool(self, a: int, b: int) -> None:
        assert self.live.chat(f"add {a} and {b}").content == f"add: {a + b}"

    @rule(text=words)
    def chat_echo(self, text: str) -> None:
        assert self.live.chat(text).content == text

    @rule(steps=st.lists(words, min_size=1, max_size=2))
    def run_plan(self, steps: list[str]) -> None:
        assert len(self.live.run_plan("goal", steps).steps) == len(steps)

    @rule()
    def remember_export(self) -> None:
        export = self.live.export()  # its records are appended before it answers
        self.exports.append(export)
        self.positions.append((self.store.last_position(), export))

    @rule(data=st.data())
    def replay_up_to_a_remembered_position(self, data: st.DataObject) -> None:
        if self.positions:
            position, export = data.draw(st.sampled_from(self.positions))
            for use_snapshot in (False, True):
                got = replay_branch(
                    self.store, "branch-main", up_to_position=position, use_snapshot=use_snapshot
                )
                assert got == export

    @rule(data=st.data())
    def import_earlier(self, data: st.DataObject) -> None:
        if self.exports:
            self.live.import_state(data.draw(st.sampled_from(self.exports)))

    @rule()
    def live_snapshot(self) -> None:
        assert self.live.snapshot() is not None

    @rule()
    def store_snapshot(self) -> None:
        assert self.journal.snapshot("main") is not None

    @rule()
    def respawn(self) -> None:
        live = self.live.export()
        self.live.stop()
        self.branch = spawn_branch(self.system, "main", journal=self.journal, **self.options)
        assert self.live.export() == live

    @invariant()
    def replays_equal_the_live_state(self) -> None:
        if self.branch is None:
            return
        live = self.live.export()
        assert replay_branch(self.store, "branch-main", use_snapshot=False) == live
        assert replay_branch(self.store, "branch-main") == live

    def teardown(self) -> None:
        try:
            if self.branch is not None:
                live = self.live.export()
                self.live.stop()
                fresh = spawn_branch(self.system, "main", journal=self.journal, **self.options)
                assert fresh.export() == live
        finally:
            self.system.shutdown(timeout=10.0)
            self.store.close()
            shutil.rmtree(self.folder)
        left = [t for t in threading.enumerate() if t not in self.before and t.is_alive()]
        assert left == []


JournaledBranchMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=20, deadline=None
)
TestJournaledBranchMachine = pytest.mark.stateful(JournaledBranchMachine.TestCase)

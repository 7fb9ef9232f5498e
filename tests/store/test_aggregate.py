"""The generic mechanism: any Aggregate, loaded and kept in step by a Repository."""

import sqlite3
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic.store import (
    Aggregate,
    ConcurrencyError,
    NewRecord,
    Persisted,
    Repository,
    SQLiteEventStore,
    StoreClosedError,
)


class Notebook:
    """A Branch-like aggregate: JSON state, changed by named operations."""

    def __init__(self, stream_id: str) -> None:
        self._stream_id = stream_id
        self.entries: dict[str, str] = {}
        self.log: list[str] = []

    @property
    def stream_id(self) -> str:
        return self._stream_id

    def apply(self, record_type: str, payload: dict[str, Any]) -> None:
        if record_type == "set":
            self.entries[payload["key"]] = payload["value"]
        elif record_type == "delete":
            if payload["key"] not in self.entries:
                raise KeyError(payload["key"])
            del self.entries[payload["key"]]
        elif record_type == "note":
            self.log.append(payload["text"])
        else:
            raise ValueError(record_type)

    def snapshot_state(self) -> dict[str, Any]:
        return {"entries": dict(self.entries), "log": list(self.log)}

    def restore(self, state: dict[str, Any]) -> None:
        self.entries = dict(state["entries"])
        self.log = list(state["log"])


operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.sampled_from("abcd"), st.text(max_size=4)),
        st.tuples(st.just("delete"), st.sampled_from("abcd"), st.just("")),
        st.tuples(st.just("note"), st.just(""), st.text(max_size=4)),
        st.tuples(st.just("snapshot"), st.just(""), st.just("")),
    ),
    max_size=30,
)


class Tally:
    """An aggregate whose change is not idempotent: applying it twice counts twice."""

    def __init__(self, stream_id: str) -> None:
        self._stream_id = stream_id
        self.total = 0

    @property
    def stream_id(self) -> str:
        return self._stream_id

    def apply(self, record_type: str, payload: dict[str, Any]) -> None:
        self.total += payload["n"]

    def snapshot_state(self) -> dict[str, Any]:
        return {"total": self.total}

    def restore(self, state: dict[str, Any]) -> None:
        self.total = state["total"]


class TestRepository:
    def test_protocol(self):
        """A class with stream_id, apply, snapshot_state and restore is an Aggregate."""
        assert isinstance(Notebook("n"), Aggregate)

    @given(ops=operations)
    def test_replay_equals_live(self, tmp_path_factory, ops):
        """Random operations; replays from scratch and from snapshots equal the live state."""
        path = tmp_path_factory.mktemp("agg") / "e.db"
        with SQLiteEventStore(path, durability="off") as store:
            repo = Repository(store)
            live = repo.load(Notebook("nb"))
            for kind, key, value in ops:
                if kind == "snapshot":
                    live.snapshot()
                    continue
                payload = {"key": key, "value": value, "text": value}
                try:
                    live.record(kind, payload)
                except KeyError:
                    assert kind == "delete"
            state = live.aggregate.snapshot_state()
            assert live.version == store.stream_sequence("nb")
            for use_snapshot in (False, True):
                again = repo.load(Notebook("nb"), use_snapshot=use_snapshot)
                assert again.aggregate.snapshot_state() == state
                assert again.version == live.version

    def test_refused_change_appends_nothing(self, store):
        """apply() raising leaves the stream and the aggregate untouched."""
        live = Repository(store).load(Notebook("nb"))
        live.record("set", {"key": "a", "value": "1"})
        with pytest.raises(KeyError):
            live.record_many(
                [NewRecord("set", {"key": "b", "value": "2"}), NewRecord("delete", {"key": "z"})]
            )
        assert live.aggregate.entries == {"a": "1"}
        assert store.stream_sequence("nb") == 1

    def test_conflict_reloads_and_raises(self, store):
        """When another writer got there first, the handle reloads and raises."""
        repo = Repository(store)
        mine = repo.load(Notebook("nb"))
        theirs = repo.load(Notebook("nb"))
        theirs.record("set", {"key": "a", "value": "theirs"})
        with pytest.raises(ConcurrencyError):
            mine.record("set", {"key": "b", "value": "mine"})
        assert mine.aggregate.entries == {"a": "theirs"}
        assert mine.version == 1
        mine.record("set", {"key": "b", "value": "mine"})
        assert theirs.refresh() == 1
        assert theirs.aggregate.entries == mine.aggregate.entries

    def test_a_guarded_change_lands_only_while_its_guards_stand(self, store):
        """record_many(guards=...) writes nothing once a guard's stream has moved on."""
        repo = Repository(store)
        notes, checked = repo.load(Notebook("notes")), repo.load(Notebook("checked"))
        checked.record("set", {"key": "rule", "value": "v1"})
        notes.record_many([NewRecord("set", {"key": "a", "value": "1"})], guards=[checked])
        elsewhere = repo.load(Notebook("checked"))
        elsewhere.record("set", {"key": "rule", "value": "v2"})  # the guard moves on
        position = store.last_position()
        with pytest.raises(ConcurrencyError, match="'checked'"):
            notes.record_many([NewRecord("set", {"key": "b", "value": "2"})], guards=[checked])
        assert store.last_position() == position
        assert notes.aggregate.entries == {"a": "1"}  # taken back to the log
        assert checked.refresh() == 1
        notes.record_many([NewRecord("set", {"key": "b", "value": "2"})], guards=[checked])
        assert notes.aggregate.entries == {"a": "1", "b": "2"}
        assert store.stream_sequence("notes") == notes.version == 2

    def test_replay_up_to_position(self, store):
        """replay(up_to_position) shows the state at that point of the log."""
        repo = Repository(store, snapshot_every=2)
        live = repo.load(Notebook("nb"))
        positions = [
            live.record("set", {"key": "a", "value": str(n)}).last_position for n in range(6)
        ]
        for n, position in enumerate(positions):
            for use_snapshot in (False, True):
                past = repo.replay(
                    Notebook("nb"), up_to_position=position, use_snapshot=use_snapshot
                )
                assert past.entries == {"a": str(n)}

    def test_replay_before_the_first_position_is_the_initial_state(self, store):
        """replay(up_to_position) below 1 applies nothing, even with a snapshot to start from."""
        repo = Repository(store, snapshot_every=1)
        live = repo.load(Tally("t"))
        live.record("add", {"n": 3})
        for bound in (0, -1):
            assert repo.replay(Tally("t"), up_to_position=bound, use_snapshot=True).total == 0

    def test_idempotent_record(self, store):
        """A change re-sent with its idempotency key is not applied twice in the log."""
        live = Repository(store).load(Notebook("nb"))
        first = live.record("note", {"text": "x"}, idempotency_key="req-1")
        assert isinstance(live, Persisted)
        again = Repository(store).load(Notebook("nb"))
        assert again.aggregate.log == ["x"]
        assert first.positions == (1,)

    def test_a_resent_change_is_held_once(self, store):
        """A change re-sent with its key (a redelivered message) is in memory once, at its place."""
        repo = Repository(store, snapshot_every=1)
        live = repo.load(Tally("t"))
        live.record("add", {"n": 1}, idempotency_key="msg-1")
        live.record("add", {"n": 10}, idempotency_key="msg-2")
        again = live.record("add", {"n": 1}, idempotency_key="msg-1")
        assert again.deduplicated
        assert (live.aggregate.total, live.version, live.position) == (11, 2, 2)
        # The handle is still in step: the next change is no false conflict.
        assert live.record("add", {"n": 100}).sequences == (3,)
        assert live.aggregate.total == 111
        # No snapshot holds the change twice.
        for position, total in ((1, 1), (2, 11), (3, 111)):
            for use_snapshot in (False, True):
                past = repo.replay(Tally("t"), up_to_position=position, use_snapshot=use_snapshot)
                assert past.total == total

    def test_a_resent_change_of_a_fresh_handle_is_held_once(self, store):
        """A handle loaded after the change was committed does not apply its re-send again."""
        repo = Repository(store)
        repo.load(Tally("t")).record("add", {"n": 5}, idempotency_key="msg-1")
        later = repo.load(Tally("t"))
        later.record_many([NewRecord("add", {"n": 5}, idempotency_key="msg-1")])
        assert (later.aggregate.total, later.version) == (5, 1)
        assert repo.load(Tally("t")).aggregate.total == 5

    def test_a_failed_automatic_snapshot_does_not_fail_the_committed_change(self, store):
        """If the automatic snapshot cannot be saved, the committed change still returns."""
        other = sqlite3.connect(store.path)
        other.execute(
            "CREATE TRIGGER refuse_snapshots BEFORE INSERT ON snapshots "
            "BEGIN SELECT RAISE(FAIL, 'snapshots refused'); END"
        )
        other.commit()
        other.close()
        live = Repository(store, snapshot_every=1).load(Notebook("nb"))
        result = live.record("note", {"text": "x"})  # committed: must not raise
        assert (result.positions, live.version) == ((1,), 1)
        assert live.record("note", {"text": "y"}).positions == (2,)
        assert Repository(store).load(Notebook("nb")).aggregate.log == ["x", "y"]
        assert store.load_snapshot("nb") is None

    def test_an_automatic_snapshot_of_unencodable_state_does_not_fail_the_change(self, store):
        """State that cannot be saved as a snapshot (not JSON) does not fail a committed change."""

        class Tags(Tally):
            def apply(self, record_type: str, payload: dict[str, Any]) -> None:
                super().apply(record_type, payload)
                self.seen = {payload["n"]}  # a set: not JSON

            def snapshot_state(self) -> dict[str, Any]:
                return {"total": self.total, "seen": getattr(self, "seen", set())}

        live = Repository(store, snapshot_every=1).load(Tags("t"))
        result = live.record("add", {"n": 1})  # committed: must not raise
        assert (result.positions, live.version, live.aggregate.total) == ((1,), 1, 1)
        assert live.record("add", {"n": 2}).positions == (2,)
        assert store.stream_sequence("t") == 2
        assert store.load_snapshot("t") is None

    def test_a_change_after_close_leaves_the_aggregate_as_it_was(self, tmp_path):
        """After close(), record() refuses before applying; nothing held in memory is lost."""
        store = SQLiteEventStore(tmp_path / "e.db", durability="normal")
        live = Repository(store).load(Notebook("nb"))
        live.record("set", {"key": "a", "value": "1"})
        store.close()
        with pytest.raises(StoreClosedError):
            live.record("set", {"key": "b", "value": "2"})
        assert (live.aggregate.entries, live.version) == ({"a": "1"}, 1)
        # A caller that made its change itself: the closed store cannot be read to take
        # it back, so it stays, but nothing else is wiped.
        live.aggregate.apply("set", {"key": "c", "value": "3"})
        with pytest.raises(StoreClosedError):
            live.record("set", {"key": "c", "value": "3"}, applied=True)
        assert (live.aggregate.entries, live.version) == ({"a": "1", "c": "3"}, 1)

    def test_bad_snapshot_policy(self, store):
        """snapshot_every must be positive."""
        with pytest.raises(ValueError, match="snapshot_every"):
            Repository(store, snapshot_every=0)

"""SQLiteEventStore: appends, optimistic concurrency, idempotency, reads."""

import sqlite3
import threading

import pytest

from agentic.errors import AgenticError, SerializationError
from agentic.store import (
    AppendRequest,
    ConcurrencyError,
    EventStore,
    IdempotencyConflictError,
    NewRecord,
    Record,
    SQLiteEventStore,
    StoreClosedError,
    StoreError,
)


def rec(n: int, key: str | None = None, **extra) -> NewRecord:
    return NewRecord("t.tick", {"n": n}, idempotency_key=key, **extra)


class TestAppend:
    def test_positions_and_sequences_start_at_one(self, store):
        """The first records get position 1.. and sequence 1.. in their stream."""
        first = store.append("a", [rec(1), rec(2)])
        second = store.append("b", [rec(3)])
        assert first.positions == (1, 2)
        assert first.sequences == (1, 2)
        assert second.positions == (3,)
        assert second.sequences == (1,)
        assert (first.last_sequence, first.last_position) == (2, 2)

    def test_record_fields_round_trip(self, store):
        """Every field appended comes back on read."""
        store.append(
            "a",
            [NewRecord("x", {"k": [1, "two", None]}, "corr", "cause", "key")],
        )
        (record,) = store.read("a")
        assert record == Record(
            1, "a", 1, "x", {"k": [1, "two", None]}, record.timestamp, "corr", "cause", "key"
        )
        assert record.recorded_at.tzinfo is not None

    def test_empty_append_writes_nothing(self, store):
        """Appending no records returns empty positions and changes nothing."""
        result = store.append("a", [])
        assert result.positions == ()
        assert store.last_position() == 0
        assert store.streams() == []

    def test_store_satisfies_protocol(self, store):
        """SQLiteEventStore is an EventStore."""
        assert isinstance(store, EventStore)


class TestOptimisticConcurrency:
    def test_expected_zero_means_new_stream(self, store):
        """expected_sequence=0 succeeds on an empty stream and fails afterwards."""
        store.append("a", [rec(1)], expected_sequence=0)
        with pytest.raises(ConcurrencyError) as info:
            store.append("a", [rec(2)], expected_sequence=0)
        assert (info.value.stream, info.value.expected, info.value.actual) == ("a", 0, 1)
        assert "'a'" in str(info.value)

    def test_conflict_writes_nothing(self, store):
        """A conflicting append leaves the log unchanged."""
        store.append("a", [rec(1), rec(2)])
        with pytest.raises(ConcurrencyError):
            store.append("a", [rec(3), rec(4)], expected_sequence=1)
        assert [r.payload["n"] for r in store.read("a")] == [1, 2]
        assert store.last_position() == 2

    def test_matching_expectation_appends(self, store):
        """The stream's current sequence as expectation succeeds."""
        store.append("a", [rec(1)])
        assert store.append("a", [rec(2)], expected_sequence=1).sequences == (2,)

    def test_bad_expectation_is_rejected(self, store):
        """A negative expected sequence is a ValueError."""
        with pytest.raises(ValueError, match="expected_sequence"):
            store.append("a", [rec(1)], expected_sequence=-1)


class TestIdempotency:
    def test_resend_returns_original_positions(self, store):
        """Re-sending a committed append writes nothing and returns its positions."""
        first = store.append("a", [rec(1, "k1"), rec(2, "k2")], expected_sequence=0)
        store.append("b", [rec(9)])
        again = store.append("a", [rec(1, "k1"), rec(2, "k2")], expected_sequence=0)
        assert again.deduplicated
        assert (again.positions, again.sequences) == (first.positions, first.sequences)
        assert store.last_position() == 3

    def test_key_for_other_content_conflicts(self, store):
        """A stored key with a different type, stream or payload is an error."""
        store.append("a", [rec(1, "k1")])
        with pytest.raises(IdempotencyConflictError, match="k1"):
            store.append("a", [rec(2, "k1")])
        with pytest.raises(IdempotencyConflictError):
            store.append("b", [rec(1, "k1")])

    def test_partial_resend_conflicts(self, store):
        """A re-send that mixes stored and new keys is refused, nothing written."""
        store.append("a", [rec(1, "k1")])
        with pytest.raises(IdempotencyConflictError):
            store.append("a", [rec(1, "k1"), rec(2, "k2")])
        assert store.last_position() == 1

    def test_repeated_key_within_append(self, store):
        """One append may not use a key twice."""
        with pytest.raises(IdempotencyConflictError):
            store.append("a", [rec(1, "k"), rec(2, "k")])
        assert store.last_position() == 0

    def test_same_payload_in_other_key_order_is_a_resend(self, store):
        """Payload equality is by value, not by byte order."""
        store.append("a", [NewRecord("t", {"x": 1, "y": 2}, idempotency_key="k")])
        again = store.append("a", [NewRecord("t", {"y": 2, "x": 1}, idempotency_key="k")])
        assert again.deduplicated


class TestAppendMany:
    def test_all_streams_in_one_transaction(self, store):
        """append_many writes every part, positions in order."""
        results = store.append_many(
            [AppendRequest("a", [rec(1)]), AppendRequest("b", [rec(2), rec(3)], 0)]
        )
        assert [r.positions for r in results] == [(1,), (2, 3)]

    def test_one_conflict_fails_all(self, store):
        """A conflict in one part writes none of the parts."""
        store.append("b", [rec(0)])
        with pytest.raises(ConcurrencyError):
            store.append_many([AppendRequest("a", [rec(1)]), AppendRequest("b", [rec(2)], 0)])
        assert store.streams() == ["b"]
        assert store.last_position() == 1

    def test_a_key_repeated_across_parts_is_refused(self, store):
        """One append_many may not use a key twice, in one part or across parts."""
        with pytest.raises(IdempotencyConflictError, match="k1"):
            store.append_many(
                [AppendRequest("a", [rec(1, "k1")]), AppendRequest("a", [rec(1, "k1")])]
            )
        with pytest.raises(IdempotencyConflictError, match="k1"):
            store.append_many(
                [AppendRequest("a", [rec(1, "k1")]), AppendRequest("b", [rec(1, "k1")])]
            )
        assert store.last_position() == 0

    def test_empty_is_a_no_op(self, store):
        """append_many of nothing returns nothing."""
        assert store.append_many([]) == []


class TestValidation:
    @pytest.mark.parametrize(
        ("stream", "records", "error"),
        [
            ("", [NewRecord("t", {})], ValueError),
            ("a", [NewRecord("", {})], ValueError),
            ("a", [NewRecord("t", [1])], TypeError),  # type: ignore[arg-type]
            ("a", ["not a record"], TypeError),
            ("a", [NewRecord("t", {}, correlation_id=5)], TypeError),  # type: ignore[arg-type]
            ("a", [NewRecord("t", {"x": object()})], SerializationError),
        ],
    )
    def test_bad_input_is_refused_before_writing(self, store, stream, records, error):
        """Bad streams, types, payloads and ids raise and write nothing."""
        with pytest.raises(error):
            store.append(stream, records)
        assert store.last_position() == 0

    @pytest.mark.parametrize(
        ("stream", "record", "field"),
        [
            ("s\udc80", NewRecord("t", {}), "stream id"),
            ("s", NewRecord("t\udc80", {}), "type"),
            ("s", NewRecord("t", {}, correlation_id="c\udc80"), "correlation_id"),
            ("s", NewRecord("t", {}, causation_id="c\udc80"), "causation_id"),
            ("s", NewRecord("t", {}, idempotency_key="k\udc80"), "idempotency_key"),
        ],
    )
    def test_text_sqlite_cannot_store_is_refused_by_name(self, store, stream, record, field):
        """A lone surrogate (not UTF-8) in an id or type is a ValueError naming the field."""
        with pytest.raises(ValueError, match=f"{field} .*not valid UTF-8"):
            store.append(stream, [record])
        assert store.last_position() == 0
        assert store.append("s", [NewRecord("t", {"ok": "é"})]).positions == (1,)

    @pytest.mark.parametrize(
        "payload",
        [
            {"v": float("nan")},
            {"v": [1.0, float("inf")]},
            {"v": {"w": (float("-inf"),)}},
            {float("nan"): 1},
        ],
    )
    def test_a_float_json_cannot_hold_is_refused_not_stored_as_null(self, store, payload):
        """NaN and infinity have no JSON form: refused, not silently stored as null."""
        with pytest.raises(SerializationError, match=r"record 0 payload for 's'.*finite"):
            store.append("s", [NewRecord("t", payload)])
        with pytest.raises(SerializationError):
            store.append("s", [NewRecord("t", payload, idempotency_key="k")])
        assert store.last_position() == 0
        none = store.append("s", [NewRecord("t", {"v": None, "w": [None, 1.5]})])
        assert [r.payload for r in store.read("s")] == [{"v": None, "w": [None, 1.5]}]
        assert none.positions == (1,)


class TestReading:
    def test_read_from_sequence(self, store):
        """read(stream, from_sequence, to_sequence) is inclusive on both ends."""
        store.append("a", [rec(n) for n in range(1, 11)])
        assert [r.sequence for r in store.read("a", 4, to_sequence=6)] == [4, 5, 6]
        assert [r.sequence for r in store.read("a", 9)] == [9, 10]
        assert list(store.read("missing")) == []

    def test_read_all_filters(self, store):
        """read_all filters by stream, types and correlation id, keeping log order."""
        store.append("a", [NewRecord("x", {}, "c1"), NewRecord("y", {}, "c2")])
        store.append("b", [NewRecord("x", {}, "c1")])
        assert [r.position for r in store.read_all(stream="a")] == [1, 2]
        assert [r.position for r in store.read_all(types=["x"])] == [1, 3]
        assert [r.position for r in store.read_all(correlation_id="c1")] == [1, 3]
        assert [r.position for r in store.read_all(2, 3)] == [2, 3]
        assert [r.position for r in store.read_all(2, stream="b", types=["x"])] == [3]

    def test_negative_upper_bounds_mean_nothing_not_everything(self, store):
        """An upper position below 1 bounds reads and snapshots to nothing, like 0 does."""
        store.append("a", [rec(n) for n in range(1, 6)])
        store.save_snapshot("a", 5, {"upto": 5}, type="demo")
        for bound in (0, -1, -100):
            assert list(store.read_all(1, bound)) == []
            assert list(store.read_all(1, bound, stream="a")) == []
            assert store.load_snapshot("a", max_position=bound) is None

    def test_types_given_as_one_string_is_refused(self, store):
        """types="x" (a string, so its letters) is a TypeError, not a filter that matches nothing."""
        store.append("a", [NewRecord("x", {}), NewRecord("order.placed", {})])
        with pytest.raises(TypeError, match="types"):
            list(store.read_all(types="order.placed"))
        with pytest.raises(TypeError, match="types"):
            store.subscribe(types="order.placed")
        assert [r.position for r in store.read_all(types=["order.placed"])] == [2]

    def test_read_spans_pages(self, store):
        """Reads longer than a page return every record once, in order."""
        store.append("a", [rec(n) for n in range(5001)])
        assert [r.sequence for r in store.read("a")] == list(range(1, 5002))
        assert [r.position for r in store.read_all()] == list(range(1, 5002))

    def test_streams_and_heads(self, store):
        """streams() lists streams sorted; stream_sequence() gives each head."""
        store.append("b", [rec(1)])
        store.append("a", [rec(1), rec(2)])
        assert store.streams() == ["a", "b"]
        assert (store.stream_sequence("a"), store.stream_sequence("zz")) == (2, 0)


class TestSnapshots:
    def test_latest_snapshot_at_or_before_position(self, store):
        """load_snapshot returns the newest snapshot, optionally bounded by position."""
        store.append("a", [rec(n) for n in range(5)])
        store.save_snapshot("a", 2, {"upto": 2}, type="demo")
        store.save_snapshot("a", 4, {"upto": 4}, type="demo")
        assert store.load_snapshot("a").state == {"upto": 4}
        assert store.load_snapshot("a", max_position=3).state == {"upto": 2}
        assert store.load_snapshot("a", max_position=1) is None
        assert store.load_snapshot("b") is None

    def test_snapshot_needs_the_record(self, store):
        """A snapshot at a sequence the stream does not have is refused."""
        with pytest.raises(AgenticError, match="no such record"):
            store.save_snapshot("a", 1, {}, type="demo")

    def test_a_failed_snapshot_write_reports_its_own_cause(self, store):
        """When SQLite has already rolled the snapshot write back, the error still says why."""
        store.append("a", [rec(1)])
        other = sqlite3.connect(store.path)
        other.execute(
            "CREATE TRIGGER refuse_snapshots BEFORE INSERT ON snapshots "
            "BEGIN SELECT RAISE(ROLLBACK, 'snapshots refused'); END"
        )
        other.commit()
        other.close()
        with pytest.raises(StoreError, match="snapshots refused"):
            store.save_snapshot("a", 1, {}, type="demo")
        store.append("a", [rec(2)])  # the store is still usable afterwards
        assert store.stream_sequence("a") == 2


class TestLifecycle:
    def test_closed_store_refuses_work(self, tmp_path):
        """After close(), appends and reads raise StoreClosedError."""
        store = SQLiteEventStore(tmp_path / "e.db")
        store.append("a", [rec(1)])
        store.close()
        store.close()
        with pytest.raises(StoreClosedError):
            store.append("a", [rec(2)])
        with pytest.raises(StoreClosedError):
            store.last_position()

    def test_reopen_sees_the_log(self, tmp_path):
        """A store reopened on the same file continues the same log."""
        with SQLiteEventStore(tmp_path / "e.db") as store:
            store.append("a", [rec(1)])
        with SQLiteEventStore(tmp_path / "e.db") as store:
            assert store.append("a", [rec(2)], expected_sequence=1).positions == (2,)

    @pytest.mark.parametrize("durability", ["full", "normal", "off"])
    def test_durability_sets_synchronous(self, tmp_path, durability):
        """Each durability opens a working store; an unknown one is a ValueError."""
        with SQLiteEventStore(tmp_path / "e.db", durability=durability) as store:
            assert store.durability == durability
            assert store.append("a", [rec(1)]).positions == (1,)
            level = store._writer.execute("PRAGMA synchronous").fetchone()[0]
            assert level == {"full": 2, "normal": 1, "off": 0}[durability]

    @pytest.mark.parametrize(
        ("option", "value"),
        [("max_batch", 0), ("max_batch", -1), ("timeout", float("inf")), ("timeout", float("nan"))],
    )
    def test_bad_options_are_refused_before_opening(self, tmp_path, option, value):
        """A max_batch below 1 or a timeout that is not a finite number is refused; no file made."""
        with pytest.raises(ValueError, match=option):
            SQLiteEventStore(tmp_path / "e.db", **{option: value})
        assert list(tmp_path.iterdir()) == []

    def test_max_batch_of_one_commits_every_append(self, tmp_path):
        """The smallest group size still commits every append of many threads."""
        with SQLiteEventStore(tmp_path / "e.db", durability="off", max_batch=1) as store:
            threads = [
                threading.Thread(target=lambda: [store.append("s", [rec(i)]) for i in range(20)])
                for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert [r.position for r in store.read_all()] == list(range(1, 81))

    def test_unknown_durability(self, tmp_path):
        """An unknown durability is refused."""
        with pytest.raises(ValueError, match="durability"):
            SQLiteEventStore(tmp_path / "e.db", durability="fast")  # type: ignore[arg-type]


class TestGroupIsolation:
    def test_one_failed_request_does_not_fail_its_group(self, store):
        """In one group commit, a conflicting request fails alone; the others commit."""
        from agentic.store._commit import _Request, encode_part

        store.append("a", [rec(0)])
        bad = _Request(
            [encode_part("b", [rec(1)], None), encode_part("a", [rec(2)], 0)]
        )  # second part conflicts: the first must be undone too
        good = _Request([encode_part("b", [rec(3)], 0)])
        after = _Request([encode_part("a", [rec(4)], 1)])
        dup_key = _Request([encode_part("c", [rec(5, "k")], None)])
        dup_again = _Request([encode_part("c", [rec(5, "k")], None)])
        store._committer._write([bad, good, after, dup_key, dup_again])
        assert isinstance(bad.error, ConcurrencyError)
        assert good.results[0].positions == (2,)
        assert after.results[0].sequences == (2,)
        assert dup_again.results[0].deduplicated
        assert dup_again.results[0].positions == dup_key.results[0].positions == (4,)
        assert [(r.stream, r.sequence, r.payload["n"]) for r in store.read_all()] == [
            ("a", 1, 0),
            ("b", 1, 3),
            ("a", 2, 4),
            ("c", 1, 5),
        ]

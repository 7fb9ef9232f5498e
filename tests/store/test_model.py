"""The store against a model: random appends, conflicts and re-sends, checked by reads."""

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from agentic.store import (
    AppendRequest,
    ConcurrencyError,
    IdempotencyConflictError,
    NewRecord,
    SQLiteEventStore,
)

STREAMS = st.sampled_from(["a", "b", "c"])


class StoreModel(RuleBasedStateMachine):
    """A list of (stream, sequence, type, payload, key) is the model of the log."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        self.store = SQLiteEventStore(self.dir / "e.db", durability="off")
        self.log: list[tuple[str, int, str, dict, str | None]] = []
        self.sent: dict[tuple[str, ...], tuple[str, list[NewRecord], tuple[int, ...]]] = {}
        self.counter = 0

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def head(self, stream: str) -> int:
        return sum(1 for entry in self.log if entry[0] == stream)

    def new_records(self, count: int, keyed: bool) -> list[NewRecord]:
        records = []
        for _ in range(count):
            self.counter += 1
            key = f"k{self.counter}" if keyed else None
            records.append(
                NewRecord(f"t{self.counter % 3}", {"n": self.counter}, idempotency_key=key)
            )
        return records

    def commit(self, stream: str, records: list[NewRecord]) -> tuple[int, ...]:
        positions = []
        for record in records:
            self.log.append(
                (stream, self.head(stream) + 1, record.type, record.payload, record.idempotency_key)
            )
            positions.append(len(self.log))
        return tuple(positions)

    @rule(
        stream=STREAMS,
        count=st.integers(0, 4),
        keyed=st.booleans(),
        check=st.sampled_from(["none", "right", "wrong"]),
    )
    def append(self, stream, count, keyed, check):
        records = self.new_records(count, keyed)
        head = self.head(stream)
        expected = {"none": None, "right": head, "wrong": head + 1}[check]
        if check == "wrong":
            with pytest.raises(ConcurrencyError):
                self.store.append(stream, records, expected_sequence=expected)
            return
        result = self.store.append(stream, records, expected_sequence=expected)
        positions = self.commit(stream, records)
        assert result.positions == positions
        assert result.sequences == tuple(range(head + 1, head + count + 1))
        assert not result.deduplicated
        if keyed and records:
            self.sent[tuple(r.idempotency_key for r in records)] = (stream, records, positions)

    @rule(data=st.data(), stale=st.booleans())
    def resend(self, data, stale):
        if not self.sent:
            return
        keys = data.draw(st.sampled_from(sorted(self.sent)))
        stream, records, positions = self.sent[keys]
        expected = 0 if stale else None
        result = self.store.append(stream, records, expected_sequence=expected)
        assert result.deduplicated
        assert result.positions == positions

    @rule(data=st.data())
    def misuse_key(self, data):
        if not self.sent:
            return
        keys = data.draw(st.sampled_from(sorted(self.sent)))
        stream, records, _ = self.sent[keys]
        changed = [records[0]._replace(payload={"other": True})]
        with pytest.raises(IdempotencyConflictError):
            self.store.append(stream, changed)

    @rule(
        parts=st.lists(st.tuples(STREAMS, st.integers(1, 3), st.booleans()), min_size=1, max_size=3)
    )
    def append_many(self, parts):
        requests = []
        heads = {}
        ok = True
        for stream, count, right in parts:
            head = heads.get(stream, self.head(stream))
            records = self.new_records(count, keyed=False)
            requests.append(AppendRequest(stream, records, head if right else head + 7))
            heads[stream] = head + count
            ok = ok and right
        if not ok:
            with pytest.raises(ConcurrencyError):
                self.store.append_many(requests)
            return
        results = self.store.append_many(requests)
        for request, result in zip(requests, results, strict=True):
            assert result.positions == self.commit(request.stream, list(request.records))

    @invariant()
    def reads_match_model(self):
        stored = [
            (r.stream, r.sequence, r.type, r.payload, r.idempotency_key)
            for r in self.store.read_all()
        ]
        assert stored == self.log
        assert self.store.last_position() == len(self.log)
        assert self.store.streams() == sorted({entry[0] for entry in self.log})
        for stream in ("a", "b", "c"):
            mine = [entry for entry in self.log if entry[0] == stream]
            assert [
                (r.stream, r.sequence, r.type, r.payload, r.idempotency_key)
                for r in self.store.read(stream)
            ] == mine
            assert self.store.stream_sequence(stream) == len(mine)


TestStoreModel = StoreModel.TestCase
TestStoreModel.settings = settings(settings.default, stateful_step_count=30, deadline=None)
TestStoreModel = pytest.mark.stateful(TestStoreModel)

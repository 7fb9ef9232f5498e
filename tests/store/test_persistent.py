"""PersistentPile and PersistentProgression: every change recorded, replay rebuilds it."""

import shutil
import tempfile
import threading
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agentic.errors import AgenticError, ItemTypeError
from agentic.primitives import Element, Pile, Progression
from agentic.store import (
    ConcurrencyError,
    CorruptRecordError,
    NewRecord,
    PersistentPile,
    PersistentProgression,
    Repository,
    SQLiteEventStore,
    StoreClosedError,
)


class Note(Element, type_name="tests.store.Note"):
    text: str = ""


class Task(Note, type_name="tests.store.Task"):
    done: bool = False


class Other(Element, type_name="tests.store.Other"):
    pass


def same_pile(a: Pile, b: Pile) -> None:
    assert a == b
    assert a.to_dict() == b.to_dict()
    assert [type(x) for x in a] == [type(x) for x in b]


class TestPersistentPile:
    def test_every_change_is_a_record_and_replays(self, store):
        """Each change appends one record; reopening gives an equal pile."""
        pile = PersistentPile.open(store, "notes", item_type=Note, name="inbox")
        a, b, c = Note(text="a"), Task(text="b"), Note(text="c")
        pile.include([a, b])
        pile.insert(0, c)
        pile.move(a, 2)
        pile.update(Task(id=b.id, created_at=b.created_at, text="B", done=True))
        pile.remove(c)
        assert pile.exclude([c, a]) == 1
        pile.include(a)
        assert pile.pop(0) == b
        types = [r.type for r in store.read("notes")]
        assert types == [
            "pile.created",
            "pile.include",
            "pile.insert",
            "pile.move",
            "pile.update",
            "pile.remove",
            "pile.remove",
            "pile.include",
            "pile.remove",
        ]
        same_pile(pile, PersistentPile.open(store, "notes"))
        assert pile.name == "inbox"

    def test_no_op_changes_append_nothing(self, store):
        """Including a present item, excluding an absent one, clearing empty: no record."""
        pile = PersistentPile.open(store, "p")
        a = Note()
        pile.include(a)
        before = store.last_position()
        pile.include(a)
        assert pile.exclude(uuid4()) == 0
        assert pile.pop(uuid4(), None) is None
        pile.remove([])
        assert store.last_position() == before
        pile.clear()
        pile.clear()
        assert [r.type for r in store.read("p")][-2:] == ["pile.include", "pile.clear"]

    def test_failed_change_records_nothing(self, store):
        """A change the Pile refuses raises its error and appends nothing."""
        pile = PersistentPile.open(store, "p", item_type=Note, strict=True)
        a = Note()
        pile.include(a)
        before = store.last_position()
        with pytest.raises(ItemTypeError):
            pile.include([Note(), Task()])
        with pytest.raises(ItemTypeError):
            pile.include(5)
        with pytest.raises(ItemTypeError):
            pile.include([Note(), {"not": "an element"}])
        with pytest.raises(KeyError):
            pile.remove([a, uuid4()])
        with pytest.raises(IndexError):
            pile.move(a, 5)
        with pytest.raises(ValueError):
            pile.insert(0, a)
        assert store.last_position() == before
        assert list(pile) == [a]

    def test_snapshot_then_tail(self, store):
        """Load = latest snapshot + the records after it; the result is the same."""
        pile = PersistentPile.open(store, "p")
        pile.include([Note(text=str(n)) for n in range(10)])
        snap = pile.snapshot()
        assert snap is not None
        assert snap.sequence == pile.persisted.version
        pile.remove(pile[3])
        pile.include(Task(text="late"))
        same_pile(pile, PersistentPile.open(store, "p"))
        same_pile(pile, PersistentPile.open(store, "p", use_snapshot=False))

    def test_snapshot_every(self, store):
        """A Repository with snapshot_every snapshots as records accumulate."""
        repo = Repository(store, snapshot_every=3)
        pile = PersistentPile.open(repo, "p")
        for n in range(7):
            pile.include(Note(text=str(n)))
        snap = store.load_snapshot("p")
        assert snap is not None
        assert snap.sequence >= 6
        same_pile(pile, PersistentPile.open(store, "p"))

    def test_replay_up_to_position(self, store):
        """Repository.replay rebuilds the pile as it was at a past position."""
        pile = PersistentPile.open(store, "p")
        a, b = Note(text="a"), Note(text="b")
        pile.include(a)
        at = store.last_position()
        pile.include(b)
        pile.remove(a)
        past = PersistentPile("p", item_type=Note, id=pile.id)
        Repository(store).replay(past, up_to_position=at)
        assert list(past) == [a]

    def test_existing_stream_keeps_its_settings(self, store):
        """Reopening uses the stored item type; a different one is refused."""
        PersistentPile.open(store, "p", item_type=Note, strict=True)
        reopened = PersistentPile.open(store, "p")
        assert (reopened.item_type, reopened.strict) == (Note, True)
        with pytest.raises(ItemTypeError, match=r"tests\.store\.Note"):
            PersistentPile.open(store, "p", item_type=Other)

    def test_stream_of_something_else(self, store):
        """Opening a pile on a stream that holds other records is a clear error."""
        store.append("x", [NewRecord("hello", {})])
        with pytest.raises(CorruptRecordError, match="does not hold a pile"):
            PersistentPile.open(store, "x")
        with pytest.raises(CorruptRecordError, match="does not hold a progression"):
            PersistentProgression.open(store, "x")

    def test_malformed_records_name_their_position(self, store):
        """A created record or a change the pile cannot replay is a CorruptRecordError."""
        store.append("p1", [NewRecord("pile.created", {"id": "nope"})])
        with pytest.raises(CorruptRecordError, match="malformed") as info:
            PersistentPile.open(store, "p1")
        assert info.value.position == 1
        store.append("q", [NewRecord("progression.created", {"name": None})])
        with pytest.raises(CorruptRecordError, match="malformed"):
            PersistentProgression.open(store, "q")
        pile = PersistentPile.open(store, "p2")
        pile.include(Note())
        store.append("p2", [NewRecord("pile.remove", {"ids": [str(uuid4())]})])
        store.append("p2", [NewRecord("pile.explode", {})])
        with pytest.raises(CorruptRecordError, match="cannot be replayed") as info:
            PersistentPile.open(store, "p2")
        assert info.value.position == store.last_position() - 1

    def test_unknown_record_and_foreign_snapshot_name_their_position(self, store):
        """A record type the pile does not know, or a snapshot of another pile, names where."""
        PersistentPile.open(store, "p")
        store.append("other", [NewRecord("t", {})])
        store.append("p", [NewRecord("pile.explode", {})])
        with pytest.raises(CorruptRecordError, match=r"position 3 .*pile\.explode") as info:
            PersistentPile.open(store, "p")
        assert info.value.position == 3
        PersistentProgression.open(store, "q")
        store.save_snapshot("q", 1, {"id": str(uuid4()), "order": []}, type="x")
        with pytest.raises(
            CorruptRecordError, match="snapshot of stream 'q' at position 4"
        ) as info:
            PersistentProgression.open(store, "q")
        assert info.value.position == 4

    def test_concurrent_writer_conflict_reloads(self, store, tmp_path):
        """Two handles on one stream: the stale one gets ConcurrencyError and catches up."""
        with SQLiteEventStore(store.path, durability="normal") as other_store:
            mine = PersistentPile.open(store, "p")
            theirs = PersistentPile.open(other_store, "p")
            a, b = Note(text="a"), Note(text="b")
            theirs.include(a)
            with pytest.raises(ConcurrencyError):
                mine.include(b)
            assert list(mine) == [a]  # reloaded: their change in, ours out
            mine.include(b)
            theirs.persisted.refresh()
            same_pile(mine, theirs)

    def test_threads_share_one_pile(self, store):
        """Many threads changing one pile: the replay equals the live pile."""
        pile = PersistentPile.open(store, "p")

        def work() -> None:
            for _ in range(20):
                note = Note()
                pile.include(note)
                pile.move(note, 0)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(pile) == 120
        same_pile(pile, PersistentPile.open(store, "p"))

    def test_not_open_pile_refuses_changes(self):
        """A PersistentPile built without open() refuses changes clearly."""
        pile = PersistentPile("p", item_type=Note)
        with pytest.raises(RuntimeError, match="not open"):
            pile.clear()


class TestClosedStore:
    def test_a_change_after_close_is_refused_and_changes_nothing(self, tmp_path):
        """Once the store is closed, a change raises StoreClosedError and the object keeps its state."""
        path = tmp_path / "e.db"
        store = SQLiteEventStore(path, durability="normal")
        pile = PersistentPile.open(store, "p", item_type=Note)
        prog = PersistentProgression.open(store, "o")
        a, b = Note(text="a"), Note(text="b")
        pile.include([a, b])
        prog.extend([a.id, b.id])
        store.close()
        changes = [
            lambda: pile.include(Note(text="c")),
            lambda: pile.update(Note(id=a.id, text="A")),
            lambda: pile.remove(a),
            lambda: pile.move(a, 1),
            pile.clear,
            lambda: prog.append(uuid4()),
            lambda: prog.remove(a.id),
            prog.reverse,
            prog.clear,
        ]
        for change in changes:
            with pytest.raises(StoreClosedError):
                change()
        assert list(pile) == [a, b]
        assert pile[a.id].text == "a"
        assert prog.ids() == [a.id, b.id]
        with SQLiteEventStore(path) as reopened:
            same_pile(pile, PersistentPile.open(reopened, "p"))
            assert PersistentProgression.open(reopened, "o") == prog


class TestPersistentProgression:
    def test_every_change_replays(self, store):
        """Each Progression change is recorded and replays to an equal order."""
        prog = PersistentProgression.open(store, "order", name="plan")
        ids = [uuid4() for _ in range(6)]
        prog.extend(ids[:3])
        prog.append(ids[3])
        assert prog.include(ids[4])
        assert not prog.include(ids[4])
        prog.insert(1, ids[5])
        prog.move(ids[0], -1)
        prog.swap(0, 2)
        prog.reverse()
        prog.remove(ids[1])
        assert prog.exclude(ids[2])
        assert not prog.exclude("not-an-id")
        prog.pop()
        prog.popleft()
        again = PersistentProgression.open(store, "order")
        assert again == prog
        assert (again.id, again.name) == (prog.id, "plan")
        prog.snapshot()
        prog.clear()
        assert PersistentProgression.open(store, "order").ids() == []

    def test_failed_change_records_nothing(self, store):
        """A refused change appends nothing."""
        prog = PersistentProgression.open(store, "o")
        key = uuid4()
        prog.append(key)
        before = store.last_position()
        for bad in (lambda: prog.append(key), lambda: prog.remove(uuid4()), lambda: prog.pop(5)):
            with pytest.raises(AgenticError):
                bad()
        assert store.last_position() == before


# -- the property: random operations, then replays equal the live state ------------------


class PersistedStateMachine(RuleBasedStateMachine):
    """Random changes on a persisted pile and progression, mirrored on plain ones."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        self.store = SQLiteEventStore(self.dir / "e.db", durability="off")
        self.pile = PersistentPile.open(self.store, "pile", item_type=Note)
        self.model = Pile(item_type=Note, id=self.pile.id)
        self.prog = PersistentProgression.open(self.store, "prog")
        self.model_prog = Progression(id=self.prog.id)
        self.known: list[Note] = []

    def teardown(self) -> None:
        self.check_replay()
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def both(self, op):
        """Apply op to the persisted and the plain object: same result or same error."""
        try:
            expected = op(self.model)
        except Exception as exc:
            with pytest.raises(type(exc)):
                op(self.pile)
            return None
        got = op(self.pile)
        assert got == expected
        return got

    def both_prog(self, op):
        try:
            expected = op(self.model_prog)
        except Exception as exc:
            with pytest.raises(type(exc)):
                op(self.prog)
            return None
        got = op(self.prog)
        assert got == expected
        return got

    notes = st.builds(
        lambda kind, text: kind(text=text),
        st.sampled_from([Note, Task]),
        st.text(max_size=5),
    )

    def pick(self, data_index: int):
        return self.known[data_index % len(self.known)] if self.known else Note()

    @rule(items=st.lists(notes, max_size=3))
    def include(self, items):
        self.known.extend(items)
        self.both(lambda p: p.include(items))

    @rule(index=st.integers(-4, 6), items=st.lists(notes, max_size=2))
    def insert(self, index, items):
        self.known.extend(items)
        self.both(lambda p: p.insert(index, items))

    @rule(i=st.integers(0, 50), text=st.text(max_size=3), done=st.booleans())
    def update(self, i, text, done):
        old = self.pick(i)
        new = Task(id=old.id, created_at=old.created_at, text=text, done=done)
        self.both(lambda p: p.update(new))

    @rule(i=st.integers(0, 50), j=st.integers(0, 50))
    def remove(self, i, j):
        self.both(lambda p: p.remove([self.pick(i), self.pick(j)]))

    @rule(i=st.integers(0, 50))
    def exclude(self, i):
        self.both(lambda p: p.exclude([self.pick(i), uuid4()]))

    @rule(index=st.integers(-3, 3))
    def pop(self, index):
        self.both(lambda p: p.pop(index, None))

    @rule(i=st.integers(0, 50), index=st.integers(-3, 5))
    def move(self, i, index):
        self.both(lambda p: p.move(self.pick(i), index))

    @rule()
    def clear(self):
        self.both(lambda p: p.clear())

    @rule(count=st.integers(1, 3))
    def prog_extend(self, count):
        keys = [uuid4() for _ in range(count)]
        self.both_prog(lambda p: p.extend(keys))

    @rule(index=st.integers(-3, 5))
    def prog_insert(self, index):
        key = uuid4()
        self.both_prog(lambda p: p.insert(index, key))

    @rule(index=st.integers(-3, 3))
    def prog_pop(self, index):
        self.both_prog(lambda p: p.pop(index))

    @precondition(lambda self: len(self.model_prog) > 0)
    @rule(i=st.integers(0, 50), index=st.integers(-3, 5))
    def prog_move(self, i, index):
        key = self.model_prog[i % len(self.model_prog)]
        self.both_prog(lambda p: p.move(key, index))

    @precondition(lambda self: len(self.model_prog) > 0)
    @rule(i=st.integers(0, 50))
    def prog_exclude(self, i):
        key = self.model_prog[i % len(self.model_prog)]
        self.both_prog(lambda p: p.exclude(key))

    @rule(i=st.integers(-3, 3), j=st.integers(-3, 3))
    def prog_swap(self, i, j):
        self.both_prog(lambda p: p.swap(i, j))

    @rule()
    def prog_reverse(self):
        self.both_prog(lambda p: p.reverse())

    @rule()
    def prog_clear(self):
        self.both_prog(lambda p: p.clear())

    @rule()
    def snapshot(self):
        self.pile.snapshot()
        self.prog.snapshot()

    @invariant()
    def live_matches_model(self):
        same_pile(self.pile, self.model)
        assert self.prog == self.model_prog

    @rule()
    def check_replay(self):
        """From scratch and from the latest snapshot, on a fresh connection."""
        with SQLiteEventStore(self.store.path) as fresh:
            for use_snapshot in (False, True):
                same_pile(self.pile, PersistentPile.open(fresh, "pile", use_snapshot=use_snapshot))
                prog = PersistentProgression.open(fresh, "prog", use_snapshot=use_snapshot)
                assert prog == self.prog
                assert prog.id == self.prog.id


TestPersistedStateMachine = PersistedStateMachine.TestCase
TestPersistedStateMachine.settings = settings(
    settings.default, stateful_step_count=30, deadline=None
)
TestPersistedStateMachine = pytest.mark.stateful(TestPersistedStateMachine)

"""Tests for agentic.primitives.progression: order semantics, errors, operators, a state machine."""

from __future__ import annotations

import types
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from agentic.errors import (
    ElementNotFoundError,
    IdInProgressionError,
    IdNotInProgressionError,
    ProgressionIndexError,
    SerializationError,
)
from agentic.primitives import Element, Progression


def ids(n: int) -> list[UUID]:
    return [uuid4() for _ in range(n)]


def state(p: Progression) -> tuple[list[UUID], str | None, UUID]:
    return (p.ids(), p.name, p.id)


class TestReading:
    def test_order_length_and_positions(self):
        """Ids keep the order given; positions work like a list's, negatives included."""
        a, b, c = ids(3)
        p = Progression([a, b, c], name="plan")
        assert list(p) == [a, b, c]
        assert len(p) == 3
        assert (p[0], p[1], p[-1], p[-3]) == (a, b, c, a)
        assert list(reversed(p)) == [c, b, a]
        assert p.index(c) == 2

    def test_membership_by_uuid_string_and_element(self):
        """`in` accepts a UUID, a UUID string or an Element; nonsense is simply absent."""
        e = Element()
        p = Progression([e])
        assert e in p
        assert e.id in p
        assert str(e.id) in p
        assert uuid4() not in p
        assert "not an id" not in p
        assert 42 not in p

    def test_slices_are_new_progressions(self):
        """A slice is a new Progression with the same name, in list slice order."""
        keys = ids(6)
        p = Progression(keys, name="n")
        for s in (slice(1, 4), slice(None, None, -1), slice(0, 6, 2), slice(10, 20)):
            part = p[s]
            assert isinstance(part, Progression)
            assert part.ids() == keys[s]
            assert part.name == "n"
            assert part.id != p.id

    def test_empty_progression(self):
        """An empty progression is falsy and has length 0."""
        p = Progression()
        assert not p
        assert len(p) == 0
        assert list(p) == []


class TestAdding:
    def test_append_include_extend_insert(self):
        """append/extend add at the end, insert before a position, include only if absent."""
        a, b, c, d, e = ids(5)
        p = Progression()
        p.append(a)
        p.extend([b, c])
        p.insert(1, d)
        assert p.include(e) is True
        assert p.include(a) is False
        assert p.ids() == [a, d, b, c, e]

    @pytest.mark.parametrize("index", [-100, -3, -1, 0, 1, 2, 3, 100])
    def test_insert_matches_list_insert(self, index):
        """insert(i, x) puts x where list.insert(i, x) would, clamped like a list."""
        keys = ids(3)
        new = uuid4()
        p = Progression(keys)
        p.insert(index, new)
        expected = list(keys)
        expected.insert(index, new)
        assert p.ids() == expected

    def test_many_inserts_at_one_spot_stay_ordered(self):
        """Hundreds of inserts at the same middle position keep exact list order."""
        keys = ids(10)
        p = Progression(keys)
        model = list(keys)
        for _ in range(300):
            new = uuid4()
            p.insert(5, new)
            model.insert(5, new)
        assert p.ids() == model
        assert [p.index(k) for k in model] == list(range(len(model)))

    def test_append_of_a_present_id(self):
        """append of a present id raises IdInProgressionError naming it; nothing changes."""
        a, b = ids(2)
        p = Progression([a, b], name="plan")
        before = state(p)
        with pytest.raises(
            IdInProgressionError, match=rf"id {a} is already in progression 'plan'"
        ) as info:
            p.append(a)
        assert info.value.key == a
        assert state(p) == before

    def test_insert_of_a_present_id(self):
        """insert of a present id raises IdInProgressionError; nothing changes."""
        a, b = ids(2)
        p = Progression([a, b])
        before = state(p)
        with pytest.raises(IdInProgressionError, match=str(b)):
            p.insert(0, b)
        assert state(p) == before

    def test_extend_is_all_or_nothing(self):
        """extend with a present or repeated id adds nothing and names the id."""
        a, b, c = ids(3)
        p = Progression([a])
        before = state(p)
        with pytest.raises(IdInProgressionError, match=str(a)):
            p.extend([b, a])
        with pytest.raises(IdInProgressionError, match=str(c)):
            p.extend([b, c, c])
        with pytest.raises(ElementNotFoundError, match="'junk' is not an element id"):
            p.extend([b, "junk"])
        assert state(p) == before

    def test_constructor_refuses_repeats(self):
        """Creating a progression from ids with a repeat raises IdInProgressionError."""
        a = uuid4()
        with pytest.raises(IdInProgressionError, match=str(a)):
            Progression([a, a])


class TestRemoving:
    def test_remove_exclude_pop_popleft_clear(self):
        """remove/exclude take ids out; pop/popleft take positions; clear empties."""
        a, b, c, d = ids(4)
        p = Progression([a, b, c, d])
        p.remove(b)
        assert p.exclude(b) is False
        assert p.exclude(c) is True
        assert p.pop() == d
        p.append(d)
        assert p.popleft() == a
        assert p.ids() == [d]
        p.clear()
        assert p.ids() == []
        p.append(a)
        assert p.ids() == [a]

    def test_remove_of_a_missing_id(self):
        """remove of an absent id raises IdNotInProgressionError (a KeyError) naming it."""
        p = Progression(ids(2), name="q")
        missing = uuid4()
        before = state(p)
        with pytest.raises(
            IdNotInProgressionError, match=rf"id {missing} is not in progression 'q'"
        ) as info:
            p.remove(missing)
        assert isinstance(info.value, KeyError)
        assert state(p) == before

    def test_index_of_a_missing_id(self):
        """index of an absent id raises IdNotInProgressionError."""
        with pytest.raises(IdNotInProgressionError):
            Progression(ids(1)).index(uuid4())

    @pytest.mark.parametrize("index", [2, -3, 10])
    def test_pop_out_of_range(self, index):
        """pop of a position outside raises ProgressionIndexError (an IndexError) naming it."""
        p = Progression(ids(2))
        before = state(p)
        with pytest.raises(ProgressionIndexError, match=f"cannot pop position {index}") as info:
            p.pop(index)
        assert isinstance(info.value, IndexError)
        assert state(p) == before

    def test_pop_from_empty(self):
        """pop and popleft on an empty progression raise ProgressionIndexError."""
        with pytest.raises(ProgressionIndexError, match=r"\(0 ids\)"):
            Progression().pop()
        with pytest.raises(ProgressionIndexError):
            Progression().popleft()

    def test_exclude_of_nonsense_is_false(self):
        """exclude of something that is not an id returns False."""
        assert Progression(ids(1)).exclude("nonsense") is False

    def test_middle_removals_on_a_long_progression(self):
        """Removing 10k ids from the middle of 100k leaves exactly the rest, in order."""
        keys = ids(100_000)
        p = Progression(keys)
        doomed = set(keys[25_000:75_000:5])
        for key in doomed:
            p.remove(key)
        assert p.ids() == [k for k in keys if k not in doomed]


class TestPositionsOutOfRange:
    @pytest.mark.parametrize("index", [3, -4])
    def test_getitem(self, index):
        """Reading a position outside raises ProgressionIndexError naming the position."""
        with pytest.raises(ProgressionIndexError, match=f"position {index} is out of range"):
            Progression(ids(3))[index]

    def test_getitem_with_a_wrong_kind_of_index(self):
        """Indexing with anything but int or slice raises TypeError naming the type."""
        with pytest.raises(TypeError, match="not UUID"):
            Progression(ids(1))[uuid4()]  # type: ignore[call-overload]


class TestReordering:
    @pytest.mark.parametrize(("index", "target"), [(0, 0), (-1, 4), (2, 2), (4, 4), (-5, 0)])
    def test_move_puts_the_id_at_the_position(self, index, target):
        """move(x, i) leaves x at position i, the others in their order."""
        keys = ids(5)
        p = Progression(keys)
        p.move(keys[1], index)
        assert p.index(keys[1]) == target
        assert [k for k in p if k != keys[1]] == [k for k in keys if k != keys[1]]

    def test_move_errors_change_nothing(self):
        """move of a missing id or to an outside position raises; nothing changes."""
        keys = ids(3)
        p = Progression(keys)
        before = state(p)
        with pytest.raises(IdNotInProgressionError):
            p.move(uuid4(), 0)
        with pytest.raises(ProgressionIndexError, match="cannot move to position 3"):
            p.move(keys[0], 3)
        assert state(p) == before

    def test_swap_and_reverse(self):
        """swap exchanges two positions; reverse reverses in place."""
        a, b, c = ids(3)
        p = Progression([a, b, c])
        p.swap(0, 2)
        assert p.ids() == [c, b, a]
        p.swap(1, 1)
        assert p.ids() == [c, b, a]
        p.reverse()
        assert p.ids() == [a, b, c]
        p.append(d := uuid4())
        assert p.ids() == [a, b, c, d]

    def test_swap_out_of_range(self):
        """swap with a position outside raises ProgressionIndexError; nothing changes."""
        p = Progression(ids(2))
        before = state(p)
        with pytest.raises(ProgressionIndexError):
            p.swap(0, 5)
        assert state(p) == before


class TestOperators:
    def test_add_and_subtract(self):
        """`+` appends what is new (one id or many); `-` drops what is named."""
        a, b, c = ids(3)
        p = Progression([a, b], name="p")
        assert (p + [b, c]).ids() == [a, b, c]  # noqa: RUF005 - the operator under test
        assert (p + c).ids() == [a, b, c]
        assert (p + Progression([c])).ids() == [a, b, c]
        assert (p - [a]).ids() == [b]
        assert (p - b).ids() == [a]
        assert (p - str(a)).ids() == [b]
        assert p.ids() == [a, b]  # operands unchanged
        assert (p + c).name == "p"

    def test_equality(self):
        """Progressions are equal when their ids are in the same order."""
        a, b = ids(2)
        assert Progression([a, b]) == Progression([a, b], name="other")
        assert Progression([a, b]) != Progression([b, a])
        assert Progression([a]) != [a]

    def test_unhashable(self):
        """A Progression is mutable, hence unhashable."""
        with pytest.raises(TypeError):
            hash(Progression())

    def test_copy_is_independent(self):
        """copy has the same order and name, a new id, and changes apart."""
        p = Progression(ids(2), name="n")
        q = p.copy()
        q.append(uuid4())
        assert (len(p), len(q), q.name, q.id != p.id) == (2, 3, "n", True)


class TestSerialization:
    @given(st.lists(st.uuids(), unique=True, max_size=20), st.none() | st.text(max_size=10))
    def test_round_trip(self, keys, name):
        """to_json then from_json gives the same id, name and order."""
        p = Progression(keys, name=name)
        q = Progression.from_json(p.to_json())
        assert (q.ids(), q.name, q.id) == (keys, name, p.id)

    @pytest.mark.parametrize(
        ("doc", "message"),
        [
            ([], "must be an object with an 'order' list"),
            ({"order": "x"}, "must be an object with an 'order' list"),
            ({"order": [], "name": 3}, "name must be a string, not int"),
            ({"order": ["bad"]}, "invalid progression document"),
            ({"order": [], "id": "bad"}, "invalid progression document"),
        ],
    )
    def test_bad_documents(self, doc, message):
        """A document of the wrong shape raises SerializationError saying what is wrong."""
        with pytest.raises(SerializationError, match=message):
            Progression.from_dict(doc)

    def test_repeated_id_in_a_document(self):
        """A document that repeats an id raises SerializationError naming it."""
        a = uuid4()
        with pytest.raises(SerializationError, match=f"invalid progression document: id {a}"):
            Progression.from_dict({"order": [str(a), str(a)]})

    def test_malformed_json(self):
        """Malformed JSON raises SerializationError."""
        with pytest.raises(SerializationError, match="malformed JSON in progression document"):
            Progression.from_json("{")


class ProgressionMachine(RuleBasedStateMachine):
    """Drive a Progression with random operations against a plain list."""

    known = Bundle("known")

    def __init__(self) -> None:
        super().__init__()
        self.p = Progression(name="machine")
        self.model: list[UUID] = []

    @rule(target=known)
    def append_new(self) -> UUID:
        key = uuid4()
        self.p.append(key)
        self.model.append(key)
        return key

    @rule(target=known, index=st.integers(-15, 15))
    def insert_new(self, index: int) -> UUID:
        key = uuid4()
        self.p.insert(index, key)
        self.model.insert(index, key)
        return key

    @rule(key=known)
    def include(self, key: UUID) -> None:
        added = self.p.include(key)
        assert added == (key not in self.model)
        if added:
            self.model.append(key)

    @rule(key=known)
    def append_existing_or_new(self, key: UUID) -> None:
        if key in self.model:
            with pytest.raises(IdInProgressionError):
                self.p.append(key)
        else:
            self.p.append(key)
            self.model.append(key)

    @rule(key=known)
    def exclude(self, key: UUID) -> None:
        assert self.p.exclude(key) == (key in self.model)
        if key in self.model:
            self.model.remove(key)

    @rule(key=consumes(known))
    def remove(self, key: UUID) -> None:
        if key in self.model:
            self.p.remove(str(key))
            self.model.remove(key)
        else:
            with pytest.raises(IdNotInProgressionError):
                self.p.remove(key)

    @rule(index=st.integers(-15, 15))
    def pop(self, index: int) -> None:
        if -len(self.model) <= index < len(self.model):
            assert self.p.pop(index) == self.model.pop(index)
        else:
            with pytest.raises(ProgressionIndexError):
                self.p.pop(index)

    @precondition(lambda self: self.model)
    @rule()
    def popleft(self) -> None:
        assert self.p.popleft() == self.model.pop(0)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(self.model))
        index = data.draw(st.integers(-len(self.model), len(self.model) - 1))
        self.p.move(key, index)
        self.model.remove(key)
        target = index + len(self.model) + 1 if index < 0 else index
        self.model.insert(target, key)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def swap(self, data: st.DataObject) -> None:
        i = data.draw(st.integers(-len(self.model), len(self.model) - 1))
        j = data.draw(st.integers(-len(self.model), len(self.model) - 1))
        self.p.swap(i, j)
        self.model[i], self.model[j] = self.model[j], self.model[i]

    @rule()
    def reverse(self) -> None:
        self.p.reverse()
        self.model.reverse()

    @rule(start=st.none() | st.integers(-15, 15), stop=st.none() | st.integers(-15, 15))
    def slice_matches(self, start: int | None, stop: int | None) -> None:
        assert self.p[start:stop].ids() == self.model[start:stop]

    @rule(key=known)
    def operators(self, key: UUID) -> None:
        assert (self.p - key).ids() == [k for k in self.model if k != key]
        plus = self.model + ([] if key in self.model else [key])
        assert (self.p + key).ids() == plus

    @invariant()
    def same_as_model(self) -> None:
        assert self.p.ids() == self.model
        assert len(self.p) == len(self.model)
        if self.model:
            middle = self.model[len(self.model) // 2]
            assert self.p.index(middle) == len(self.model) // 2
            assert self.p[-1] == self.model[-1]


TestProgressionMachine = pytest.mark.stateful(ProgressionMachine.TestCase)
TestProgressionMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


class TestLayout:
    """Progression's rank index lives in a private base class; callers see one class."""

    def test_a_progression_has_no_instance_dict(self):
        """Progression and its rank index declare __slots__, so it has no __dict__."""
        progression = Progression([uuid4()])
        assert not hasattr(progression, "__dict__")

    def test_public_methods_are_documented_where_callers_find_them(self):
        """Every public attribute of Progression, inherited or not, has a docstring."""
        # Slots (`name`) are plain attributes, documented in __init__.
        public = [
            name
            for name in dir(Progression)
            if not name.startswith("_")
            and not isinstance(getattr(Progression, name), types.MemberDescriptorType)
        ]
        assert [name for name in public if not getattr(Progression, name).__doc__] == []

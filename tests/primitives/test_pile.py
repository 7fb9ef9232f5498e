"""Tests for agentic.primitives.pile: typed ordered access, all-or-nothing writes, threads."""

from __future__ import annotations

import asyncio
import random
import threading
import types
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule
from tests.strategies import element_classes, instances_of, piles

from agentic.errors import (
    ElementExistsError,
    ElementNotFoundError,
    ItemTypeError,
    ProgressionIndexError,
    SerializationError,
    UnknownElementTypeError,
)
from agentic.primitives import TYPE_KEY, Element, Pile, Progression


class Note(Element, type_name="test.pile.Note"):
    text: str = ""


class Urgent(Note, type_name="test.pile.Urgent"):
    level: int = 1


class Other(Element, type_name="test.pile.Other"):
    pass


def notes(n: int) -> list[Note]:
    return [Note(text=f"n{i}") for i in range(n)]


def state(pile: Pile[Any]) -> tuple[list[UUID], list[Element], int]:
    """Everything a failed operation must leave as it was."""
    return (pile.keys(), pile.values(), len(pile))


class TestReading:
    def test_lookup_by_id_uuid_string_and_element(self):
        """pile[x] finds an item by UUID, UUID string (any case) or Element."""
        a, b = notes(2)
        pile = Pile([a, b], item_type=Note)
        assert pile[a.id] is a
        assert pile[str(b.id)] is b
        assert pile[str(b.id).upper()] is b
        assert pile[b.id.hex] is b
        assert pile[a] is a

    def test_lookup_by_position_slice_and_progression(self):
        """pile[i], pile[i:j] and pile[progression] follow positions and the given order."""
        items = notes(5)
        pile = Pile(items, item_type=Note)
        assert (pile[0], pile[-1]) == (items[0], items[-1])
        for s in (slice(1, 3), slice(None, None, -2), slice(4, 100)):
            assert pile[s] == items[s]
        other_order = Progression([items[3], items[0]])
        assert pile[other_order] == [items[3], items[0]]
        assert pile[pile.order] == items

    def test_membership(self):
        """`in` accepts an Element, a UUID or a UUID string; nonsense is absent."""
        a, b = notes(2)
        pile = Pile([a])
        assert a in pile
        assert a.id in pile
        assert str(a.id) in pile
        assert b not in pile
        assert "nonsense" not in pile
        assert 3 not in pile

    def test_get_with_default(self):
        """get returns the item, or the default for a missing id, bad id or position."""
        a = Note()
        pile = Pile([a], item_type=Note)
        assert pile.get(a.id) is a
        assert pile.get(uuid4()) is None
        assert pile.get("junk", "dflt") == "dflt"
        assert pile.get(5, a) is a
        assert pile.get(0) is a

    def test_keys_values_items_and_iteration(self):
        """keys/values/items/iteration all follow the pile's order."""
        items = notes(4)
        pile = Pile(items)
        assert pile.keys() == [i.id for i in items]
        assert pile.values() == items
        assert pile.items() == [(i.id, i) for i in items]
        assert list(pile) == items
        assert pile.index(items[2]) == 2
        assert len(pile) == 4
        assert bool(pile)
        assert not Pile()

    def test_order_is_a_copy(self):
        """Changing the returned order does not change the pile."""
        pile = Pile(notes(3))
        order = pile.order
        order.reverse()
        assert pile.keys() != order.ids()
        assert order.id == pile.order.id

    def test_missing_id(self):
        """pile[missing] raises ElementNotFoundError (a KeyError) naming the id and pile."""
        pile = Pile(notes(1), item_type=Note, name="inbox")
        missing = uuid4()
        for key in (missing, str(missing)):
            with pytest.raises(
                ElementNotFoundError,
                match=rf"no element with id {missing} in pile 'inbox' of test\.pile\.Note",
            ) as info:
                pile[key]
            assert info.value.key == missing
            assert isinstance(info.value, KeyError)

    def test_bad_id(self):
        """pile['junk'] raises ElementNotFoundError naming the value."""
        with pytest.raises(ElementNotFoundError, match="'junk' is not an element id"):
            Pile()["junk"]

    def test_position_out_of_range(self):
        """pile[i] outside raises ProgressionIndexError (an IndexError) naming position and pile."""
        pile = Pile(notes(2), name="p")
        with pytest.raises(
            ProgressionIndexError, match=r"position 2 is out of range for pile 'p'"
        ) as info:
            pile[2]
        assert isinstance(info.value, IndexError)

    def test_progression_with_a_foreign_id(self):
        """pile[progression] with an id not in the pile raises ElementNotFoundError naming it."""
        stranger = uuid4()
        with pytest.raises(ElementNotFoundError, match=str(stranger)):
            Pile(notes(1))[Progression([stranger])]

    def test_index_of_a_missing_id(self):
        """index of an absent id raises ElementNotFoundError."""
        with pytest.raises(ElementNotFoundError):
            Pile(notes(1)).index(uuid4())


class TestTyping:
    def test_subclasses_allowed_unless_strict(self):
        """A pile takes subclasses of its item type, unless strict."""
        Pile([Urgent()], item_type=Note)
        with pytest.raises(
            ItemTypeError, match=r"accepts exactly 'test\.pile\.Note', not 'test\.pile\.Urgent'"
        ):
            Pile([Urgent()], item_type=Note, strict=True)

    def test_wrong_type_on_include(self):
        """Including a wrong type raises ItemTypeError naming both types; nothing is added."""
        pile = Pile(notes(2), item_type=Note, name="box")
        before = state(pile)
        with pytest.raises(
            ItemTypeError,
            match=r"pile 'box' of test\.pile\.Note \(2 items\) accepts 'test\.pile\.Note', not 'test\.pile\.Other'",
        ) as info:
            pile.include(Other())
        assert (info.value.expected, info.value.actual) == (Note, Other)
        with pytest.raises(ItemTypeError, match="not 'int'"):
            pile.include(5)  # type: ignore[arg-type]
        with pytest.raises(ItemTypeError, match="not 'str'"):
            pile.include(["x"])  # type: ignore[list-item]
        assert state(pile) == before

    def test_a_parametrized_pile_takes_its_argument_as_item_type(self):
        """`Pile[Note](...)` holds Notes: other items are refused, then and later."""
        pile = Pile[Note](notes(2), name="box")
        assert pile.item_type is Note
        with pytest.raises(ItemTypeError, match=r"not 'test\.pile\.Other'"):
            pile.include(Other())
        other = Other()
        with pytest.raises(ItemTypeError, match=rf"cannot hold 'test\.pile\.Other' {other.id}"):
            Pile[Note]([Note(), other])
        with pytest.raises(ItemTypeError, match=r"cannot be a Pile\[Note\]"):
            Pile[Note](item_type=Other)  # type: ignore[arg-type]
        assert Pile[Note](item_type=Urgent).item_type is Urgent  # narrower still: kept
        with pytest.raises(ItemTypeError, match="accepts exactly"):
            Pile[Note]([Urgent()], strict=True)
        assert Pile.from_dict(Pile[Note]().to_dict()).item_type is Note

    def test_item_type_must_be_an_element_class(self):
        """A non-Element item type raises ItemTypeError naming it."""
        with pytest.raises(ItemTypeError, match="must be an Element subclass, not <class 'int'>"):
            Pile(item_type=int)  # type: ignore[type-var]

    def test_of_type_and_filter(self):
        """of_type keeps instances of a class; filter keeps items a predicate accepts; both in order."""
        a, b, c = Note(text="a"), Urgent(text="b"), Note(text="c")
        pile = Pile([a, b, c], item_type=Note)
        assert list(pile.of_type(Urgent)) == [b]
        assert list(pile.of_type(Note)) == [a, b, c]
        assert list(pile.of_type(Note, strict=True)) == [a, c]
        assert pile.of_type(Urgent).item_type is Urgent
        picked = pile.filter(lambda n: n.text != "b")
        assert list(picked) == [a, c]
        assert picked.item_type is Note


class TestWriting:
    def test_include_appends_and_skips_present(self):
        """include adds at the end and skips ids already present."""
        a, b, c = notes(3)
        pile = Pile([a])
        pile.include([b, a, c])
        pile.include(b)
        assert pile.values() == [a, b, c]

    def test_include_is_all_or_nothing(self):
        """A batch with one wrong item adds nothing."""
        pile = Pile(notes(1), item_type=Note)
        before = state(pile)
        with pytest.raises(ItemTypeError):
            pile.include([Note(), Other(), Note()])
        assert state(pile) == before

    @pytest.mark.parametrize("index", [-100, -2, -1, 0, 1, 3, 100])
    def test_insert_many_matches_list_slice_assignment(self, index):
        """insert(i, batch) places the batch where list[i:i] = batch would (clamped)."""
        items = notes(3)
        batch = notes(3)
        pile = Pile(items)
        pile.insert(index, batch)
        size = len(items)
        start = max(0, index + size) if index < 0 else min(index, size)
        expected = items[:start] + batch + items[start:]
        assert pile.values() == expected

    def test_insert_is_all_or_nothing(self):
        """insert with a present id, a repeat in the batch, or a wrong type inserts nothing."""
        items = notes(3)
        pile = Pile(items, item_type=Note, name="p")
        before = state(pile)
        fresh = Note()
        with pytest.raises(
            ElementExistsError, match=rf"an element with id {items[1].id} is already in pile 'p'"
        ) as info:
            pile.insert(0, [fresh, items[1]])
        assert info.value.key == items[1].id
        with pytest.raises(ElementExistsError, match=str(fresh.id)):
            pile.insert(1, [fresh, fresh])
        with pytest.raises(ItemTypeError):
            pile.insert(1, [fresh, Other()])
        with pytest.raises(ElementExistsError):
            pile.insert(0, items[0])
        assert state(pile) == before

    def test_update_replaces_in_place_and_appends_new(self):
        """update replaces items by id (keeping position) and adds the new ones at the end."""
        a, b = notes(2)
        pile = Pile([a, b], item_type=Note)
        a2 = Note(id=a.id, text="new a")
        c = Note()
        pile.update([a2, c])
        assert pile.values() == [a, b, c]
        assert pile[a.id] is a2

    def test_update_is_all_or_nothing(self):
        """An update batch with a wrong type (or a subclass, when strict) changes nothing."""
        a, b = notes(2)
        pile = Pile([a, b], item_type=Note, strict=True)
        before = state(pile)
        first = pile.values()
        with pytest.raises(ItemTypeError, match="accepts exactly"):
            pile.update([Note(id=a.id, text="x"), Note(), Urgent(id=b.id)])
        assert state(pile) == before
        assert all(pile[k] is item for k, item in zip(pile.keys(), first, strict=True))

    def test_remove_is_all_or_nothing(self):
        """remove of a batch with a missing id removes nothing and names the id."""
        items = notes(3)
        pile = Pile(items)
        missing = uuid4()
        before = state(pile)
        with pytest.raises(ElementNotFoundError, match=str(missing)):
            pile.remove([items[0], missing])
        with pytest.raises(ElementNotFoundError, match="'junk' is not an element id"):
            pile.remove([items[0], "junk"])
        with pytest.raises(ElementNotFoundError, match="not int"):
            pile.remove(7)
        assert state(pile) == before
        pile.remove([items[0], str(items[2].id)])
        assert pile.values() == [items[1]]

    def test_exclude_ignores_what_is_absent(self):
        """exclude removes what is present, ignores the rest (bad ids included), and counts."""
        items = notes(3)
        pile = Pile(items)
        assert pile.exclude([items[0], uuid4(), "junk", items[0]]) == 1
        assert pile.exclude(items[1].id) == 1
        assert pile.exclude(items[1]) == 0
        assert pile.values() == [items[2]]

    def test_pop_by_position_and_id(self):
        """pop takes the last by default, or a position, or an id."""
        items = notes(4)
        pile = Pile(items)
        assert pile.pop() is items[3]
        assert pile.pop(0) is items[0]
        assert pile.pop(str(items[2].id)) is items[2]
        assert pile.values() == [items[1]]

    def test_pop_errors_and_defaults(self):
        """pop of a missing id or position raises naming it, unless a default is given."""
        pile = Pile(notes(2), name="p")
        before = state(pile)
        missing = uuid4()
        with pytest.raises(ElementNotFoundError, match=str(missing)):
            pile.pop(missing)
        with pytest.raises(ProgressionIndexError, match="cannot pop position 5 from pile 'p'"):
            pile.pop(5)
        assert pile.pop(missing, None) is None
        assert pile.pop(9, "d") == "d"
        assert pile.pop("junk", 0) == 0
        assert state(pile) == before
        with pytest.raises(ProgressionIndexError):
            Pile().pop()

    def test_move_and_clear(self):
        """move puts an item at a position; clear empties the pile."""
        a, b, c = notes(3)
        pile = Pile([a, b, c])
        pile.move(c, 0)
        assert pile.values() == [c, a, b]
        with pytest.raises(ElementNotFoundError):
            pile.move(uuid4(), 0)
        with pytest.raises(ProgressionIndexError):
            pile.move(a, 3)
        assert pile.values() == [c, a, b]
        pile.clear()
        assert (len(pile), pile.values()) == (0, [])

    def test_constructor_refuses_duplicates(self):
        """Creating a pile from items sharing an id raises ElementExistsError."""
        a = Note()
        with pytest.raises(ElementExistsError, match=str(a.id)):
            Pile([a, Note(id=a.id)])


class TestSetOperators:
    def test_union_intersection_difference(self):
        """|, & and - return new piles in the left pile's order; operands are unchanged."""
        a, b, c, d = notes(4)
        left = Pile([a, b, c], item_type=Note, name="L")
        right = Pile([d, c, a], item_type=Note)
        assert list(left | right) == [a, b, c, d]
        assert list(left & right) == [a, c]
        assert list(left - right) == [b]
        assert (left | right).item_type is Note
        assert (left - right).name == "L"
        assert left.values() == [a, b, c]
        assert right.values() == [d, c, a]

    def test_union_respects_the_item_type(self):
        """A union with items the left pile cannot hold raises ItemTypeError."""
        with pytest.raises(ItemTypeError):
            Pile(notes(1), item_type=Note) | Pile([Other()])  # type: ignore[operator]

    def test_equality(self):
        """Piles are equal with the same id, item type, strictness and ordered items."""
        items = notes(2)
        pile = Pile(items, item_type=Note)
        twin = Pile(items, item_type=Note, id=pile.id)
        assert pile == twin
        assert pile != Pile(items, item_type=Note)
        assert pile != Pile(list(reversed(items)), item_type=Note, id=pile.id)
        assert pile != Pile(items, item_type=Note, strict=True, id=pile.id)
        assert pile != items
        with pytest.raises(TypeError):
            hash(pile)


class TestSerialization:
    @given(piles())
    def test_round_trip_keeps_everything(self, pile):
        """A pile comes back with its id, name, item type, strictness, order and item classes."""
        restored = Pile.from_json(pile.to_json())
        assert restored == pile
        assert restored.item_type is pile.item_type
        assert restored.strict == pile.strict
        assert restored.name == pile.name
        assert [type(i) for i in restored] == [type(i) for i in pile]
        assert [i.model_dump() for i in restored] == [i.model_dump() for i in pile]

    @settings(max_examples=30)
    @given(piles(), st.data())
    def test_reloaded_pile_rejects_what_the_original_rejects(self, pile, data):
        """The reloaded pile refuses exactly the items the original refuses."""
        restored = Pile.from_json(pile.to_json())
        outsider = data.draw(element_classes().flatmap(instances_of))
        subclass = data.draw(element_classes(pile.item_type).flatmap(instances_of))
        for candidate in (outsider, subclass):
            outcomes = []
            for target in (pile, restored):
                try:
                    target.include(candidate)
                    outcomes.append("ok")
                    target.exclude(candidate)
                except ItemTypeError:
                    outcomes.append("rejected")
            assert outcomes[0] == outcomes[1]

    def test_pickle_and_copies(self):
        """pickle, copy and deepcopy give an equal pile with its own lock and order."""
        import copy
        import pickle

        pile = Pile([Urgent(text="u"), Note(text="n")], item_type=Note, strict=False, name="p")
        for clone in (pickle.loads(pickle.dumps(pile)), copy.copy(pile), copy.deepcopy(pile)):
            assert clone == pile
            assert (clone.item_type, clone.strict, clone.name) == (Note, False, "p")
            assert [type(i) for i in clone] == [Urgent, Note]
            clone.include(Note())
            assert len(pile) == 2
        assert copy.copy(pile)[0] is pile[0]
        assert copy.deepcopy(pile)[0] is not pile[0]

    def test_document_names_types(self):
        """The document names the item type and each item's type."""
        pile = Pile([Urgent()], item_type=Note, strict=False)
        doc = pile.to_dict()
        assert doc["item_type"] == "test.pile.Note"
        assert doc["items"][0][TYPE_KEY] == "test.pile.Urgent"
        assert doc["strict"] is False

    @pytest.mark.parametrize(
        ("doc", "error", "message"),
        [
            ([], SerializationError, "must be an object with an 'items' list"),
            ({"items": {}}, SerializationError, "must be an object with an 'items' list"),
            ({"items": [], "strict": "yes"}, SerializationError, "'strict' must be true or false"),
            ({"items": [], "name": 1}, SerializationError, "name must be a string, not int"),
            ({"items": [], "id": "nope"}, SerializationError, "invalid pile id 'nope'"),
            ({"items": [], "item_type": "no.Such"}, UnknownElementTypeError, "'no.Such'"),
            ({"items": [{TYPE_KEY: "no.Such"}]}, UnknownElementTypeError, "'no.Such'"),
            ({"items": [3]}, SerializationError, "must be a JSON object"),
        ],
    )
    def test_bad_documents(self, doc, error, message):
        """A malformed document raises our error saying what is wrong."""
        with pytest.raises(error, match=message):
            Pile.from_dict(doc)

    def test_item_of_the_wrong_type_in_a_document(self):
        """An item the document's item type does not allow raises ItemTypeError."""
        doc = Pile([Note()], item_type=Note).to_dict()
        doc["items"].append(Other().to_dict())
        with pytest.raises(ItemTypeError, match=r"test\.pile\.Other"):
            Pile.from_dict(doc)
        doc = Pile([Note()], item_type=Note, strict=True).to_dict()
        doc["items"].append(Urgent().to_dict())
        with pytest.raises(ItemTypeError, match="accepts exactly"):
            Pile.from_dict(doc)

    def test_repeated_id_in_a_document(self):
        """A document with the same id twice raises SerializationError naming it."""
        a = Note()
        doc = Pile([a]).to_dict()
        doc["items"].append(a.to_dict())
        with pytest.raises(SerializationError, match=str(a.id)):
            Pile.from_dict(doc)

    def test_malformed_json(self):
        """Malformed JSON raises SerializationError."""
        with pytest.raises(SerializationError, match="malformed JSON in pile document"):
            Pile.from_json(b"[")

    def test_as_a_field_of_an_element(self):
        """A `Pile[Note]` field checks the pile's item type when validated."""

        class Box(Element, type_name="test.pile.Box"):
            content: Pile[Note]

        box = Box(content=Pile([Urgent()], item_type=Note))
        back = Element.from_json(box.to_json())
        assert isinstance(back, Box)
        assert type(back.content[0]) is Urgent
        with pytest.raises(ItemTypeError, match=r"expected a pile of 'test\.pile\.Note'"):
            Box(content=Pile([Other()]))

    def test_a_wider_pile_whose_items_fit_becomes_the_fields_type(self):
        """`Pile([note])` (item type Element) fits a `Pile[Note]` field as a typed copy."""

        class Tray(Element, type_name="test.pile.Tray"):
            content: Pile[Note]

        items = [Note(), Urgent(), Note()]
        loose = Pile(items, name="in")
        tray = Tray(content=loose)
        assert tray.content.item_type is Note
        assert (tray.content.id, tray.content.name, list(tray.content)) == (loose.id, "in", items)
        assert loose.item_type is Element  # the pile passed in is not changed
        other = Other()
        with pytest.raises(ItemTypeError, match=f"holding 'test.pile.Other' {other.id}"):
            Tray(content=Pile([Note(), other]))

    def test_json_schema_of_an_element_with_pile_and_progression_fields(self):
        """An Element with Pile and Progression fields has a JSON Schema: their documents'."""

        class Desk(Element, type_name="test.pile.Desk"):
            content: Pile[Note]
            order: Progression | None = None

        schema = Desk.model_json_schema()
        content = schema["properties"]["content"]
        assert content["required"] == ["items"]
        assert content["properties"]["items"]["items"] == {"$ref": "#/$defs/Note"}
        assert content["properties"]["$type"]["const"] == "Pile"
        order = schema["properties"]["order"]["anyOf"][0]
        assert order["properties"]["order"]["items"] == {"format": "uuid", "type": "string"}
        desk = Desk(content=Pile([Note()], item_type=Note), order=Progression())
        document = desk.to_dict()
        assert set(document["content"]) <= set(content["properties"])
        assert set(document["order"]) <= set(order["properties"])


class TestAsyncio:
    def test_many_tasks_share_a_pile(self):
        """Tasks on one event loop and threads beside it include into one pile exactly once each."""
        pile: Pile[Note] = Pile(item_type=Note)
        items = notes(2000)

        async def task(chunk: list[Note]) -> None:
            for item in chunk:
                pile.include(item)
                await asyncio.sleep(0)

        async def main() -> None:
            helper = threading.Thread(target=pile.include, args=(items[1000:],))
            helper.start()
            await asyncio.gather(*(task(items[i : i + 100]) for i in range(0, 1000, 100)))
            await asyncio.to_thread(helper.join)

        asyncio.run(main())
        assert len(pile) == 2000
        assert set(pile.keys()) == {i.id for i in items}


class TestConcurrency:
    THREADS = 8
    OPS_PER_THREAD = 13_000  # 104k operations in all

    def test_mixed_operations_from_eight_threads(self):
        """8 threads x 13k mixed ops on one pile end in exactly the state their own models predict.

        Each thread works on its own ids, so its own model (a list) says exactly which of
        its items must remain and in which relative order; iterations during the writes
        must see each thread's own items exactly as that thread last left them.
        """
        pile: Pile[Note] = Pile(item_type=Note)
        models: list[list[Note]] = [[] for _ in range(self.THREADS)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(self.THREADS)
        op_counts = [0] * self.THREADS

        def work(me: int) -> None:
            rng = random.Random(me)
            model = models[me]
            mine: set[UUID] = set()
            barrier.wait()
            try:
                for step in range(self.OPS_PER_THREAD):
                    roll = rng.random()
                    if roll < 0.25 or not model:
                        item = Note(text=f"{me}")
                        pile.include(item)
                        model.append(item)
                        mine.add(item.id)
                    elif roll < 0.30:
                        batch = [Note(text=f"{me}") for _ in range(3)]
                        pile.insert(0, batch)
                        model[0:0] = batch
                        mine.update(i.id for i in batch)
                    elif roll < 0.45:
                        victim = model.pop(rng.randrange(len(model)))
                        assert pile.exclude(victim) == 1
                        mine.discard(victim.id)
                    elif roll < 0.60:
                        victim = model.pop(rng.randrange(len(model)))
                        assert pile.pop(victim.id) is victim
                        mine.discard(victim.id)
                    elif roll < 0.85:
                        probe = model[rng.randrange(len(model))]
                        assert pile[probe.id] is probe
                        assert pile.get(str(uuid4())) is None
                    elif roll < 0.997:
                        pile.include(model[0])  # present: must be a no-op
                        assert model[0].id in pile
                    else:
                        seen = [item for item in pile if item.id in mine]
                        assert seen == model, f"thread {me}: snapshot disagrees at step {step}"
                    op_counts[me] += 1
            except BaseException as exc:
                errors.append(exc)
                raise

        threads = [threading.Thread(target=work, args=(i,)) for i in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[0]
        assert sum(op_counts) >= 100_000
        assert len(pile) == sum(len(m) for m in models)
        final = pile.values()
        assert len({i.id for i in final}) == len(final)
        for me, model in enumerate(models):
            assert [i for i in final if i.text == f"{me}"] == model
        assert pile.keys() == [i.id for i in final]
        assert [pile.index(i) for i in final[:50]] == list(range(min(50, len(final))))

    def test_iteration_during_writes_sees_snapshots(self):
        """A reader iterating while writers include and exclude always sees a consistent state."""
        pile: Pile[Note] = Pile(item_type=Note)
        done = threading.Event()
        problems: list[str] = []

        def writer(me: int) -> None:
            for counter in range(6000):
                item = Note(text=f"{me}:{counter}")
                pile.include(item)
                if counter % 3 == 0:
                    pile.exclude(item)

        def reader() -> None:
            while not done.is_set():
                snapshot = list(pile)
                by_writer: dict[str, list[int]] = {}
                for item in snapshot:
                    who, number = item.text.split(":")
                    by_writer.setdefault(who, []).append(int(number))
                for numbers in by_writer.values():
                    # Each writer's items appear in the order written, excluded ones never.
                    if numbers != sorted(numbers) or any(n % 3 == 0 for n in numbers[:-1]):
                        problems.append(f"inconsistent snapshot: {numbers[:10]}")
                if len({i.id for i in snapshot}) != len(snapshot):
                    problems.append("duplicate in snapshot")

        watcher = threading.Thread(target=reader)
        watcher.start()
        writers = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        done.set()
        watcher.join()
        assert problems == []
        assert len(pile) == 3 * 4000


class PileMachine(RuleBasedStateMachine):
    """Drive a Pile with random operations against a dict + list model."""

    seen = Bundle("seen")

    def __init__(self) -> None:
        super().__init__()
        self.pile: Pile[Note] = Pile(item_type=Note, name="machine")
        self.by_id: dict[UUID, Note] = {}
        self.order: list[UUID] = []

    def check_unchanged(self, before: tuple[list[UUID], dict[UUID, Note]]) -> None:
        assert (self.pile.keys(), {i.id: i for i in self.pile}) == before

    def snapshot(self) -> tuple[list[UUID], dict[UUID, Note]]:
        return (list(self.order), dict(self.by_id))

    @rule(target=seen, urgent=st.booleans())
    def include_new(self, urgent: bool) -> Note:
        item = Urgent() if urgent else Note()
        self.pile.include(item)
        self.by_id[item.id] = item
        self.order.append(item.id)
        return item

    @rule(item=seen)
    def include_again(self, item: Note) -> None:
        self.pile.include(item)
        if item.id not in self.by_id:
            self.by_id[item.id] = item
            self.order.append(item.id)

    @rule(target=seen, index=st.integers(-10, 10), size=st.integers(1, 3))
    def insert_batch(self, index: int, size: int) -> Note:
        batch = [Note() for _ in range(size)]
        self.pile.insert(index, batch)
        self.order[index:index] = [b.id for b in batch]  # list slicing clamps like insert
        for b in batch:
            self.by_id[b.id] = b
        return batch[0]

    @precondition(lambda self: len(self.order) >= 2)
    @rule()
    def crowd_one_spot(self) -> None:
        # Enough inserts between the same neighbours to exhaust float ranks (renumbering).
        for _ in range(80):  # before the last: ranks near 1 or more run out after ~52
            item = Note()
            self.pile.insert(-1, item)
            self.order.insert(-1, item.id)
            self.by_id[item.id] = item

    @rule(item=seen, index=st.integers(-5, 5))
    def insert_present_fails(self, item: Note, index: int) -> None:
        if item.id in self.by_id:
            before = self.snapshot()
            with pytest.raises(ElementExistsError):
                self.pile.insert(index, [Note(), item])
            self.check_unchanged(before)

    @rule()
    def wrong_type_fails(self) -> None:
        before = self.snapshot()
        with pytest.raises(ItemTypeError):
            self.pile.include([Note(), Other()])  # type: ignore[list-item]
        self.check_unchanged(before)

    @rule(item=seen)
    def exclude(self, item: Note) -> None:
        present = item.id in self.by_id
        assert self.pile.exclude(item) == int(present)
        if present:
            del self.by_id[item.id]
            self.order.remove(item.id)

    @rule(item=seen)
    def remove(self, item: Note) -> None:
        if item.id in self.by_id:
            self.pile.remove(str(item.id))
            del self.by_id[item.id]
            self.order.remove(item.id)
        else:
            before = self.snapshot()
            with pytest.raises(ElementNotFoundError):
                self.pile.remove(item)
            self.check_unchanged(before)

    @rule(index=st.integers(-10, 10))
    def pop_position(self, index: int) -> None:
        if -len(self.order) <= index < len(self.order):
            key = self.order.pop(index)
            assert self.pile.pop(index) is self.by_id.pop(key)
        else:
            assert self.pile.pop(index, None) is None

    @rule(item=seen)
    def update(self, item: Note) -> None:
        replacement = Note(id=item.id, text="updated")
        self.pile.update(replacement)
        if item.id not in self.by_id:
            self.order.append(item.id)
        self.by_id[item.id] = replacement

    @precondition(lambda self: self.order)
    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(self.order))
        index = data.draw(st.integers(-len(self.order), len(self.order) - 1))
        self.pile.move(key, index)
        self.order.remove(key)
        self.order.insert(index + len(self.order) + 1 if index < 0 else index, key)

    @rule(start=st.none() | st.integers(-8, 8), stop=st.none() | st.integers(-8, 8))
    def read_slice(self, start: int | None, stop: int | None) -> None:
        assert [i.id for i in self.pile[start:stop]] == self.order[start:stop]

    @rule(item=seen)
    def lookups(self, item: Note) -> None:
        assert (item.id in self.pile) == (item.id in self.by_id)
        assert self.pile.get(str(item.id)) is self.by_id.get(item.id)

    @precondition(lambda self: len(self.order) > 8)
    @rule()
    def clear(self) -> None:
        self.pile.clear()
        self.by_id.clear()
        self.order.clear()

    @rule()
    def round_trip(self) -> None:
        restored = Pile.from_json(self.pile.to_json())
        assert restored == self.pile
        assert [type(i) for i in restored] == [type(self.by_id[k]) for k in self.order]

    @invariant()
    def same_as_model(self) -> None:
        assert self.pile.keys() == self.order
        assert list(self.pile) == [self.by_id[k] for k in self.order]  # snapshot is fresh
        ranks = self.pile._order._by_rank  # the rank index agrees with the order
        assert len(self.pile._by_rank) == len(ranks)
        assert all(self.pile._by_rank[r] is self.by_id[k] for r, k in ranks.items())
        assert all(
            a is b for a, b in zip(self.pile, [self.by_id[k] for k in self.order], strict=True)
        )
        assert len(self.pile) == len(self.by_id)
        assert all(self.pile[k] is self.by_id[k] for k in self.order)
        if self.order:
            assert self.pile[-1] is self.by_id[self.order[-1]]


TestPileMachine = pytest.mark.stateful(PileMachine.TestCase)
TestPileMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


class TestLayout:
    """Pile is split over private modules (index, codec, algebra); callers see one class."""

    def test_a_pile_has_no_instance_dict(self):
        """Every class Pile is built from declares __slots__, so a pile has no __dict__."""
        pile = Pile(notes(2), item_type=Note)
        assert not hasattr(pile, "__dict__")
        with pytest.raises(AttributeError):
            pile.extra = 1  # type: ignore[attr-defined]

    def test_public_methods_are_documented_where_callers_find_them(self):
        """Every public attribute of Pile, inherited or not, has a docstring."""
        # Slots (`name`) are plain attributes, documented in __init__.
        public = [
            name
            for name in dir(Pile)
            if not name.startswith("_")
            and not isinstance(getattr(Pile, name), types.MemberDescriptorType)
        ]
        assert {"to_dict", "from_json", "filter", "of_type", "keys", "values", "items"} <= set(
            public
        )
        assert [name for name in public if not getattr(Pile, name).__doc__] == []

    def test_pickles_still_name_the_same_rebuild_function(self):
        """A pickled pile names agentic.primitives.pile._rebuild, so older pickles still load."""
        import pickle
        import pickletools

        pile = Pile(notes(1), item_type=Note)
        data = pickle.dumps(pile, protocol=2)
        globals_named = [arg for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"]
        assert "agentic.primitives.pile _rebuild" in globals_named
        assert pickle.loads(data) == pile

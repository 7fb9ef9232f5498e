"""Tests for agentic.primitives.element: identity, type names, JSON round trips, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import elements, instances_of, json_values

from agentic.errors import (
    ElementNotFoundError,
    ImmutableError,
    ItemTypeError,
    SerializationError,
    UnknownElementTypeError,
)
from agentic.primitives import TYPE_KEY, Element, Pile, Progression, to_id
from agentic.primitives.element import new_id


class Note(Element, type_name="test.element.Note"):
    text: str
    tags: list[str] = []


class Urgent(Note, type_name="test.element.Urgent"):
    level: int = 1


class Holder(Element, type_name="test.element.Holder"):
    child: Element
    notes: list[Note] = []
    order: Progression | None = None
    box: Pile[Note] | None = None


class TestIdentity:
    def test_new_elements_get_distinct_version_4_ids(self):
        """Each new Element has its own random (version 4, RFC 4122) UUID."""
        ids = {Element().id for _ in range(5000)}
        assert len(ids) == 5000
        sample = next(iter(ids))
        assert sample.version == 4
        assert sample.variant == "specified in RFC 4122"
        assert UUID(str(sample)) == sample

    def test_ids_stay_distinct_across_threads(self):
        """Threads drawing ids at the same time never share one."""
        found: list[list[UUID]] = [[] for _ in range(8)]

        def draw(slot: list[UUID]) -> None:
            slot.extend(new_id() for _ in range(3000))

        threads = [threading.Thread(target=draw, args=(slot,)) for slot in found]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({i for slot in found for i in slot}) == 8 * 3000

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
    def test_forked_child_draws_fresh_ids(self):
        """A forked child does not reuse ids its parent holds in the pool."""
        # Fork in a fresh, single-threaded interpreter: forking the test process itself
        # (which may have threads) is unsafe and warns on newer Pythons.
        code = (
            "import os\n"
            "from agentic.primitives import new_id\n"
            "new_id()\n"
            "r, w = os.pipe()\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.write(w, new_id().bytes)\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "child = os.read(r, 16)\n"
            "print('same' if child == new_id().bytes else 'different')\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == "different"

    def test_equality_and_hash_follow_the_id(self):
        """Two Elements with the same id are equal and hash alike, whatever their fields."""
        a = Note(text="a")
        b = Note(id=a.id, text="b")
        assert a == b
        assert hash(a) == hash(b)
        assert a != Note(text="a")
        assert len({a, b}) == 1

    def test_comparison_with_other_types_is_not_equal(self):
        """An Element never equals a non-Element (not even its own id)."""
        a = Element()
        assert a != a.id
        assert a != str(a.id)

    @pytest.mark.parametrize("field", ["id", "created_at"])
    def test_id_and_created_at_are_immutable(self, field):
        """Assigning id or created_at raises ImmutableError naming the field; nothing changes."""
        note = Note(text="x")
        before = note.model_dump()
        with pytest.raises(ImmutableError, match=f"'{field}' is immutable"):
            setattr(note, field, uuid4() if field == "id" else datetime.now(UTC))
        assert note.model_dump() == before

    def test_other_fields_can_change(self):
        """Ordinary fields and metadata stay assignable."""
        note = Note(text="x")
        note.text = "y"
        note.metadata = {"k": 1}
        assert (note.text, note.metadata) == ("y", {"k": 1})

    def test_created_at_is_utc(self):
        """created_at is stored in UTC: naive values are read as UTC, others converted."""
        naive = datetime(2024, 1, 1, 12, 0)  # noqa: DTZ001 - the point of the test
        assert Element(created_at=naive).created_at == naive.replace(tzinfo=UTC)
        plus_two = datetime(2024, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
        converted = Element(created_at=plus_two).created_at
        assert converted.tzinfo is UTC
        assert converted == plus_two
        assert Element().created_at.tzinfo is UTC


class TestTypeNames:
    def test_explicit_type_name(self):
        """`type_name=` in the class statement names the class in documents."""
        assert Note.type_name == "test.element.Note"
        assert Note(text="a").to_dict()[TYPE_KEY] == "test.element.Note"

    def test_default_type_name_is_module_and_qualname(self):
        """Without `type_name=` a class registers as `<module>.<qualname>`."""

        class Local(Element):
            pass

        assert Local.type_name == f"{__name__}.{Local.__qualname__}"

    def test_subclass_does_not_inherit_the_type_name(self):
        """A subclass of a named class gets its own name, not its parent's."""

        class Child(Note):
            pass

        assert Child.type_name != Note.type_name
        assert type(Element.from_json(Child(text="c").to_json())) is Child

    def test_base_element_is_registered(self):
        """Element itself is registered as 'Element'."""
        assert Element.type_name == "Element"
        assert type(Element.from_dict(Element().to_dict())) is Element


class TestRoundTrip:
    @given(elements())
    def test_documents_have_only_keys_the_json_schema_names(self, element):
        """Every key of a generated element's document, `$type` included, is in its schema."""
        schema = type(element).model_json_schema()
        assert schema["additionalProperties"] is False
        assert set(element.to_dict()) <= set(schema["properties"])
        assert schema["properties"][TYPE_KEY]["default"] == element.type_name

    @given(elements())
    def test_generated_elements_round_trip_exactly(self, element):
        """Any generated subclass comes back from JSON as the same class with the same dump."""
        restored = Element.from_json(element.to_json())
        assert type(restored) is type(element)
        assert restored.model_dump() == element.model_dump()

    @given(elements())
    def test_from_dict_through_the_concrete_class(self, element):
        """`Cls.from_dict` of a document of Cls gives Cls back too."""
        restored = type(element).from_dict(element.to_dict())
        assert type(restored) is type(element)
        assert restored.model_dump() == element.model_dump()

    @given(instances_of(Urgent), json_values)
    def test_nested_subclasses_keep_their_type(self, urgent, meta):
        """A field typed as a base class keeps the subclass (and its fields) through JSON."""
        holder = Holder(
            child=urgent,
            notes=[Note(text="n"), urgent],
            order=Progression([urgent.id], name="o"),
            box=Pile([urgent], item_type=Note),
            metadata={"m": meta},
        )
        restored = Element.from_json(holder.to_json())
        assert isinstance(restored, Holder)
        assert type(restored.child) is Urgent
        assert [type(n) for n in restored.notes] == [Note, Urgent]
        assert restored.order == holder.order
        assert restored.box == holder.box
        assert restored.model_dump() == holder.model_dump()

    def test_document_without_type_reads_as_the_called_class(self):
        """A document with no "$type" is read as the class from_dict was called on."""
        note = Note.from_dict({"text": "plain"})
        assert type(note) is Note
        assert note.text == "plain"

    def test_to_json_is_orjson_bytes(self):
        """to_json returns UTF-8 JSON bytes that orjson reads."""
        data = Note(text="é").to_json()
        assert isinstance(data, bytes)
        assert orjson.loads(data)["text"] == "é"


class TestErrors:
    def test_unknown_type_name(self):
        """An unregistered "$type" raises UnknownElementTypeError naming it."""
        doc = Element().to_dict() | {TYPE_KEY: "os.system"}
        with pytest.raises(UnknownElementTypeError, match=r"'os\.system'") as info:
            Element.from_dict(doc)
        assert info.value.type_name == "os.system"

    def test_unknown_nested_type_name(self):
        """An unknown type inside a nested field raises UnknownElementTypeError too."""
        doc = Holder(child=Element()).to_dict()
        doc["child"][TYPE_KEY] = "nowhere.Missing"
        with pytest.raises(UnknownElementTypeError, match=r"nowhere\.Missing"):
            Element.from_dict(doc)

    def test_type_name_must_be_a_string(self):
        """A non-string "$type" raises UnknownElementTypeError naming its type."""
        with pytest.raises(UnknownElementTypeError, match="must be a string, not list"):
            Element.from_dict({TYPE_KEY: ["x"]})

    def test_document_of_an_unrelated_class(self):
        """Reading a Note document through Urgent raises ItemTypeError naming both."""
        with pytest.raises(
            ItemTypeError, match=r"'test\.element\.Note' is not a 'test\.element\.Urgent'"
        ):
            Urgent.from_dict(Note(text="x").to_dict())

    def test_malformed_json(self):
        """Malformed JSON raises SerializationError saying so."""
        with pytest.raises(SerializationError, match="malformed JSON"):
            Element.from_json(b'{"$type": "Element",')

    @pytest.mark.parametrize("doc", [[], "x", 3, None])
    def test_document_must_be_an_object(self, doc):
        """A non-object document raises SerializationError naming what it got."""
        with pytest.raises(SerializationError, match="must be a JSON object"):
            Element.from_dict(doc)

    def test_missing_field_is_named(self):
        """A document missing a required field raises SerializationError naming the field."""
        doc = Note(text="x").to_dict()
        del doc["text"]
        with pytest.raises(SerializationError, match=r"'test.element.Note'.*text"):
            Element.from_dict(doc)

    def test_bad_id_is_named(self):
        """A document with a bad id raises SerializationError naming the field."""
        doc = Note(text="x").to_dict() | {"id": "not-a-uuid"}
        with pytest.raises(SerializationError, match="id"):
            Element.from_dict(doc)

    def test_unknown_field_is_rejected(self):
        """Extra fields are an error (documents are exact)."""
        doc = Note(text="x").to_dict() | {"surprise": 1}
        with pytest.raises(SerializationError, match="surprise"):
            Element.from_dict(doc)

    def test_unserializable_metadata(self):
        """Metadata JSON cannot hold raises SerializationError naming the element."""
        note = Note(text="x", metadata={"bad": object()})
        with pytest.raises(SerializationError, match=str(note.id)):
            note.to_json()


class TestToId:
    def test_accepts_element_uuid_and_string(self):
        """to_id reads an Element, a UUID or a UUID string."""
        e = Element()
        assert to_id(e) == to_id(e.id) == to_id(str(e.id)) == e.id

    @pytest.mark.parametrize("bad", ["nope", 12, None, 1.5, b"x"])
    def test_rejects_anything_else(self, bad):
        """Anything else raises ElementNotFoundError (a KeyError) naming the value."""
        with pytest.raises(ElementNotFoundError, match="is not an element id") as info:
            to_id(bad)
        assert isinstance(info.value, KeyError)
        assert info.value.key == bad

    @given(st.uuids())
    def test_string_forms(self, ident):
        """Any standard string form of a UUID reads back as that UUID."""
        assert to_id(str(ident)) == ident
        assert to_id(str(ident).upper()) == ident
        assert to_id(ident.hex) == ident

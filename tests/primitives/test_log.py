"""Tests for agentic.primitives.log: an immutable audit record that round-trips."""

from __future__ import annotations

import asyncio
import copy
import pickle
from typing import Any

import pytest

from agentic.errors import ImmutableError, SerializationError
from agentic.primitives import Element, Event, Log, Pile


class Lookup(Event, type_name="test.log.Lookup"):
    query: str

    async def execute(self) -> Any:
        return {"hits": [{"q": self.query}], "total": 1}


def finished() -> tuple[Lookup, Log]:
    event = asyncio.run(Lookup(query="x", metadata={"tags": ["a"]}).invoke())
    return event, event.to_log()


class TestImmutability:
    @pytest.mark.parametrize("field", ["status", "record", "event_id", "metadata", "id"])
    def test_fields_refuse_assignment(self, field):
        """Assigning any field raises ImmutableError naming the field; nothing changes."""
        _, log = finished()
        before = log.model_dump()
        with pytest.raises(ImmutableError, match=f"cannot set '{field}'"):
            setattr(log, field, None)
        assert log.model_dump() == before

    def test_fields_refuse_deletion(self):
        """Deleting a field raises ImmutableError."""
        _, log = finished()
        with pytest.raises(ImmutableError, match="cannot delete 'status'"):
            del log.status

    @pytest.mark.parametrize(
        "change",
        [
            lambda r: r.__setitem__("status", "failed"),
            lambda r: r.pop("status"),
            lambda r: r.update(x=1),
            lambda r: r.clear(),
            lambda r: r.setdefault("y", 1),
            lambda r: r["execution"].__setitem__("response", None),
            lambda r: r["execution"]["response"]["hits"].append(1),
            lambda r: r["execution"]["response"]["hits"][0].__setitem__("q", "y"),
            lambda r: r["execution"]["response"]["hits"].sort(),
            lambda r: r["metadata"]["tags"].__setitem__(0, "b"),
            lambda r: r["execution"]["attempts"].clear(),
        ],
    )
    def test_record_is_read_only_all_the_way_down(self, change):
        """Every dict and list inside the record refuses changes with ImmutableError."""
        _, log = finished()
        before = copy.deepcopy(log.record)
        with pytest.raises(ImmutableError, match="a Log is immutable"):
            change(log.record)
        assert log.record == before

    def test_metadata_is_read_only(self):
        """The Log's own metadata refuses changes too (the default included)."""
        _, log = finished()
        with pytest.raises(ImmutableError):
            log.metadata["k"] = 1
        assert log.metadata == {}

    def test_later_changes_to_the_event_do_not_reach_the_log(self):
        """The Log is a snapshot: changing the Event afterwards leaves it as it was."""
        event, log = finished()
        event.metadata["tags"].append("late")
        event.execution.response["total"] = 99
        assert log.record["metadata"] == {"tags": ["a"]}
        assert log.record["execution"]["response"]["total"] == 1


class TestRoundTrips:
    def test_json_round_trip(self):
        """A Log comes back from JSON equal and still immutable."""
        _, log = finished()
        back = Element.from_json(log.to_json())
        assert type(back) is Log
        assert back.model_dump() == log.model_dump()
        with pytest.raises(ImmutableError):
            back.record["status"] = "x"

    def test_record_rebuilds_the_event(self):
        """Element.from_dict(log.record) gives back the Event, as it was."""
        event, log = finished()
        rebuilt = Element.from_dict(log.record)
        assert type(rebuilt) is Lookup
        assert rebuilt.model_dump() == event.model_dump()

    def test_copy_and_pickle(self):
        """deepcopy, model_copy and pickle keep the record equal and read-only."""
        _, log = finished()
        for clone in (
            copy.deepcopy(log),
            log.model_copy(deep=True),
            pickle.loads(pickle.dumps(log)),
        ):
            assert clone.record == log.record
            with pytest.raises(ImmutableError):
                clone.record["execution"]["attempts"].append(1)

    def test_logs_in_a_pile(self):
        """Logs live in a Pile and round-trip through it."""
        logs = Pile([finished()[1] for _ in range(3)], item_type=Log)
        back = Pile.from_json(logs.to_json())
        assert back == logs
        assert [type(x) for x in back] == [Log, Log, Log]


class TestOf:
    def test_needs_an_event_document(self):
        """Log.of of something that is not an Event document raises SerializationError."""
        with pytest.raises(SerializationError, match="a Log needs an Event document"):
            Log.of({"id": "x"})

"""StoreAsOf: a store's records up to one position, read-only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentic.kernel import CatalogError
from agentic.kernel._state_view import StoreAsOf
from agentic.store import NewRecord, SQLiteEventStore, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteEventStore]:
    """A store with a@1, b@2, a@3 (stream@position)."""
    opened = open_store(tmp_path / "state")
    for stream in ("a", "b", "a"):
        opened.append(stream, [NewRecord("x", {"stream": stream})])
    yield opened
    opened.close()


class TestAsOf:
    """Every read stops at the view's position, whatever was appended after it."""

    def test_reads_stop_at_the_position(self, store: SQLiteEventStore) -> None:
        """Streams, sequences, reads and the log all end at the position."""
        view = StoreAsOf(store, 2)
        store.append("c", [NewRecord("x", {})])
        assert view.last_position() == 2
        assert view.streams() == ["a", "b"]
        assert [view.stream_sequence(s) for s in ("a", "b", "c")] == [1, 1, 0]
        assert [r.position for r in view.read("a")] == [1]
        assert [r.position for r in view.read_all()] == [1, 2]
        assert [r.position for r in view.read_all(3)] == []
        assert view.wait_for(2, 0) is True
        assert view.wait_for(3, 0) is False

    def test_default_is_the_last_position_when_made(self, store: SQLiteEventStore) -> None:
        """Without a position the view ends where the log ended when it was made."""
        view = StoreAsOf(store)
        store.append("a", [NewRecord("x", {})])
        assert view.position == 3
        assert view.stream_sequence("a") == 2
        assert StoreAsOf(store, 10**9).position == 4

    def test_writes_are_refused(self, store: SQLiteEventStore) -> None:
        """Appends and snapshots through the view raise and write nothing."""
        view = StoreAsOf(store)
        with pytest.raises(CatalogError, match="read-only"):
            view.append("a", [NewRecord("x", {})])
        with pytest.raises(CatalogError, match="read-only"):
            view.save_snapshot("a", 1, {}, type="t")
        with pytest.raises(CatalogError, match="read-only"):
            view.subscribe()
        assert store.last_position() == 3

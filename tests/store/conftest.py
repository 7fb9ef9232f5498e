"""Fixtures for the store tests: a fresh SQLite store per test."""

from collections.abc import Iterator

import pytest

from agentic.store import SQLiteEventStore


@pytest.fixture
def store(tmp_path) -> Iterator[SQLiteEventStore]:
    """A fresh store (durability "normal": the tests do not measure fsync)."""
    with SQLiteEventStore(tmp_path / "events.db", durability="normal") as opened:
        yield opened

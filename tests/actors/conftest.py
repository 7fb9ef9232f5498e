"""Fixtures for the actor runtime tests: a fresh system per test, and a thread-leak check."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from agentic.actors import ActorSystem


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    """An ActorSystem with short timeouts, shut down after the test (no thread may remain)."""
    before = set(threading.enumerate())
    actors = ActorSystem("test", ask_timeout=5.0, send_timeout=1.0, stop_timeout=5.0)
    try:
        yield actors
    finally:
        actors.shutdown(timeout=10.0)
    left = [t for t in threading.enumerate() if t not in before]
    assert left == [], f"threads left after shutdown: {left}"

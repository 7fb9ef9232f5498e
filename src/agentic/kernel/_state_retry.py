"""Retrying a change of the CLI's state when another writer got there first."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from agentic.store import ConcurrencyError

__all__ = ["Reloadable", "retrying"]


class Reloadable(Protocol):
    """State that can drop what it loaded and read the store again."""

    def reload(self) -> None:
        """Read the state again."""
        ...


R = TypeVar("R", bound=Reloadable)
_ATTEMPTS = 40
_MAX_PAUSE = 0.05

P = ParamSpec("P")
T = TypeVar("T")


def retrying(method: Callable[Concatenate[R, P], T]) -> Callable[Concatenate[R, P], T]:
    """Run a change again, on fresh state, when another writer appended first.

    Every change checks all of its input against the state it reads, then appends once
    with the stream's version as the expected sequence; a ConcurrencyError means that
    state was stale and nothing was written, so the whole change (checks included)
    runs again on the reloaded state.
    """

    @functools.wraps(method)
    def wrapper(self: R, /, *args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(_ATTEMPTS):
            try:
                return method(self, *args, **kwargs)
            except ConcurrencyError:
                if attempt == _ATTEMPTS - 1:
                    raise
                self.reload()
                # Random, growing pauses spread the writers out (S311: jitter, not crypto).
                time.sleep(random.uniform(0, min(_MAX_PAUSE, 0.001 * 2**attempt)))  # noqa: S311
        raise AssertionError  # pragma: no cover - the loop returns or raises

    return wrapper

"""A change of one stream that holds only while other streams stay as they were read.

A pile's removal checks that no progression bound to it orders the items; an append
to a progression checks that its pile holds them. Each reads another stream than the
one it writes, so each appends with a guard: the other streams' versions as read, in
the same transaction (an empty `AppendRequest` with an expected sequence). If another
writer changed one of them meanwhile, nothing is written and the store raises
`ConcurrencyError`, which the catalog's `retrying` answers by checking again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from agentic.primitives import Pile
from agentic.store import AppendRequest, EventStore, NewRecord, Persisted

__all__ = ["append_guarded", "streams_of"]


def append_guarded(
    store: EventStore,
    target: Persisted[Any],
    records: Sequence[NewRecord],
    guards: Iterable[Persisted[Any]],
) -> None:
    """Append `records` to `target`'s stream while every guard is still at its version.

    The records are folded into `target`'s aggregate once they are stored.

    Raises:
        ConcurrencyError: `target` or a guard's stream moved since it was read;
            nothing was written.
    """
    with target.changing():
        requests = [AppendRequest(target.stream_id, records, expected_sequence=target.version)]
        requests += [
            AppendRequest(guard.stream_id, [], expected_sequence=guard.version)
            for guard in guards
            if guard is not target
        ]
        store.append_many(requests)
        target.refresh()


def streams_of(pile: Pile[Any]) -> list[Persisted[Any]]:
    """The stream `pile` lives in, as a guard (none for a pile not yet stored)."""
    persisted = getattr(pile, "persisted", None)
    return [persisted] if isinstance(persisted, Persisted) else []

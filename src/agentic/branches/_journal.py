"""BranchJournal: a Branch's changes as records in an event store, and replay from them.

A journaled Branch appends, from its actor thread and in order, one record per change
its handlers made: a message added, a plan step recorded, the Log of an Event that
finished (with its terminal status), Logs dropped by `max_logs`, a state imported.
The records of one handler go in one atomic append, except that a handler which
answers a request first appends what that answer covers (so an answered change is a
recorded one), then the rest. A message added during a turn is answered when it is
queued and recorded only when it joins the conversation (when the turns before it
end, or the Branch stops). Replaying the stream (from the latest snapshot, then the
tail) rebuilds the Branch's exported state exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from agentic.branches._journal_state import (
    LOG_ADDED,
    LOGS_DROPPED,
    MESSAGE_ADDED,
    SNAPSHOT_TYPE,
    STATE_SET,
    STEP_RECORDED,
    BranchState,
    replay_branch,
)
from agentic.branches._state import STATE_FORMAT
from agentic.primitives import Log, Pile
from agentic.store import AppendResult, EventStore, NewRecord, Repository, Snapshot

if TYPE_CHECKING:
    from agentic.branches._branch import Branch
    from agentic.branches._message_manager import MessageManager

__all__ = ["BranchJournal", "JournalWriter"]

_DEFAULT_PREFIX = "branch-"


class BranchJournal:
    """Where and how Branches keep their journal: an event store and a stream naming.

    Pass it to [`spawn_branch(..., journal=...)`][agentic.branches.spawn_branch]: a
    new stream starts with the Branch's initial state; an existing one is replayed
    (latest snapshot + tail) and the Branch continues from it.

    Example:
        >>> journal = BranchJournal(store, snapshot_every=500)  # doctest: +SKIP
        >>> branch = spawn_branch(system, "main", journal=journal)  # doctest: +SKIP
        >>> replay_branch(store, "branch-main") == branch.export()  # doctest: +SKIP
        True
    """

    def __init__(
        self,
        store: EventStore,
        *,
        stream: str | None = None,
        prefix: str = _DEFAULT_PREFIX,
        snapshot_every: int | None = None,
    ) -> None:
        """Configure the journal.

        Args:
            store: The event store the records go to.
            stream: One fixed stream (for one Branch); None: `prefix + name`.
            prefix: The prefix of a Branch's stream when `stream` is None.
            snapshot_every: Snapshot a live Branch after this many records it
                appended (None: only on request).
        """
        if snapshot_every is not None and snapshot_every < 1:
            msg = f"snapshot_every must be None or >= 1, not {snapshot_every!r}"
            raise ValueError(msg)
        self.store = store
        """The event store."""
        self.stream = stream
        """The fixed stream, if any."""
        self.prefix = prefix
        """The prefix of per-name streams."""
        self.snapshot_every = snapshot_every
        """Records between automatic snapshots (None: only on request)."""

    def stream_for(self, name: str | None = None) -> str:
        """Return the stream of the Branch called `name`.

        Raises:
            ValueError: No fixed stream and no name.
        """
        if self.stream is not None:
            return self.stream
        if not name:
            msg = "a journaled branch needs a name (or the journal a fixed stream)"
            raise ValueError(msg)
        return f"{self.prefix}{name}"

    def open(self, name: str | None = None) -> JournalWriter:
        """Replay the Branch's stream (latest snapshot + tail) into a writer for one Branch.

        Raises:
            CorruptRecordError: A record cannot be read back or applied.
        """
        stream = self.stream_for(name)
        persisted = Repository(self.store).load(BranchState(stream))
        aggregate = persisted.aggregate
        state = aggregate.export() if aggregate.started else None
        return JournalWriter(self, stream, persisted.version, state)

    def replay(
        self,
        name: str | None = None,
        *,
        up_to_position: int | None = None,
        use_snapshot: bool = True,
    ) -> dict[str, Any]:
        """Return [`replay_branch()`][agentic.branches.replay_branch] of the Branch's stream."""
        return replay_branch(
            self.store,
            self.stream_for(name),
            up_to_position=up_to_position,
            use_snapshot=use_snapshot,
        )

    def snapshot(self, name: str | None = None) -> Snapshot | None:
        """Rebuild the Branch's state from the store and save it as a snapshot.

        It reads only committed records, so it is safe while the Branch runs; the
        snapshot holds the state as of the newest record it read. A live Branch can
        also snapshot its own state without a replay:
        [`BranchRef.snapshot()`][agentic.branches.BranchRef.snapshot].

        Returns:
            The snapshot, or None when the stream is empty.
        """
        persisted = Repository(self.store).load(BranchState(self.stream_for(name)))
        return persisted.snapshot() if persisted.aggregate.started else None


class JournalWriter:
    """One Branch's side of its journal: what is recorded so far, and the next append.

    Made by [`BranchJournal.open()`][agentic.branches.BranchJournal.open] (which
    `spawn_branch` calls); used only from the Branch's actor thread, and by one
    Branch (a restarted Branch keeps it).
    """

    def __init__(
        self, journal: BranchJournal, stream: str, version: int, state: dict[str, Any] | None
    ) -> None:
        """Create a writer for `stream`, whose last record is `version`, holding `state`."""
        self.journal = journal
        """The journal settings."""
        self.stream = stream
        """The Branch's stream."""
        self.version = version
        """The stream sequence of the last record appended or replayed."""
        self.state: dict[str, Any] | None = state
        """The replayed state for the Branch to start from (None once attached, or new)."""
        self.attached = False
        """Whether a Branch has taken this writer."""
        self._since_snapshot = 0
        # What has been recorded: (messages object, messages, steps, last Log id, Logs).
        self._messages: MessageManager | None = None
        self._counts: tuple[int, int, UUID | None, int] = (0, 0, None, 0)

    def attach(self, branch: Branch) -> None:
        """Take `branch`'s current state as recorded (a new stream appends it first).

        Raises:
            StoreError: The first record of a new stream cannot be appended.
        """
        self.attached = True
        self.state = None
        if self.version == 0:  # a new stream starts with the whole state, now
            self.sync(branch)
            return
        self._messages = branch.messages
        self._counts = _counts(branch)

    def sync(self, branch: Branch) -> AppendResult | None:
        """Append the changes `branch` made since the last sync, in one append.

        Returns:
            Where the records went, or None if nothing changed.

        Raises:
            StoreError: The append failed (nothing is marked recorded: the next sync
                tries again), e.g. `ConcurrencyError` when another writer used the stream.
        """
        return self._sync(branch, snapshot=False)[0]

    def snapshot(self, branch: Branch) -> Snapshot | None:
        """Record pending changes, then save `branch`'s state as a snapshot at that version."""
        return self._sync(branch, snapshot=True)[1]

    def _sync(
        self, branch: Branch, *, snapshot: bool
    ) -> tuple[AppendResult | None, Snapshot | None]:
        # Read the Logs once: reading builds the pending ones, which the runtime's loop
        # adds to at any time. Until the next read the Pile holds still (only this
        # thread builds Logs), so the records and any snapshot below agree with it.
        logs = branch.logs.logs
        records, counts = self._changes(branch, logs)
        result = None
        if records:
            store = self.journal.store
            result = store.append(self.stream, records, expected_sequence=self.version)
            self._messages = branch.messages
            self._counts = counts
            self.version = result.last_sequence
            self._since_snapshot += len(records)
        every = self.journal.snapshot_every
        if not snapshot and (every is None or self._since_snapshot < every):
            return result, None
        self._since_snapshot = 0
        if self.version == 0:
            return result, None
        state = _state(branch, logs)
        saved = self.journal.store.save_snapshot(
            self.stream, self.version, state, type=SNAPSHOT_TYPE
        )
        return result, saved

    def _changes(
        self, branch: Branch, logs: Pile[Log]
    ) -> tuple[list[NewRecord], tuple[int, int, UUID | None, int]]:
        """Return the records of what changed, and the counts once they are recorded."""
        messages = branch.messages.messages
        steps = branch.steps if branch.steps is not None else ()
        last: UUID | None = logs[-1].id if len(logs) else None
        counts = (len(messages), len(steps), last, len(logs))
        if branch.messages is not self._messages:  # a new stream, or a state imported
            return [NewRecord(STATE_SET, {"state": _state(branch, logs)})], counts
        n_messages, n_steps, last_log, n_logs = self._counts
        records = [
            NewRecord(MESSAGE_ADDED, {"message": message.to_dict()})
            for message in messages[n_messages:]
        ]
        records += [NewRecord(STEP_RECORDED, {"step": step.to_dict()}) for step in steps[n_steps:]]
        added: list[Log] = []
        if last != last_log and last is not None:
            start = logs.index(last_log) + 1 if last_log is not None and last_log in logs else 0
            added = logs[start:]
            records += [NewRecord(LOG_ADDED, {"log": log.to_dict()}) for log in added]
        dropped = n_logs + len(added) - len(logs)
        if dropped > 0:
            records.append(NewRecord(LOGS_DROPPED, {"count": dropped}))
        return records, counts


def _state(branch: Branch, logs: Pile[Log]) -> dict[str, Any]:
    """The Branch's export, with the Logs as read (the export itself would build more)."""
    return {
        "format": STATE_FORMAT,
        "messages": branch.messages.fork().to_dict(),
        "logs": [log.to_dict() for log in logs],
        "steps": [step.to_dict() for step in branch.steps or ()],
    }


def _counts(branch: Branch) -> tuple[int, int, UUID | None, int]:
    logs = branch.logs.logs
    last: UUID | None = logs[-1].id if len(logs) else None
    return len(branch.messages), len(branch.steps or ()), last, len(logs)

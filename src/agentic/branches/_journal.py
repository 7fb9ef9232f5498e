"""BranchJournal: a Branch's changes as records in an event store, and replay from them.

A journaled Branch appends, from its actor thread and in order, one record per change
its handlers made: a message added, a plan step recorded, the Log of an Event that
finished (with its terminal status), Logs dropped by `max_logs`, a state imported.
The records of one handler go in one atomic append. Replaying the stream (from the
latest snapshot, then the tail) rebuilds the Branch's exported state exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import ValidationError

from agentic.branches._branch import STATE_FORMAT
from agentic.branches._errors import BranchError
from agentic.branches._log_manager import LogManager
from agentic.branches._message_manager import MessageManager
from agentic.branches._messages import Message
from agentic.branches._protocol import PlanStep
from agentic.errors import AgenticError
from agentic.primitives import Element, Log
from agentic.store import AppendResult, EventStore, NewRecord, Repository, Snapshot

if TYPE_CHECKING:
    from agentic.branches._branch import Branch

__all__ = [
    "LOGS_DROPPED",
    "LOG_ADDED",
    "MESSAGE_ADDED",
    "SNAPSHOT_TYPE",
    "STATE_SET",
    "STEP_RECORDED",
    "BranchJournal",
    "BranchState",
    "JournalWriter",
    "replay_branch",
]

STATE_SET = "branch.state_set"
"""The whole state: the first record of a stream, and every import (`{"state": ...}`)."""
MESSAGE_ADDED = "branch.message_added"
"""A message joined the conversation (`{"message": ...}`, its Element document)."""
STEP_RECORDED = "branch.step_recorded"
"""A plan step finished (`{"step": ...}`)."""
LOG_ADDED = "branch.log_added"
"""The Log of an Event that reached its terminal status (`{"log": ...}`)."""
LOGS_DROPPED = "branch.logs_dropped"
"""The oldest Logs were dropped to honour `max_logs` (`{"count": n}`)."""
SNAPSHOT_TYPE = "BranchState"
"""The type of a Branch's snapshots (the aggregate's class name, as the Repository saves)."""

_DEFAULT_PREFIX = "branch-"


class BranchState:
    """A Branch's exported state rebuilt from its records, without an actor.

    It fits the store's [`Aggregate`][agentic.store.Aggregate] protocol, so a
    [`Repository`][agentic.store.Repository] can load it (latest snapshot + tail) or
    replay it up to a position. `apply` is all-or-nothing: a record it cannot use
    raises (the Repository reports it as a
    [`CorruptRecordError`][agentic.store.CorruptRecordError] naming the position).
    """

    def __init__(self, stream_id: str) -> None:
        """Start empty (no state record applied yet) for `stream_id`."""
        self._stream_id = stream_id
        self.messages: MessageManager | None = None
        """The conversation (None until the first state record)."""
        self.logs: list[Log] = []
        """The Logs, oldest first."""
        self.steps: list[PlanStep] = []
        """The plan steps, in the order they finished."""

    @property
    def stream_id(self) -> str:
        """The stream the state is built from."""
        return self._stream_id

    @property
    def started(self) -> bool:
        """Whether a state record has been applied (the stream holds a Branch)."""
        return self.messages is not None

    def apply(self, record_type: str, payload: dict[str, Any]) -> None:
        """Apply one record (raise, changing nothing, if it is unknown or malformed)."""
        if record_type == STATE_SET:
            self.restore(_field(payload, "state", dict))
            return
        if record_type == LOGS_DROPPED:
            count = _field(payload, "count", int)
            if not 0 <= count <= len(self.logs):
                msg = f"cannot drop {count} of {len(self.logs)} Logs"
                raise ValueError(msg)
            del self.logs[:count]
            return
        if record_type not in {MESSAGE_ADDED, STEP_RECORDED, LOG_ADDED}:
            msg = f"unknown branch record type {record_type!r}"
            raise ValueError(msg)
        if self.messages is None:
            msg = f"{record_type!r} before the branch's first {STATE_SET!r} record"
            raise ValueError(msg)
        if record_type == MESSAGE_ADDED:
            message = Element.from_dict(_field(payload, "message", dict))
            if not isinstance(message, Message):
                msg = f"a {type(message).__name__} is not a Message"
                raise TypeError(msg)
            self.messages.add(message)
        elif record_type == STEP_RECORDED:
            self.steps.append(PlanStep.from_dict(_field(payload, "step", dict)))
        else:
            self.logs.append(Log.from_dict(_field(payload, "log", dict)))

    def export(self) -> dict[str, Any]:
        """Return the state as [`Branch.export`][agentic.branches.BranchRef.export] does.

        Raises:
            BranchError: No state record has been applied.
        """
        if self.messages is None:
            msg = f"stream {self._stream_id!r} holds no branch state"
            raise BranchError(msg)
        return {
            "format": STATE_FORMAT,
            "messages": self.messages.fork().to_dict(),
            "logs": [log.to_dict() for log in self.logs],
            "steps": [step.to_dict() for step in self.steps],
        }

    def snapshot_state(self) -> dict[str, Any]:
        """Return the exported state (an empty object before the first state record)."""
        return self.export() if self.messages is not None else {}

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the whole state by an exported one (`{}`: back to empty).

        Raises:
            BranchError: `state` is not a branch state document.
        """
        if not state:
            self.messages, self.logs, self.steps = None, [], []
            return
        self.messages, self.logs, self.steps = parse_state(state)


def parse_state(state: Any) -> tuple[MessageManager, list[Log], list[PlanStep]]:
    """Read an exported state document into its parts (as `Branch` imports it).

    Raises:
        BranchError: `state` is not a branch state document.
    """
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        msg = f"not a branch state document (format {found!r}, expected {STATE_FORMAT})"
        raise BranchError(msg)
    try:
        messages = MessageManager.from_dict(state["messages"])
        logs = LogManager.parse(state["logs"])
        steps = [PlanStep.from_dict(item) for item in state.get("steps", [])]
    except (KeyError, TypeError, AgenticError, ValidationError) as exc:
        msg = f"branch state document is missing or mangles {exc}"
        raise BranchError(msg) from exc
    return messages, logs, steps


def _field(payload: dict[str, Any], key: str, kind: type[Any]) -> Any:
    value = payload.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        msg = f"field {key!r} must be a {kind.__name__}, not {type(value).__name__}"
        raise TypeError(msg)
    return value


def replay_branch(
    store: EventStore,
    stream: str,
    *,
    up_to_position: int | None = None,
    use_snapshot: bool = True,
) -> dict[str, Any]:
    """Rebuild a Branch's exported state from its stream, without an actor.

    Args:
        store: The event store.
        stream: The Branch's stream (`branch-<name>` by default).
        up_to_position: The last global position to apply (None: everything), to
            inspect the Branch as it was then.
        use_snapshot: Start from the latest snapshot at or before that position
            (else replay the stream from its first record).

    Returns:
        The state, equal to what the live Branch's `export()` gave at that point.

    Raises:
        BranchError: The stream holds no branch record (up to that position).
        CorruptRecordError: A record cannot be read back or applied.
    """
    state = Repository(store).replay(
        BranchState(stream), up_to_position=up_to_position, use_snapshot=use_snapshot
    )
    if not state.started:
        where = "" if up_to_position is None else f" up to position {up_to_position}"
        msg = f"stream {stream!r} holds no branch records{where}"
        raise BranchError(msg)
    return state.export()


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
        records, counts = self._changes(branch)
        if not records:
            return None
        result = self.journal.store.append(self.stream, records, expected_sequence=self.version)
        self._messages = branch.messages
        self._counts = counts
        self.version = result.last_sequence
        self._since_snapshot += len(records)
        every = self.journal.snapshot_every
        if every is not None and self._since_snapshot >= every:
            self.snapshot(branch)
        return result

    def snapshot(self, branch: Branch) -> Snapshot | None:
        """Record pending changes, then save `branch`'s state as a snapshot at that version."""
        self.sync(branch)
        self._since_snapshot = 0
        if self.version == 0:
            return None
        state = branch._export()  # noqa: SLF001 - the Branch's own writer, on its thread
        store = self.journal.store
        return store.save_snapshot(self.stream, self.version, state, type=SNAPSHOT_TYPE)

    def _changes(self, branch: Branch) -> tuple[list[NewRecord], tuple[int, int, UUID | None, int]]:
        """Return the records of what changed, and the counts once they are recorded."""
        # Read the Logs once: reading builds those pending, which the loop adds to.
        logs = branch.logs.logs
        messages = branch.messages.messages
        steps = branch.steps if branch.steps is not None else ()
        last: UUID | None = logs[-1].id if len(logs) else None
        counts = (len(messages), len(steps), last, len(logs))
        if branch.messages is not self._messages:  # a new stream, or a state imported
            state = branch._export()  # noqa: SLF001 - the Branch's own writer, on its thread
            return [NewRecord(STATE_SET, {"state": state})], counts
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


def _counts(branch: Branch) -> tuple[int, int, UUID | None, int]:
    logs = branch.logs.logs
    last: UUID | None = logs[-1].id if len(logs) else None
    return len(branch.messages), len(branch.steps or ()), last, len(logs)

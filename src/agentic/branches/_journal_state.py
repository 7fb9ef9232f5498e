"""BranchState: a Branch's exported state rebuilt from its journal's records.

The record types of a Branch's stream, the aggregate that applies them, and
[`replay_branch()`][agentic.branches.replay_branch] to inspect a Branch from the store.
"""

from __future__ import annotations

from typing import Any

from agentic.branches._errors import BranchError
from agentic.branches._message_manager import MessageManager
from agentic.branches._messages import Message
from agentic.branches._protocol import PlanStep
from agentic.branches._state import STATE_FORMAT, parse_state
from agentic.primitives import Element, Log
from agentic.store import EventStore, Repository

__all__ = [
    "LOGS_DROPPED",
    "LOG_ADDED",
    "MESSAGE_ADDED",
    "SNAPSHOT_TYPE",
    "STATE_SET",
    "STEP_RECORDED",
    "BranchState",
    "parse_state",
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

"""Supervision: what happens to an actor whose handler raised.

The policy is a value (serializable, comparable) so a distributed runtime can carry it
as it is; the restart window is the runtime's bookkeeping of one actor.
"""

from __future__ import annotations

import time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from agentic.primitives import ErrorInfo

__all__ = ["ActorFailure", "ChildFailed", "Directive", "RestartWindow", "SupervisionPolicy"]


class Directive(StrEnum):
    """What the runtime does with an actor after one of its handlers raised."""

    RESTART = "restart"
    """Replace the actor object with a fresh one, keeping its Piles (see `Actor`)."""
    RESUME = "resume"
    """Keep the same actor object and go on with the next message."""
    STOP = "stop"
    """Stop the actor (and its children); queued asks get `ActorDeadError`."""
    ESCALATE = "escalate"
    """Stop the actor and hand the failure to its parent (or to the system)."""


class SupervisionPolicy(BaseModel):
    """How an actor is supervised.

    A handler that raises always fails its own message: an asker gets the exception.
    Then `directive` applies. A restart that would be the `max_restarts + 1`-th
    within `within` seconds escalates instead, so a crash loop cannot spin forever.

    Example:
        >>> SupervisionPolicy(max_restarts=5, within=10.0).directive
        <Directive.RESTART: 'restart'>
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    directive: Directive = Directive.RESTART
    """What to do after a failure."""
    max_restarts: int = Field(default=3, ge=0)
    """The most restarts allowed within `within` seconds; one more escalates."""
    within: float = Field(default=60.0, gt=0)
    """The length of the restart window, in seconds."""


class ChildFailed(BaseModel):
    """The message a parent receives (in `Actor.on_child_failed`) when a child escalates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    child: str
    """The name of the child, which has stopped."""
    error: ErrorInfo
    """The child's failure."""
    reason: str
    """Why it escalated: `"escalate"` (its policy), `"crash-loop"` or `"start-failed"`."""


class ActorFailure(BaseModel):
    """A failure of one actor, as published on the bus and kept by the system."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: str
    """The name of the actor whose handler raised."""
    error: ErrorInfo
    """What was raised."""
    message_type: str | None = None
    """The type name of the message being handled, if any."""
    directive: Directive
    """What the runtime did about it."""
    reason: str = ""
    """Why an escalation happened (see `ChildFailed.reason`)."""
    restarts: int = 0
    """The actor's restarts so far, this one included."""


class RestartWindow:
    """The restarts of one actor within the policy's sliding window."""

    __slots__ = ("_max", "_stamps", "_within")

    def __init__(self, policy: SupervisionPolicy) -> None:
        self._max = policy.max_restarts
        self._within = policy.within
        # A list, not a deque: it stays empty (56 bytes) for an actor that never fails.
        self._stamps: list[float] = []

    def allow(self, now: float | None = None) -> bool:
        """Record a restart if the window has room for one; return whether it had."""
        now = time.monotonic() if now is None else now
        stamps = self._stamps
        while stamps and now - stamps[0] > self._within:
            del stamps[0]
        if len(self._stamps) >= self._max:
            return False
        self._stamps.append(now)
        return True

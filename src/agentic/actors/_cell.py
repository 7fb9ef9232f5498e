"""The runtime's record of one actor (its cell) and the health snapshot read from it.

The cell is shared by the actor's refs, its host thread and the system. Only the
actor's thread writes the counters, so reading them from another thread (a health
probe) never waits on the mailbox.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from agentic.actors._mailbox import Mailbox
from agentic.actors._supervision import RestartWindow, SupervisionPolicy
from agentic.primitives import ErrorInfo

if TYPE_CHECKING:
    from agentic.actors._actor import Actor
    from agentic.actors._context import ActorContext
    from agentic.actors._system import ActorSystem

__all__ = ["ActorHealth", "ActorState", "Cell"]


class ActorState(StrEnum):
    """Where an actor is in its life."""

    STARTING = "starting"
    """Spawned; `on_start` has not finished."""
    RUNNING = "running"
    """Handling messages."""
    RESTARTING = "restarting"
    """Being replaced after a failure."""
    STOPPING = "stopping"
    """Asked to stop: takes no new messages, finishes the queued ones."""
    STOPPED = "stopped"
    """Stopped normally."""
    FAILED = "failed"
    """Stopped by a failure (policy `stop`/`escalate`, a crash loop, or `on_start`)."""


class ActorHealth(BaseModel):
    """A health probe's answer, read without going through the mailbox."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """The actor's name."""
    state: ActorState
    """Where the actor is in its life."""
    alive: bool
    """Whether it still takes messages."""
    mailbox_depth: int
    """Messages waiting in its mailbox."""
    mailbox_capacity: int
    """The bound on user messages in its mailbox."""
    processed: int
    """Messages handled so far (successfully or not)."""
    failures: int
    """Handlers that raised so far."""
    restarts: int
    """Restarts so far."""
    last_error: ErrorInfo | None
    """The latest failure, if any."""
    parent: str | None
    """The parent's name, if the actor has one."""
    children: tuple[str, ...]
    """The names of its live children."""


class Cell:
    """Everything the runtime keeps about one actor. Internal."""

    __slots__ = (
        "accepting",
        "actor",
        "args",
        "children",
        "context",
        "factory",
        "failures",
        "finished",
        "last_error",
        "mailbox",
        "name",
        "parent",
        "policy",
        "processed",
        "restarts",
        "state",
        "system",
        "thread",
        "window",
    )

    def __init__(
        self,
        *,
        name: str,
        system: ActorSystem,
        factory: Callable[..., Actor],
        args: tuple[Any, ...],
        actor: Actor,
        policy: SupervisionPolicy,
        mailbox_size: int,
        parent: Cell | None,
    ) -> None:
        self.name = name
        self.system = system
        self.factory = factory
        self.args = args
        self.actor = actor
        self.policy = policy
        self.window = RestartWindow(policy)
        self.mailbox = Mailbox(mailbox_size)
        self.parent = parent
        self.children: list[Cell] = []
        self.context: ActorContext | None = None
        self.thread: threading.Thread | None = None
        self.finished = False
        self.state = ActorState.STARTING
        self.accepting = True
        self.processed = 0
        self.failures = 0
        self.restarts = 0
        self.last_error: ErrorInfo | None = None

    def health(self) -> ActorHealth:
        """Return a snapshot of the actor's health."""
        return ActorHealth(
            name=self.name,
            state=self.state,
            alive=self.accepting,
            mailbox_depth=len(self.mailbox),
            mailbox_capacity=self.mailbox.capacity,
            processed=self.processed,
            failures=self.failures,
            restarts=self.restarts,
            last_error=self.last_error,
            parent=self.parent.name if self.parent is not None else None,
            children=tuple(child.name for child in list(self.children)),
        )

    def __repr__(self) -> str:
        """Name the actor."""
        return f"<Cell {self.name!r} {self.state}>"

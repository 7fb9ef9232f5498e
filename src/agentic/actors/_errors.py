"""The errors of the actor runtime, and the one place pykka's errors become ours.

```
AgenticError
  ActorError
    ActorDeadError                       the actor has stopped (or never ran)
      SystemShutdownError                the ActorSystem is shut down
    AskTimeoutError(ActorError, TimeoutError)
    MailboxFullError                     a bounded mailbox stayed full
    AskCycleError                        an ask would wait on itself (A -> B -> A)
    ActorNotFoundError(ActorError, KeyError)
    ActorExistsError(ActorError, ValueError)
    EscalationError                      a child's failure handed to its parent
```

Every class carries its context in attributes (`name`, `timeout`, `chain`, ...); the
message names the actor at fault.
"""

from __future__ import annotations

import pykka

from agentic.errors import AgenticError

__all__ = [
    "ActorDeadError",
    "ActorError",
    "ActorExistsError",
    "ActorNotFoundError",
    "AskCycleError",
    "AskTimeoutError",
    "EscalationError",
    "MailboxFullError",
    "SystemShutdownError",
    "translate_pykka_error",
]


class ActorError(AgenticError):
    """A problem with an actor or with the runtime that hosts it."""

    def __init__(self, message: str, *, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        """The name of the actor at fault, when there is one."""


class ActorDeadError(ActorError):
    """The actor has stopped: it takes no more messages."""


class SystemShutdownError(ActorDeadError):
    """The ActorSystem is shut down (or shutting down): it spawns and delivers nothing."""


class AskTimeoutError(ActorError, TimeoutError):
    """No reply came within the ask's timeout.

    The message stays in the actor's mailbox and may still be processed later; its
    reply is then dropped.
    """

    def __init__(self, message: str, *, name: str | None = None, timeout: float = 0.0) -> None:
        super().__init__(message, name=name)
        self.timeout = timeout
        """The timeout that ran out, in seconds."""


class MailboxFullError(ActorError):
    """The actor's bounded mailbox stayed full for the whole send timeout."""

    def __init__(self, message: str, *, name: str | None = None, capacity: int = 0) -> None:
        super().__init__(message, name=name)
        self.capacity = capacity
        """The mailbox's capacity."""


class AskCycleError(ActorError):
    """An ask would wait on an actor that is itself waiting, a deadlock refused up front.

    Raised when an actor asks itself, or when A asks B and B (directly or through
    others) asks A while A still waits.
    """

    def __init__(
        self, message: str, *, name: str | None = None, chain: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, name=name)
        self.chain = chain
        """The names of the actors waiting on each other, oldest first."""


class ActorNotFoundError(ActorError, KeyError):
    """No live actor has this name in the ActorSystem."""


class ActorExistsError(ActorError, ValueError):
    """A live actor already has this name in the ActorSystem."""


class EscalationError(ActorError):
    """A child actor's failure, handed up to its parent (or to the system).

    The parent's supervision policy then decides what happens to the parent.
    """

    def __init__(
        self,
        message: str,
        *,
        name: str | None = None,
        child: str = "",
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, name=name)
        self.child = child
        """The name of the child that escalated."""
        self.cause = cause
        """The child's exception that started the escalation."""


def translate_pykka_error(exc: BaseException, *, name: str, timeout: float = 0.0) -> BaseException:
    """Return our error for one of pykka's, or `exc` itself when it is not pykka's.

    This is the only place where pykka's exception types meet ours; callers write
    `raise translate_pykka_error(exc, name=...) from exc`.

    Args:
        exc: the exception caught around a pykka call.
        name: the name of the actor the call was about.
        timeout: the timeout of the call, for a `pykka.Timeout`.

    Returns:
        An [`ActorError`][agentic.actors.ActorError] for pykka's errors, else `exc`.
    """
    if isinstance(exc, pykka.Timeout):
        msg = f"actor {name!r} did not reply within {timeout} s"
        return AskTimeoutError(msg, name=name, timeout=timeout)
    if isinstance(exc, pykka.ActorDeadError):
        msg = f"actor {name!r} stopped before handling the message"
        return ActorDeadError(msg, name=name)
    return exc

"""Errors of Branches.

```
AgenticError
  BranchError                         # .branch: the request was wrong or could not be done
    BranchStateError                  # .state: not legal in the Branch's lifecycle state
      BranchStoppedError(BranchStateError, ActorDeadError)   # the Branch has stopped
    ChatFailedError                   # .event: a provider call of a turn did not complete
    RequestCancelledError             # .ticket: the request was cancelled before it finished
```

Every error pickles with its attributes, so it can cross an actor boundary as a value.
"""

from __future__ import annotations

from typing import Any

from agentic.actors import ActorDeadError
from agentic.errors import AgenticError

__all__ = [
    "BranchError",
    "BranchStateError",
    "BranchStoppedError",
    "ChatFailedError",
    "RequestCancelledError",
]


def _rebuild(cls: type[BranchError], message: str, state: dict[str, Any]) -> BranchError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class BranchError(AgenticError):
    """A Branch could not do what was asked."""

    def __init__(self, message: str, *, branch: str | None = None) -> None:
        super().__init__(message)
        self.branch = branch
        """The branch's name."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the keyword attributes (errors cross actor boundaries as values)."""
        return (_rebuild, (type(self), str(self), self.__dict__.copy()))


class BranchStateError(BranchError):
    """The call is not legal in the Branch's current lifecycle state."""

    def __init__(self, message: str, *, branch: str | None = None, state: Any = None) -> None:
        super().__init__(message, branch=branch)
        self.state = state
        """The state the Branch was in."""


class BranchStoppedError(BranchStateError, ActorDeadError):
    """The Branch has stopped: it takes no more requests, and open ones end with this."""

    def __init__(self, message: str, *, branch: str | None = None, state: Any = "stopped") -> None:
        super().__init__(message, branch=branch, state=state)
        self.name = branch


class ChatFailedError(BranchError):
    """A provider call in a turn ended without an answer (failed, denied, cancelled)."""

    def __init__(self, message: str, *, branch: str | None = None, event: Any = None) -> None:
        super().__init__(message, branch=branch)
        self.event = event
        """The provider-call Event that failed, with its execution record."""


class RequestCancelledError(BranchError):
    """A request was cancelled (a [`Cancel`][agentic.branches.Cancel]) before it finished.

    [`BranchRef`][agentic.branches.BranchRef] sends that Cancel itself when its caller
    stops waiting: the call timed out, or the awaiting task was cancelled.
    """

    def __init__(self, message: str, *, branch: str | None = None, ticket: Any = None) -> None:
        super().__init__(message, branch=branch)
        self.ticket = ticket
        """The cancelled request's ticket."""

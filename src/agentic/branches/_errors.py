"""Errors of Branches."""

from __future__ import annotations

from typing import Any

from agentic.errors import AgenticError

__all__ = ["BranchError", "BranchStateError", "ChatFailedError"]


class BranchError(AgenticError):
    """A Branch could not do what was asked."""

    def __init__(self, message: str, *, branch: str | None = None) -> None:
        super().__init__(message)
        self.branch = branch
        """The branch's name."""


class BranchStateError(BranchError):
    """The call is not legal in the Branch's current lifecycle state."""

    def __init__(self, message: str, *, branch: str | None = None, state: Any = None) -> None:
        super().__init__(message, branch=branch)
        self.state = state
        """The state the Branch was in."""


class ChatFailedError(BranchError):
    """A provider call in the chat loop ended without an answer (failed, denied, cancelled)."""

    def __init__(self, message: str, *, branch: str | None = None, event: Any = None) -> None:
        super().__init__(message, branch=branch)
        self.event = event
        """The provider-call Event that failed, with its execution record."""

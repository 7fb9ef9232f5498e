"""Errors of the kernel: workflow files and their plans."""

from __future__ import annotations

from agentic.errors import AgenticError

__all__ = ["WorkflowCitationError", "WorkflowCycleError", "WorkflowError"]


class WorkflowError(AgenticError, ValueError):
    """A workflow file is unreadable, malformed, or names something that does not exist."""

    def __init__(self, message: str, *, source: str | None = None, step: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        """The file (or label) the workflow came from."""
        self.step = step
        """The step at fault, if one is."""


class WorkflowCycleError(WorkflowError):
    """The steps' dependencies form a cycle, so no order can run them."""

    def __init__(self, message: str, *, source: str | None = None, cycle: list[str]) -> None:
        super().__init__(message, source=source, step=cycle[0] if cycle else None)
        self.cycle = cycle
        """The step ids around the cycle, first repeated at the end."""


class WorkflowCitationError(WorkflowError):
    """A step's text holds a `${...}` that is no valid citation of a dependency's result."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        step: str,
        argument: str,
        citation: str,
    ) -> None:
        super().__init__(message, source=source, step=step)
        self.argument = argument
        """Where in the step: an argument's path (`text`, `meta.items[1]`), or `message`
        or `system` of a chat step."""
        self.citation = citation
        """The offending text, from its `${` to its `}`."""

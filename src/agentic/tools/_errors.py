"""The errors of the tools package.

```
AgenticError
  ToolError
    ToolDefinitionError(ToolError, TypeError)     # a callable that cannot be a tool
    ToolExistsError(ToolError, ValueError)        # a name registered twice
    ToolResultError(ToolError, ValueError)        # unserializable or oversized result
    PathDeniedError(ToolError, PermissionError)   # a path that leaves the sandbox root
    CommandTimeoutError(ToolError, TimeoutError)  # run_command's own deadline
  ExecutionError
    TargetNotFoundError
      ToolNotFoundError(TargetNotFoundError, ToolError)
```
"""

from __future__ import annotations

from agentic.errors import AgenticError
from agentic.execution import TargetNotFoundError

__all__ = [
    "CommandTimeoutError",
    "PathDeniedError",
    "ToolDefinitionError",
    "ToolError",
    "ToolExistsError",
    "ToolNotFoundError",
    "ToolResultError",
]


class ToolError(AgenticError):
    """A problem with a tool or its use."""


class ToolDefinitionError(ToolError, TypeError):
    """A callable cannot become a tool (`*args`, an unsupported annotation, ...)."""


class ToolExistsError(ToolError, ValueError):
    """A tool of this name is already registered."""


class ToolNotFoundError(TargetNotFoundError, ToolError):
    """No tool of this name is registered."""


class ToolResultError(ToolError, ValueError):
    """A tool returned a value that is not JSON-serializable, or too large."""


class PathDeniedError(ToolError, PermissionError):
    """A path would leave the tool's root directory (or is malformed)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        """The path that was refused."""


class CommandTimeoutError(ToolError, TimeoutError):
    """A command ran past its timeout and was killed."""


for _cls in (
    CommandTimeoutError,
    PathDeniedError,
    ToolDefinitionError,
    ToolError,
    ToolExistsError,
    ToolNotFoundError,
    ToolResultError,
):
    _cls.__module__ = "agentic.tools"

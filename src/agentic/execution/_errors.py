"""The errors of the execution layer.

```
AgenticError
  ExecutionError
    TargetNotFoundError(ExecutionError, KeyError)
    ArgumentValidationError(ExecutionError, ValueError)
    InvocationTimeoutError(ExecutionError, TimeoutError)
    PolicyDeniedError(ExecutionError, PermissionError)  # a denial inside a retry
    RateLimitedError(ExecutionError)          # retryable, carries retry_after
    ExecutorClosedError(ExecutionError, RuntimeError)
    ProcessingError(ExecutionError)           # a processor broke the chain's contract
    TargetExitError(ExecutionError)           # a target raised SystemExit (sys.exit, argparse)
  ConfigurationError
    PolicyError(ConfigurationError)           # a policy (file) that cannot be loaded
```
"""

from __future__ import annotations

from typing import Any

from agentic.errors import AgenticError, ConfigurationError

__all__ = [
    "ArgumentValidationError",
    "ExecutionError",
    "ExecutorClosedError",
    "InvocationTimeoutError",
    "PolicyDeniedError",
    "PolicyError",
    "ProcessingError",
    "RateLimitedError",
    "TargetExitError",
    "TargetNotFoundError",
]


class ExecutionError(AgenticError):
    """A problem while running an Event through the chain."""


class TargetNotFoundError(ExecutionError, KeyError):
    """No target (tool, provider, plugin) is known under the name a Call asks for."""

    def __init__(self, message: str, *, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        """The name that was looked up."""


class ArgumentValidationError(ExecutionError, ValueError):
    """A Call's arguments do not fit its target's schema."""

    def __init__(self, message: str, *, target: str | None = None, errors: Any = None) -> None:
        super().__init__(message)
        self.target = target
        """The target whose schema rejected the arguments."""
        self.errors = errors
        """The validator's structured errors, if it gave any."""


class InvocationTimeoutError(ExecutionError, TimeoutError):
    """An invocation ran longer than its deadline and was cancelled."""

    def __init__(
        self, message: str, *, seconds: float, target: str | None = None, retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        """Whether a retry may help (configured on the timeout processor)."""
        self.seconds = seconds
        """The deadline that passed."""
        self.target = target
        """What was being invoked."""


class PolicyDeniedError(ExecutionError, PermissionError):
    """A policy refused a Call that was already running (gates deny pending Calls instead)."""


class RateLimitedError(ExecutionError):
    """A rate limit refused an attempt (raised only inside a retry; gates deny instead)."""

    retryable = True
    """A later attempt may pass the limit."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Seconds until the limit would let the attempt through."""


class ExecutorClosedError(ExecutionError, RuntimeError):
    """The executor was stopped and accepts no more Events."""


class ProcessingError(ExecutionError):
    """A processor broke the chain's contract (returned an unfinished Event, say)."""

    def __init__(self, message: str, *, event_id: Any = None) -> None:
        super().__init__(message)
        self.event_id = event_id
        """The id of the Event being processed."""


class TargetExitError(ExecutionError):
    """A target raised `SystemExit` (it called `sys.exit()`, or its argparse failed).

    The exit ends only the invocation, as a failure: it must not stop the host's
    event loop (which is what a `SystemExit` escaping a task does).
    """

    def __init__(self, message: str, *, code: Any = None) -> None:
        super().__init__(message)
        self.code = code
        """The exit code (or message) the target passed to `sys.exit()`."""


class PolicyError(ConfigurationError):
    """A policy, or a policy file, is invalid; the message names the rule and the field."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        rule: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        """The file (or other origin) of the policy."""
        self.rule = rule
        """The rule at fault (its name, or its position as `#n`)."""
        self.field = field
        """The field of that rule at fault."""


# Errors are reported by their qualified names (ErrorInfo.type): show the public path.
for _cls in (
    ArgumentValidationError,
    ExecutionError,
    ExecutorClosedError,
    InvocationTimeoutError,
    PolicyDeniedError,
    PolicyError,
    ProcessingError,
    RateLimitedError,
    TargetExitError,
    TargetNotFoundError,
):
    _cls.__module__ = "agentic.execution"

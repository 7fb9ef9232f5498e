"""Call: the Event that invokes a named target (a tool, a provider, a plugin)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, PrivateAttr

from agentic.execution._errors import ExecutionError, PolicyDeniedError, TargetNotFoundError
from agentic.execution.types import Target
from agentic.primitives import Event

__all__ = ["Call"]


class Call(Event, type_name="Call"):
    """An Event that invokes `target` with `arguments` on behalf of `caller`.

    A Call is plain data: it serializes, crosses actor boundaries and comes back as
    the same Call. The executor *binds* it to a live [`Target`][agentic.execution.Target]
    (through its resolver) before the chain runs; processors read the binding with
    [`bound_target()`][agentic.execution.Call.bound_target].

    Example:
        >>> call = Call(target="read_file", arguments={"path": "notes.txt"}, caller="alice")
        >>> Call.from_json(call.to_json()).arguments
        {'path': 'notes.txt'}
    """

    type_name: ClassVar[str] = "Call"

    target: str
    """The name of what is invoked (a tool name, a provider name, ...)."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """The arguments as the caller gave them (JSON-compatible)."""
    caller: str | None = None
    """Who asked (a branch or actor name); policies may decide by it."""
    kind: str = "tool"
    """What sort of target: `"tool"`, `"provider"`, `"plugin"`, ..."""

    _target: Target | None = PrivateAttr(default=None)
    _bind_error: ExecutionError | None = PrivateAttr(default=None)
    _validated: dict[str, Any] | None = PrivateAttr(default=None)
    _cleared: bool = PrivateAttr(default=False)

    def bind(self, target: Target | None, error: ExecutionError | None = None) -> None:
        """Attach the live target (or the reason none could be found).

        Args:
            target: The resolved target, or None.
            error: Why resolution failed, when `target` is None.
        """
        # Private attributes live in __pydantic_private__; touching that dict directly
        # skips pydantic's __getattr__/__setattr__, which costs a microsecond a time on
        # the hot path of every Call.
        private = self._private()
        private["_target"] = target
        private["_bind_error"] = error
        private["_validated"] = None
        private["_cleared"] = False

    def _private(self) -> dict[str, Any]:
        private = self.__pydantic_private__
        if private is None:  # pragma: no cover - pydantic always sets it for PrivateAttrs
            msg = "Call has no private attribute storage"
            raise RuntimeError(msg)
        return private

    @property
    def is_bound(self) -> bool:
        """Whether a live target is attached."""
        return self._private()["_target"] is not None

    @property
    def is_validated(self) -> bool:
        """Whether the target's checked form of the arguments is attached."""
        return self._private()["_validated"] is not None

    def peek_target(self) -> Target | None:
        """Return the attached target, or None (never raises)."""
        target: Target | None = self._private()["_target"]
        return target

    def bound_target(self) -> Target:
        """Return the attached target.

        Raises:
            TargetNotFoundError: The resolver knew no target of this name, or the Call
                was never bound.
        """
        private = self._private()
        target: Target | None = private["_target"]
        if target is not None:
            return target
        error: ExecutionError | None = private["_bind_error"]
        if error is not None:
            raise error
        msg = f"call {self.id} to {self.target!r} is not bound to a target (no resolver)"
        raise TargetNotFoundError(msg, name=self.target)

    def clear_guard(self) -> None:
        """Record that a policy allowed this Call's guarded target by name."""
        self._private()["_cleared"] = True

    def set_validated(self, arguments: dict[str, Any]) -> None:
        """Keep the target's checked and coerced form of the arguments for the invocation."""
        self._private()["_validated"] = arguments

    async def execute(self) -> Any:
        """Validate (unless already validated) and invoke the bound target.

        Raises:
            PolicyDeniedError: The target is guarded and no policy rule allowed it by
                name (a chain without a policy processor never runs it).
        """
        target = self.bound_target()
        private = self._private()
        if getattr(target, "guarded", False) and not private["_cleared"]:
            msg = (
                f"target {self.target!r} is guarded and no policy rule allowed it by name "
                "(is a PolicyProcessor in the chain?)"
            )
            raise PolicyDeniedError(msg)
        arguments: dict[str, Any] | None = private["_validated"]
        if arguments is None:
            arguments = target.validate(self.arguments)
        return await target.invoke(arguments)

"""ToolRegistry: the tools a Branch may call, by name; a Resolver for the executor."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from agentic.execution import ThreadRunner
from agentic.tools._errors import ToolExistsError, ToolNotFoundError
from agentic.tools._tool import Tool

__all__ = ["ToolRegistry"]


class ToolRegistry:
    """Tools by name, in order of registration; thread-safe.

    It is the [`Resolver`][agentic.execution.Resolver] an
    [`Executor`][agentic.execution.Executor] uses to find the target of a Call.

    Example:
        >>> registry = ToolRegistry()
        >>> @registry.register
        ... def ping() -> str:
        ...     '''Answer pong.'''
        ...     return "pong"
        >>> registry.names()
        ['ping']
    """

    def __init__(
        self, tools: list[Tool] | None = None, *, runner: ThreadRunner | None = None
    ) -> None:
        """Create a registry.

        Args:
            tools: Tools to register at once.
            runner: The thread runner given to sync tools registered from plain
                functions (default: a new one, shared by them).
        """
        self._lock = threading.Lock()
        self._tools: dict[str, Tool] = {}
        self.runner = runner if runner is not None else ThreadRunner(name="agentic-tool")
        """The thread runner shared by tools registered from functions."""
        for item in tools or ():
            self.register(item)

    def register(
        self, tool: Tool | Callable[..., Any], *, replace: bool = False, **options: Any
    ) -> Tool:
        """Register a tool (or make one of a callable, with `Tool` options) and return it.

        Usable as a decorator: `@registry.register`.

        Raises:
            ToolExistsError: A tool of that name is registered and `replace` is false.
            ToolDefinitionError: The callable cannot be a tool.
        """
        if not isinstance(tool, Tool):
            options.setdefault("runner", self.runner)
            tool = Tool(tool, **options)
        elif options:
            msg = f"options {sorted(options)} apply only when registering a plain callable"
            raise TypeError(msg)
        with self._lock:
            if tool.name in self._tools and not replace:
                msg = f"a tool named {tool.name!r} is already registered"
                raise ToolExistsError(msg)
            self._tools[tool.name] = tool
        return tool

    def unregister(self, name: str) -> Tool:
        """Remove and return the tool called `name`.

        Raises:
            ToolNotFoundError: None has that name.
        """
        with self._lock:
            tool = self._tools.pop(name, None)
        if tool is None:
            raise self._not_found(name)
        return tool

    def get(self, name: str) -> Tool:
        """Return the tool called `name`.

        Raises:
            ToolNotFoundError: None has that name (the message lists the known ones).
        """
        tool = self._tools.get(name)
        if tool is None:
            raise self._not_found(name)
        return tool

    resolve = get
    """[`Resolver`][agentic.execution.Resolver] protocol: the same as `get()`."""

    def names(self) -> list[str]:
        """Return the tool names in order of registration."""
        with self._lock:
            return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """Return `{"name", "description", "parameters"}` of every tool."""
        return [t.schema() for t in self]

    def openai_schemas(self) -> list[dict[str, Any]]:
        """Return every tool in OpenAI's function-calling format."""
        return [t.openai_schema() for t in self]

    @property
    def abandoned_threads(self) -> int:
        """Sync calls abandoned to their threads after a timeout, over all tools."""
        runners = {id(t.runner): t.runner for t in self}
        return sum(r.abandoned for r in runners.values())

    def __contains__(self, name: object) -> bool:
        """Return whether a tool of this name is registered."""
        return name in self._tools

    def __len__(self) -> int:
        """Return the number of tools."""
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        """Iterate over a snapshot of the tools, in order of registration."""
        with self._lock:
            return iter(list(self._tools.values()))

    def _not_found(self, name: str) -> ToolNotFoundError:
        known = list(self._tools)
        listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")  # noqa: PLR2004
        msg = f"unknown tool {name!r} (registered: {listed or 'none'})"
        return ToolNotFoundError(msg, name=name)

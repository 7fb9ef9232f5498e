"""ToolManager: the tools a Branch may call, and how its Calls find their targets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from agentic.branches._provider_manager import PROVIDER_PREFIX, ProviderManager
from agentic.execution import Target
from agentic.providers import ToolSpec
from agentic.tools import Tool, ToolRegistry

__all__ = ["BranchResolver", "ToolManager"]


class ToolManager:
    """The tools of one Branch, kept in a [`ToolRegistry`][agentic.tools.ToolRegistry]."""

    def __init__(
        self, tools: Iterable[Tool | Callable[..., Any]] = (), registry: ToolRegistry | None = None
    ) -> None:
        """Create a manager around `registry` (a new one by default) with `tools` added."""
        self.registry = registry if registry is not None else ToolRegistry()
        """The registry that holds the tools."""
        for item in tools:
            self.register(item)

    def register(self, tool: Tool | Callable[..., Any], *, replace: bool = False) -> Tool:
        """Add a tool (or make one from a typed callable) and return it."""
        return self.registry.register(tool, replace=replace)

    def names(self) -> list[str]:
        """Return the tools' names, in order of registration."""
        return self.registry.names()

    def specs(self) -> list[ToolSpec]:
        """Return the tools as the specs a provider offers to its model."""
        return [ToolSpec.model_validate(tool.schema()) for tool in self.registry]


class BranchResolver:
    """Finds a Call's target: `provider:<name>` among providers, anything else among tools."""

    def __init__(self, tools: ToolManager, providers: ProviderManager) -> None:
        """Resolve against these managers."""
        self._tools = tools
        self._providers = providers

    def resolve(self, name: str) -> Target:
        """Return the target called `name`.

        Raises:
            TargetNotFoundError: Neither a tool nor a provider has that name.
        """
        if name.startswith(PROVIDER_PREFIX):
            return self._providers.resolve(name)
        return self._tools.registry.resolve(name)

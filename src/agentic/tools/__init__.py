"""Typed tools: Python callables with JSON Schemas, a registry, and built-in tools.

A [`Tool`][agentic.tools.Tool] is an execution [`Target`][agentic.execution.Target];
a [`ToolRegistry`][agentic.tools.ToolRegistry] is a
[`Resolver`][agentic.execution.Resolver], so `Executor(registry)` runs `Call`s to them.
"""

from agentic.tools._command import command_tool
from agentic.tools._errors import (
    CommandTimeoutError,
    PathDeniedError,
    ToolDefinitionError,
    ToolError,
    ToolExistsError,
    ToolNotFoundError,
    ToolResultError,
)
from agentic.tools._files import file_tools
from agentic.tools._registry import ToolRegistry
from agentic.tools._sandbox import MAX_PATH_BYTES, Sandbox
from agentic.tools._tool import DEFAULT_MAX_RESULT_BYTES, Tool, tool

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
    "MAX_PATH_BYTES",
    "CommandTimeoutError",
    "PathDeniedError",
    "Sandbox",
    "Tool",
    "ToolDefinitionError",
    "ToolError",
    "ToolExistsError",
    "ToolNotFoundError",
    "ToolRegistry",
    "ToolResultError",
    "command_tool",
    "file_tools",
    "tool",
]

"""Errors of the CLI itself, and how every error maps to an exit code."""

from __future__ import annotations

from agentic.errors import AgenticError

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ChatOvertakenError",
    "CliInputError",
    "exit_code_for",
]

EXIT_OK = 0
"""The command did what it was asked."""
EXIT_FAILED = 1
"""The work failed (a workflow step failed, the state directory is unusable, ...)."""
EXIT_USAGE = 2
"""Bad usage or bad input: nothing was changed."""


class CliInputError(AgenticError, ValueError):
    """An argument or input file the CLI cannot use (unreadable, not UTF-8, not JSON)."""


class ChatOvertakenError(AgenticError):
    """A chat was run again and again, each time overtaken by another chat on its branch."""


def exit_code_for(exc: BaseException) -> int:
    """Return the exit code for an error that ended a command."""
    from agentic.store import StoreError  # noqa: PLC0415 - loaded on the error path only

    if isinstance(exc, StoreError) and not _is_input(exc):
        return EXIT_FAILED
    if isinstance(exc, AgenticError):
        return EXIT_USAGE if _is_input(exc) else EXIT_FAILED
    if isinstance(exc, (RecursionError, UnicodeError)):
        return EXIT_USAGE
    return EXIT_FAILED


def _is_input(exc: BaseException) -> bool:
    from agentic.store import StoreError  # noqa: PLC0415

    if isinstance(exc, StoreError):
        return False  # a corrupt record is a ValueError, but not the caller's input
    return isinstance(exc, (ValueError, LookupError, TypeError))

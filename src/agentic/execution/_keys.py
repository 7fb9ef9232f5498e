"""Default keys for per-key limits."""

from __future__ import annotations

from agentic.execution._call import Call
from agentic.primitives import Event

__all__ = ["by_target"]


def by_target(event: Event) -> str:
    """Key an Event by its target name (a Call) or its type name (any other Event)."""
    return event.target if isinstance(event, Call) else event.type_name

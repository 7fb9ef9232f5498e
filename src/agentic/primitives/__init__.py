"""The primitives: typed Elements, ordered Progressions, thread-safe Piles, Events and Logs.

This package has no threads of its own and imports no actor machinery.
"""

from agentic.primitives._registry import lookup_type, registered_types
from agentic.primitives.element import TYPE_KEY, Element, new_id, to_id
from agentic.primitives.event import Attempt, ErrorInfo, Event, EventStatus, Execution
from agentic.primitives.log import Log
from agentic.primitives.pile import Pile
from agentic.primitives.progression import Progression

__all__ = [
    "TYPE_KEY",
    "Attempt",
    "Element",
    "ErrorInfo",
    "Event",
    "EventStatus",
    "Execution",
    "Log",
    "Pile",
    "Progression",
    "lookup_type",
    "new_id",
    "registered_types",
    "to_id",
]

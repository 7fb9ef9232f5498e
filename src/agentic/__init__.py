"""agentic: an actor-system runtime for AI-agent work.

Importing `agentic` loads only the primitives and the errors; the actor runtime, the
executor and the CLI load when their packages are imported.
"""

from importlib import metadata as _metadata

from agentic import errors
from agentic.primitives import Element, Event, EventStatus, Log, Pile, Progression

try:
    __version__ = _metadata.version("agentic")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "Element",
    "Event",
    "EventStatus",
    "Log",
    "Pile",
    "Progression",
    "__version__",
    "errors",
]

"""agentic: an actor-system runtime for AI-agent work.

Importing `agentic` loads only the primitives and the errors; the actor runtime, the
executor and the CLI load when their packages are imported. `__version__` is read
from the installed distribution's metadata on first access (importlib.metadata costs
tens of milliseconds, which a CLI that never prints the version should not pay).
"""

import typing as _typing

from agentic import errors
from agentic.primitives import Element, Event, EventStatus, Log, Pile, Progression

if _typing.TYPE_CHECKING:
    __version__: str

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


def __getattr__(name: str) -> str:
    """Compute `__version__` on first access (PEP 562); no other name is lazy."""
    if name != "__version__":
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    from importlib import metadata  # noqa: PLC0415 - only when the version is asked for

    try:
        version = metadata.version("agentic")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        version = "0.0.0"
    globals()["__version__"] = version
    return version


def __dir__() -> list[str]:
    """List the module's names, `__version__` included before its first access."""
    return sorted({*globals(), *__all__})

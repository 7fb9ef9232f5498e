"""LogManager: the audit trail of a Branch."""

from __future__ import annotations

from typing import Any

from agentic.errors import SerializationError
from agentic.primitives import EventStatus, Log, Pile

__all__ = ["LogManager"]


class LogManager:
    """Keeps the Logs of every Event a Branch ran, in the order they finished.

    The Branch's audit processor appends to [`logs`][agentic.branches.LogManager.logs]
    from the runtime's loop thread (a Pile is thread-safe); the Pile object never
    changes for the life of the Branch, so an import refills it in place.
    """

    def __init__(self, logs: Pile[Log] | None = None) -> None:
        """Create a manager, optionally around an existing Pile of Logs."""
        self.logs: Pile[Log] = logs if logs is not None else Pile(item_type=Log, name="logs")
        """The Logs, oldest first."""

    def add(self, log: Log) -> None:
        """Record a Log."""
        self.logs.include(log)

    def replace(self, logs: list[Log]) -> None:
        """Replace every Log with `logs` (in that order); the Branch calls it only when idle."""
        self.logs.clear()
        self.logs.include(logs)

    def counts(self) -> dict[str, int]:
        """Return how many Logs end in each status."""
        counts = dict.fromkeys((s.value for s in EventStatus if s.is_terminal), 0)
        for log in self.logs:
            counts[log.status] = counts.get(log.status, 0) + 1
        return counts

    def to_dict(self) -> list[dict[str, Any]]:
        """Return the Logs as JSON-compatible data, oldest first."""
        return [log.to_dict() for log in self.logs]

    @staticmethod
    def parse(data: Any) -> list[Log]:
        """Read Logs from [`to_dict()`][agentic.branches.LogManager.to_dict] output.

        Raises:
            SerializationError: `data` is not a list of Log documents.
        """
        if not isinstance(data, list):
            msg = f"branch logs must be a list, not {type(data).__name__}"
            raise SerializationError(msg)
        return [Log.from_dict(item) for item in data]

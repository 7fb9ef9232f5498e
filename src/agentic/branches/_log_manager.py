"""LogManager: the audit trail of a Branch."""

from __future__ import annotations

from typing import Any

from agentic.errors import SerializationError
from agentic.execution import AuditProcessor
from agentic.primitives import EventStatus, Log, Pile

__all__ = ["LogManager"]


class LogManager:
    """Keeps the Logs of every Event a Branch ran, in the order they finished.

    It owns the Branch's [`AuditProcessor`][agentic.execution.AuditProcessor], the
    outermost layer of the Branch's chain, in its lazy mode: on the runtime's loop a
    finished Event is only snapshotted, and its immutable Log is built when the Logs
    are next read ([`logs`][agentic.branches.LogManager.logs]), off the agent loop's
    path. The Pile object never changes for the life of the Branch.
    """

    def __init__(self, logs: Pile[Log] | None = None, *, max_logs: int | None = None) -> None:
        """Create a manager, optionally around an existing Pile of Logs.

        Args:
            logs: The Pile to keep the Logs in (a new one by default).
            max_logs: Keep only the newest this many Logs (None: keep all), so a
                long-running Branch stays bounded.
        """
        pile: Pile[Log] = logs if logs is not None else Pile(item_type=Log, name="logs")
        self.audit = AuditProcessor(pile, lazy=True, max_logs=max_logs)
        """The audit processor that records the Branch's Events into the Logs."""

    @property
    def logs(self) -> Pile[Log]:
        """The Logs, oldest first (building those still pending)."""
        return self.audit.logs

    def add(self, log: Log) -> None:
        """Record a Log."""
        self.logs.include(log)

    def replace(self, logs: list[Log]) -> None:
        """Replace every Log with `logs` (in that order); the Branch calls it only when idle."""
        pile = self.logs
        pile.clear()
        pile.include(logs)

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

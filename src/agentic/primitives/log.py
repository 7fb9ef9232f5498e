"""Log: the immutable audit record of a finished Event."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from pydantic import ConfigDict

from agentic.primitives.element import Element

__all__ = ["Log"]


class Log(Element):
    """An immutable record of a finished Event, for audit.

    `record` holds the Event's whole serialized form (its type, arguments, status and
    execution record) as it was when the Log was made; later changes to the Event do
    not reach it. [`Element.from_dict()`][agentic.primitives.Element.from_dict] turns
    `record` back into the Event.
    """

    model_config = ConfigDict(frozen=True)
    type_name: ClassVar[str] = "Log"

    event_id: UUID
    """The id of the Event this Log records."""
    event_type: str
    """The registered type name of that Event."""
    status: str
    """Its terminal status."""
    record: dict[str, Any]
    """The Event as a JSON-compatible document."""

    @classmethod
    def of(cls, record: dict[str, Any]) -> Log:
        """Build a Log from a serialized Event document."""
        return cls(
            event_id=record["id"],
            event_type=record["$type"],
            status=record["status"],
            record=record,
        )

"""UsageProcessor: put a provider call's token counts and cost on its Event for the audit."""

from __future__ import annotations

from typing import Any

from agentic.execution import Call, CallNext
from agentic.primitives import Event, EventStatus

__all__ = ["UsageProcessor"]


class UsageProcessor:
    """Copy usage and cost from a completed provider call into `event.metadata`.

    It sits just inside the Branch's audit processor, so every audit Log of a provider
    call carries `record["metadata"]["usage"]` (`input_tokens`, `output_tokens`,
    `total_tokens`), `["cost"]` (None without pricing) and `["model"]`, next to the
    decisions the gates noted; the structlog line of the audit shows the same Event.
    """

    async def __call__(self, event: Event, call_next: CallNext) -> Event:
        """Run the rest of the chain, then note the usage of a completed provider call."""
        event = await call_next(event)
        if (
            event.status is EventStatus.COMPLETED
            and isinstance(event, Call)
            and event.kind == "provider"
        ):
            note_usage(event, event.execution.response)
        return event


def note_usage(event: Event, response: Any) -> None:
    """Record the usage in a ChatResponse document on `event.metadata`."""
    if not isinstance(response, dict):
        return
    usage = response.get("usage") or {}
    tokens_in = int(usage.get("input_tokens") or 0)
    tokens_out = int(usage.get("output_tokens") or 0)
    event.metadata["usage"] = {
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
    }
    event.metadata["cost"] = response.get("cost")
    event.metadata["model"] = response.get("model")

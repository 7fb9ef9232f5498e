"""The bookkeeping of a Branch's turns in flight: a chat, a plan, a structured answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from agentic.branches._messages import AssistantMessage, ToolResultMessage
from agentic.branches._protocol import Chat, ChatModel, PlanStep, RunPlan

__all__ = ["ChatRun", "Finish", "ModelRun", "PlanRun", "Usage", "turn_messages"]

Finish = tuple[str, tuple[Any, ...]]
"""Who hears of a run's end: a method name of the Branch and its first arguments; it is
called as `method(*args, result, error)`. A name, not a bound method, so the
continuation reaches the *current* Branch object after a restart."""


@dataclass
class Usage:
    """Tokens and cost summed over the provider calls of a run."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None

    def add(self, usage: dict[str, Any], cost: float | None) -> None:
        """Add one response's usage and cost."""
        self.input_tokens += int(usage.get("input_tokens") or 0)
        self.output_tokens += int(usage.get("output_tokens") or 0)
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost

    def tokens(self) -> dict[str, int]:
        """Return the counts as a dict."""
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


@dataclass
class ChatRun:
    """One run of the agent loop."""

    request: Chat
    finish: Finish
    steps: int = 0
    tool_calls: int = 0
    reply: AssistantMessage | None = None
    batch: list[str] = field(default_factory=list)
    """The ids of the tool calls in flight, in the model's order."""
    results: dict[int, ToolResultMessage] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    done: bool = False
    cancelled: Exception | None = None
    """Set when a Cancel stops the run: it ends with this error, whatever else happens."""


@dataclass
class PlanRun:
    """A plan: steps run one after the other, each as a chat turn."""

    request: RunPlan
    finish: Finish
    plan: UUID
    texts: list[str] = field(default_factory=list)
    source: str = "given"
    steps: list[PlanStep] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    current: ChatRun | None = None
    done: bool = False
    cancelled: Exception | None = None
    """Set when a Cancel stops the run: it ends with this error, whatever else happens."""


@dataclass
class ModelRun:
    """A structured answer, with its repair rounds."""

    request: ChatModel
    finish: Finish
    attempts: int = 0
    added: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    done: bool = False
    cancelled: Exception | None = None
    """Set when a Cancel stops the run: it ends with this error, whatever else happens."""


def turn_messages(run: Any) -> int:
    """Count the messages the turn `run` has added to the conversation so far.

    A plan takes over its current step's messages only when that step ends, so a
    step in progress counts too.
    """
    added = len(getattr(run, "added", ()))
    current = getattr(run, "current", None)
    if isinstance(current, ChatRun) and not current.done:
        added += len(current.added)
    return added

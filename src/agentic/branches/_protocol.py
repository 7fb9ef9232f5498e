"""The messages a Branch actor understands, and what it answers.

Every request and every answer is a value that serializes (frozen pydantic models and
NamedTuples of such values; errors pickle with their attributes), so the same Branch
can later be hosted by an engine that ships messages between processes. The one
exception is [`RegisterTool`][agentic.branches.RegisterTool]: a tool is code.

Requests that finish later (`InvokeTool`, `Chat`, `RunPlan`, `ChatModel`) carry a
`ticket`. The Branch answers the ask at once with [`Accepted`][agentic.branches.Accepted]
and, when the work is done, publishes an [`Outcome`][agentic.branches.Outcome] on the
system's bus under [`reply_topic(branch, ticket)`][agentic.branches.reply_topic];
[`Cancel`][agentic.branches.Cancel] with that ticket ends the request early.
[`BranchRef`][agentic.branches.BranchRef] does this dance for you.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal, NamedTuple
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from agentic.branches._messages import AssistantMessage, Message
from agentic.primitives import Element

__all__ = [
    "Accepted",
    "AddMessage",
    "BranchInfo",
    "BranchStatus",
    "Cancel",
    "Chat",
    "ChatDelta",
    "ChatModel",
    "ChatResult",
    "Export",
    "Import",
    "Info",
    "InvokeTool",
    "Outcome",
    "PlanResult",
    "PlanStep",
    "ReadMessages",
    "Rejected",
    "RunPlan",
    "StreamStart",
    "StructuredResult",
    "reply_topic",
    "stream_topic",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def reply_topic(branch: str, ticket: UUID) -> str:
    """Return the bus topic where `branch` publishes the outcome of request `ticket`."""
    return f"branch.{branch}.reply.{ticket.hex}"


def stream_topic(branch: str, ticket: UUID) -> str:
    """Return the bus topic where `branch` publishes the text of streaming chat `ticket`."""
    return f"branch.{branch}.stream.{ticket.hex}"


class BranchStatus(StrEnum):
    """Where a Branch is in its life.

    `created` → `ready` (started, idle) ⇄ `running` (a turn or an Event in flight)
    → `stopped`. A stopped Branch takes no request: its ref raises
    [`BranchStoppedError`][agentic.branches.BranchStoppedError].
    """

    CREATED = "created"
    READY = "ready"
    RUNNING = "running"
    STOPPED = "stopped"


class AddMessage(BaseModel):
    """Append a message to the conversation; answers the message.

    While a turn (a chat, a plan, a structured chat) runs, the message waits behind
    it and the turns queued before it, so a turn's messages stay together.
    """

    model_config = _FROZEN
    message: Message


class ReadMessages(BaseModel):
    """Answer the conversation's messages in order (the last `last`, if given)."""

    model_config = _FROZEN
    last: int | None = None


class InvokeTool(BaseModel):
    """Run a tool as an Event through the Branch's chain; the outcome is the finished Event."""

    model_config = _FROZEN
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ticket: UUID | None = None


class Chat(BaseModel):
    """Send a user message and run the agent loop until a final answer or the step limit.

    The outcome is a [`ChatResult`][agentic.branches.ChatResult]. Turns run one at a
    time, in arrival order.
    """

    model_config = _FROZEN
    text: str
    provider: str | None = None
    max_steps: int = Field(default=8, ge=1, le=1000)
    use_tools: bool = True
    stream: bool = False
    """Publish the answers' text as it arrives, as [`ChatDelta`][agentic.branches.ChatDelta]s
    under [`stream_topic(branch, ticket)`][agentic.branches.stream_topic] (needs a ticket)."""
    ticket: UUID | None = None


class ChatDelta(BaseModel):
    """A piece of a streaming chat, as it happens: new answer text, or a tool call or result."""

    model_config = _FROZEN
    step: int
    """The model call of the turn it belongs to (1 for the first)."""
    text: str
    """The new text ("" on a restart)."""
    restart: bool = False
    """The step's model call is being tried again (after a retryable failure): forget
    the text this step streamed so far."""
    message: Message | None = None
    """A tool call the step's answer asked for (as it starts), or a tool's result (as it
    ends); `text` is "" then. Results arrive in the order the tools finish; the
    conversation holds them in the order the model asked for them."""


class StreamStart(NamedTuple):
    """Published (before any text) each time a streaming model call starts an attempt."""

    step: int
    """The model call of the turn."""


class RunPlan(BaseModel):
    """Plan `goal` as steps (or take `steps`) and run each step as a chat turn, in order.

    The outcome is a [`PlanResult`][agentic.branches.PlanResult]. With no `steps`, the
    model is asked for a plan (`{"steps": [...]}`); an answer that is not such a plan
    (the offline provider's echo, say) makes the goal itself the only step.
    """

    model_config = _FROZEN
    goal: str
    steps: tuple[str, ...] | None = None
    provider: str | None = None
    max_steps: int = Field(default=8, ge=1, le=1000)
    """The agent loop's step limit for each plan step."""
    use_tools: bool = True
    ticket: UUID | None = None


class ChatModel(BaseModel):
    """Ask for an answer that is one JSON value matching `json_schema`.

    The outcome is a [`StructuredResult`][agentic.branches.StructuredResult]. When the
    answer does not parse or match, the model is asked to fix it (`repair_rounds`
    times at most); each model call is an Event through the chain.
    """

    model_config = _FROZEN
    text: str
    json_schema: dict[str, Any]
    model_name: str = "Answer"
    provider: str | None = None
    repair_rounds: int = Field(default=1, ge=0, le=5)
    ticket: UUID | None = None


class Cancel(BaseModel):
    """End a request early: the one with `ticket`, or (no ticket) the running turn.

    Answers whether there was one to end. A queued turn is dropped. The running turn
    stops where it is: its model and tool calls in flight are cancelled, each tool call
    the model asked for and that has no result yet gets an error result (so the
    conversation stays well-formed for the next model call), and the messages it added
    stay. A plan records its current step as `cancelled`. An `InvokeTool`'s Event is
    cancelled. The request's caller hears
    [`RequestCancelledError`][agentic.branches.RequestCancelledError] (for `InvokeTool`:
    the cancelled Event). A ticket that is unknown or already answered changes nothing.
    """

    model_config = _FROZEN
    ticket: UUID | None = None
    reason: str = "cancelled by the caller"


class Export(BaseModel):
    """Answer the Branch's whole state as JSON-compatible data (the first `upto` messages)."""

    model_config = _FROZEN
    upto: int | None = None


class Import(BaseModel):
    """Replace the Branch's state with an exported one (only when idle)."""

    model_config = _FROZEN
    state: dict[str, Any]


class Info(BaseModel):
    """Answer a [`BranchInfo`][agentic.branches.BranchInfo]."""

    model_config = _FROZEN


class Accepted(NamedTuple):
    """The answer to a request that finishes later: its outcome will carry `ticket`."""

    ticket: UUID
    """The request's ticket."""


class Rejected(NamedTuple):
    """The answer to a request the Branch refused; the Branch itself is fine.

    [`BranchRef`][agentic.branches.BranchRef] raises `error`. A refusal is not a
    failure of the actor, so it does not count towards restarts.
    """

    error: Exception
    """Why (a `BranchError`, a tool definition error, ...)."""


class Outcome(NamedTuple):
    """How a deferred request ended (published on its `reply_topic`)."""

    ticket: UUID
    """The request's ticket."""
    result: Any = None
    """The result (a finished Event, a ChatResult, ...) when it succeeded."""
    error: Exception | None = None
    """The error when it did not."""


class BranchInfo(BaseModel):
    """A summary of a Branch.

    Frozen, and shared between askers while nothing it shows changes: treat its lists
    as read-only.
    """

    model_config = _FROZEN
    name: str
    status: BranchStatus
    messages: int
    logs: int
    in_flight: int
    tools: list[str]
    providers: list[str]
    default_provider: str
    queued: int = 0
    """Turns (and messages) waiting behind the running turn."""


class ChatResult(BaseModel):
    """How a chat (one run of the agent loop) ended."""

    model_config = ConfigDict(frozen=True)
    reply: AssistantMessage | None
    """The final answer (None when the step limit stopped the loop first)."""
    steps: int
    """Provider calls made."""
    tool_calls: int
    """Tool calls run."""
    stopped: Literal["answer", "max_steps"]
    """Why the loop ended."""
    message_ids: list[str]
    """The messages this chat added, in conversation order."""
    usage: dict[str, int] = Field(default_factory=dict)
    """Tokens over every provider call of the chat (`input_tokens`, `output_tokens`)."""
    cost: float | None = None
    """The price of those calls, when the provider has a pricing."""

    @property
    def content(self) -> str:
        """The final answer's text ("" when there is none)."""
        return self.reply.content if self.reply is not None else ""


class PlanStep(Element):
    """One step of a plan, kept in the Branch's `steps` Pile with its result."""

    model_config = ConfigDict(frozen=True)
    type_name: ClassVar[str] = "PlanStep"
    plan: UUID
    """The plan it belongs to."""
    index: int
    """Its position in the plan (0-based)."""
    text: str
    """What the step asks."""
    status: Literal["done", "max_steps", "failed", "cancelled"] = "done"
    """How its chat turn ended."""
    result: str = ""
    """The turn's final answer (or the error, when it failed)."""
    message_ids: list[str] = Field(default_factory=list)
    """The messages its turn added."""

    def __hash__(self) -> int:
        """Hash by id."""
        return hash(self.id)


class PlanResult(BaseModel):
    """How a plan ran: its steps in order, each with its result."""

    model_config = ConfigDict(frozen=True)
    type_name: ClassVar[str] = "PlanStep"
    plan: UUID
    """The plan's id (every step's `plan`)."""
    goal: str
    """What the plan was for."""
    source: Literal["given", "model", "goal"]
    """Where the steps came from: given, planned by the model, or the goal alone."""
    steps: list[PlanStep]
    """The steps, in the order they ran."""
    completed: bool
    """Whether every step reached an answer."""

    @property
    def content(self) -> str:
        """The last step's result."""
        return self.steps[-1].result if self.steps else ""


class StructuredResult(BaseModel):
    """The answer to a `ChatModel`: the JSON value, and the reply it came from."""

    model_config = ConfigDict(frozen=True)
    value: Any
    """The parsed JSON value (it matched the schema)."""
    reply: AssistantMessage
    """The answer that held it."""
    attempts: int
    """Model calls made (1 + repairs)."""
    message_ids: list[str]
    """The messages this turn added."""

"""BranchHistory: a branch's conversation rebuilt from its stream, and new chats recorded."""

from __future__ import annotations

from typing import Any

from agentic.kernel._state_errors import EntryNotFoundError
from agentic.store import EventStore, NewRecord

__all__ = ["BranchHistory"]


class BranchHistory:
    """The records of branch `name` (stream `branch-<name>`), folded into its state.

    `branch.created` holds the provider and system prompt; each `branch.chat` holds
    the user's text, the reply, and the messages and Logs that chat added. Replaying
    them gives the state a new Branch starts from (`spawn_branch(..., state=...)`),
    so a conversation continues across processes.

    Args:
        store: The event store.
        name: The branch's name.

    Raises:
        EntryNotFoundError: The stream holds no branch.
    """

    def __init__(self, store: EventStore, name: str) -> None:
        self.store = store
        self.name = name
        """The branch's name."""
        self.stream = f"branch-{name}"
        """Its stream."""
        self.provider: str | None = None
        """The provider its chats use (the default one if None)."""
        self.system: str | None = None
        """Its system prompt."""
        self.messages: list[dict[str, Any]] = []
        """Its messages, in conversation order (Message documents)."""
        self.logs: list[dict[str, Any]] = []
        """The audit Logs of its calls (Log documents)."""
        self.chats = 0
        """How many chats it has had."""
        self.sequence = 0
        """The stream's last sequence number."""
        for record in store.read(self.stream):
            self.sequence = record.sequence
            if record.type == "branch.created":
                self.provider = record.payload.get("provider")
                self.system = record.payload.get("system")
            elif record.type == "branch.chat":
                self.messages.extend(record.payload.get("messages", []))
                self.logs.extend(record.payload.get("logs", []))
                self.chats += 1
        if self.sequence == 0:
            msg = f"branch {name!r} not found"
            raise EntryNotFoundError(msg, kind="branch", key=name)

    def state(self) -> dict[str, Any] | None:
        """Return the exported-state document to start a Branch from (None: empty)."""
        if not self.messages:
            return None
        from agentic.branches import STATE_FORMAT, Message  # noqa: PLC0415 - heavy
        from agentic.primitives import Pile, Progression  # noqa: PLC0415

        pile = Pile((Message.from_dict(m) for m in self.messages), item_type=Message)
        order = Progression(message.id for message in pile)
        return {
            "format": STATE_FORMAT,
            "messages": {"messages": pile.to_dict(), "conversation": order.to_dict()},
            "logs": list(self.logs),
        }

    def record_chat(self, text: str, reply: str, exported: dict[str, Any]) -> None:
        """Append what a chat added, given the Branch's export after it.

        Raises:
            ConcurrencyError: Another process recorded a chat on this branch meanwhile.
        """
        from agentic.branches import MessageManager  # noqa: PLC0415 - heavy

        manager = MessageManager.from_dict(exported["messages"])
        known = {m.get("id") for m in self.messages}
        new = [
            manager.messages[key].to_dict() for key in manager.conversation if str(key) not in known
        ]
        logs = list(exported.get("logs", []))[len(self.logs) :]
        payload = {"text": text, "reply": reply, "messages": new, "logs": logs}
        self.store.append(
            self.stream, [NewRecord("branch.chat", payload)], expected_sequence=self.sequence
        )
        self.messages.extend(new)
        self.logs.extend(logs)
        self.chats += 1
        self.sequence += 1

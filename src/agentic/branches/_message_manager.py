"""MessageManager: a Branch's conversation, as a Pile of Messages in conversation order."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from agentic.branches._messages import Message, Role
from agentic.primitives import Pile, Progression

__all__ = ["MessageManager"]


class MessageManager:
    """Keeps a Branch's messages: a Pile of typed Messages whose order is the conversation.

    The Pile's own order is the order the model sees, so appending a message is one
    Pile write. [`conversation`][agentic.branches.MessageManager.conversation] gives that
    order as a Progression (with a stable id, so exporting twice gives the same
    document). A MessageManager belongs to one Branch and is only touched from its
    handlers.
    """

    def __init__(
        self, messages: Pile[Message] | None = None, conversation: Progression | None = None
    ) -> None:
        """Create a manager, optionally around existing state.

        Args:
            messages: The messages (a new Pile by default).
            conversation: Their order, when it is not the Pile's own: the manager then
                keeps only those messages, in that order.
        """
        pile = messages if messages is not None else Pile(item_type=Message, name="messages")
        if conversation is not None and conversation.ids() != pile.keys():
            pile = Pile(pile[conversation], item_type=Message, name=pile.name, id=pile.id)
        self.messages: Pile[Message] = pile
        """Every message of the conversation, in order."""
        self._conversation: tuple[UUID, str | None] = (
            (conversation.id, conversation.name)
            if conversation is not None
            else (uuid.uuid4(), "conversation")
        )

    @property
    def conversation(self) -> Progression:
        """The order of the conversation (a copy)."""
        ident, name = self._conversation
        return Progression(self.messages.keys(), name=name, id=ident)

    def add(self, message: Message) -> Message:
        """Append a message to the conversation and return it (a known id is kept once)."""
        self.messages.include(message)
        return message

    def read(self, *, last: int | None = None, role: Role | None = None) -> list[Message]:
        """Return the conversation's messages in order, optionally the last few or one role's."""
        if role is None:
            if last is None:
                return self.messages.values()
            return self.messages[-last:] if last > 0 else []
        found = [m for m in self.messages.values() if m.role == role]
        if last is not None:
            found = found[-last:] if last > 0 else []
        return found

    def __len__(self) -> int:
        """Return the length of the conversation."""
        return len(self.messages)

    def fork(self, upto: int | None = None) -> MessageManager:
        """Return a copy holding the first `upto` messages of the conversation (all by default).

        The copy keeps the ids of the Pile and the conversation, so exporting twice
        gives the same document.
        """
        kept = self.messages.values() if upto is None else self.messages[:upto]
        pile = Pile(kept, item_type=Message, name=self.messages.name, id=self.messages.id)
        copy = MessageManager(pile)
        copy._conversation = self._conversation
        return copy

    def to_dict(self) -> dict[str, Any]:
        """Return the messages and the conversation order as JSON-compatible data."""
        return {"messages": self.messages.to_dict(), "conversation": self.conversation.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MessageManager:
        """Rebuild a manager from [`to_dict()`][agentic.branches.MessageManager.to_dict]."""
        messages = Pile.from_dict(data["messages"], item_type=Message)
        return cls(messages, Progression.from_dict(data["conversation"]))

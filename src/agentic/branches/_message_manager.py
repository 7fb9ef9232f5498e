"""MessageManager: a Branch's conversation, as a Pile of Messages in a Progression."""

from __future__ import annotations

from typing import Any

from agentic.branches._messages import Message, Role
from agentic.primitives import Pile, Progression

__all__ = ["MessageManager"]


class MessageManager:
    """Keeps a Branch's messages: a Pile of typed Messages ordered by the conversation.

    The conversation Progression is the order the model sees; the Pile may hold more
    (messages that a fork or an edit left out of the conversation stay addressable).
    A MessageManager belongs to one Branch and is only touched from its handlers.
    """

    def __init__(
        self, messages: Pile[Message] | None = None, conversation: Progression | None = None
    ) -> None:
        """Create a manager, optionally around existing state."""
        self.messages: Pile[Message] = (
            messages if messages is not None else Pile(item_type=Message, name="messages")
        )
        """Every message of the branch."""
        self.conversation: Progression = (
            conversation
            if conversation is not None
            else Progression(self.messages.keys(), name="conversation")
        )
        """The order of the conversation."""

    def add(self, message: Message) -> Message:
        """Append a message to the conversation and return it."""
        self.messages.include(message)
        self.conversation.include(message.id)
        return message

    def read(self, *, last: int | None = None, role: Role | None = None) -> list[Message]:
        """Return the conversation's messages in order, optionally the last few or one role's."""
        if role is None and last is not None:  # only the tail: slice the ids first
            ids = self.conversation.ids()[-last:] if last > 0 else []
            return [self.messages[key] for key in ids]
        found = self.messages[self.conversation]
        if role is not None:
            found = [m for m in found if m.role == role]
        if last is not None:
            found = found[-last:] if last > 0 else []
        return found

    def __len__(self) -> int:
        """Return the length of the conversation."""
        return len(self.conversation)

    def fork(self, upto: int | None = None) -> MessageManager:
        """Return a copy holding the first `upto` messages of the conversation (all by default).

        The copy keeps the ids of the Pile and the Progression, so exporting twice
        gives the same document.
        """
        ids = self.conversation.ids() if upto is None else self.conversation.ids()[:upto]
        kept = Progression(ids, name=self.conversation.name, id=self.conversation.id)
        pile = Pile(
            self.messages[kept], item_type=Message, name=self.messages.name, id=self.messages.id
        )
        return MessageManager(pile, kept)

    def to_dict(self) -> dict[str, Any]:
        """Return the messages and the conversation order as JSON-compatible data."""
        return {"messages": self.messages.to_dict(), "conversation": self.conversation.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MessageManager:
        """Rebuild a manager from [`to_dict()`][agentic.branches.MessageManager.to_dict]."""
        messages = Pile.from_dict(data["messages"], item_type=Message)
        return cls(messages, Progression.from_dict(data["conversation"]))

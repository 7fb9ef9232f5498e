"""MessageManager and LogManager: a conversation in a Pile and Progression; the audit trail."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic.branches import (
    AssistantMessage,
    LogManager,
    MessageManager,
    Role,
    SystemMessage,
    UserMessage,
)
from agentic.errors import SerializationError
from agentic.primitives import Event

texts = st.lists(st.text(max_size=8), max_size=12)


class TestMessageManager:
    @given(texts, st.integers(min_value=-3, max_value=15))
    def test_read_last_is_the_tail(self, contents, last):
        """read(last=n) is the last n messages in order (none for n <= 0)."""
        manager = MessageManager()
        for text in contents:
            manager.add(UserMessage(content=text))
        expected = contents[-last:] if last > 0 else []
        assert [m.content for m in manager.read(last=last)] == expected

    @given(texts, st.integers(min_value=0, max_value=15))
    def test_fork_and_round_trip(self, contents, upto):
        """A fork holds the first `upto` messages; to_dict/from_dict gives the same document."""
        manager = MessageManager()
        for text in contents:
            manager.add(UserMessage(content=text))
        fork = manager.fork(upto)
        assert [m.content for m in fork.read()] == contents[:upto]
        again = MessageManager.from_dict(fork.to_dict())
        assert again.to_dict() == fork.to_dict()

    def test_read_by_role(self):
        """read(role=...) keeps one role's messages, in order."""
        manager = MessageManager()
        for message in (
            SystemMessage(content="s"),
            UserMessage(content="u"),
            AssistantMessage(content="a"),
        ):
            manager.add(message)
        assert [m.content for m in manager.read(role=Role.USER)] == ["u"]
        assert len(manager) == 3


class TestLogManager:
    def test_counts_and_round_trip(self):
        """Logs count by status and come back from their documents."""
        manager = LogManager()
        done = Event()
        done.start()
        done.complete("ok")
        cancelled = Event()
        cancelled.cancel("no")
        manager.add(done.to_log())
        manager.add(cancelled.to_log())
        counts = manager.counts()
        assert (counts["completed"], counts["cancelled"], counts["failed"]) == (1, 1, 0)
        assert [log.event_id for log in LogManager.parse(manager.to_dict())] == [
            done.id,
            cancelled.id,
        ]

    def test_parse_refuses_a_non_list(self):
        """A logs document that is not a list is a SerializationError."""
        with pytest.raises(SerializationError, match="must be a list"):
            LogManager.parse({"oops": 1})

import threading
from collections import deque
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pykka._envelope import Envelope

from agentic.actors._mailbox import Mailbox, MailboxClosed


class MailboxMachine(RuleBasedStateMachine):
    """Mailbox against a deque model: bound for user puts, none for internal ones, close."""

    def __init__(self) -> None:
        super().__init__()
        self.capacity = 3
        self.box = Mailbox(self.capacity)
        self.model: deque[Any] = deque()
        self.closed = False

    @rule(value=st.integers())
    def put(self, value: int) -> None:
        if self.closed:
            with pytest.raises(MailboxClosed):
                self.box.put(Envelope(value), 0)
            return
        accepted = self.box.put(Envelope(value), 0)
        assert accepted == (len(self.model) < self.capacity)
        if accepted:
            self.model.append(value)

    @rule(value=st.integers())
    def put_internal(self, value: int) -> None:
        accepted = self.box.put_internal(Envelope(value))
        assert accepted == (not self.closed)
        if accepted:
            self.model.append(value)

    @precondition(lambda self: self.model)
    @rule()
    def get(self) -> None:
        assert self.box.get().message == self.model.popleft()

    @rule()
    def close(self) -> None:
        left = self.box.close()
        assert [e.message for e in left] == list(self.model)
        self.model.clear()
        self.closed = True

    @invariant()
    def same_length(self) -> None:
        assert len(self.box) == len(self.model)
        assert self.box.empty() == (not self.model)


TestMailboxMachine = pytest.mark.stateful(MailboxMachine.TestCase)


class TestMailboxBlocking:
    def test_put_waits_for_room(self) -> None:
        """A put on a full mailbox waits until a get makes room."""
        box = Mailbox(1)
        box.put(Envelope(1))
        threading.Timer(0.02, box.get).start()
        assert box.put(Envelope(2), timeout=5)
        assert box.get().message == 2

    def test_close_wakes_a_waiting_put(self) -> None:
        """Closing the mailbox wakes a sender waiting for room; it sees MailboxClosed."""
        box = Mailbox(1)
        box.put(Envelope(1))
        errors: list[BaseException] = []

        def put() -> None:
            try:
                box.put(Envelope(2), timeout=5)
            except MailboxClosed as exc:
                errors.append(exc)

        sender = threading.Thread(target=put)
        sender.start()
        threading.Timer(0.02, box.close).start()
        sender.join(5)
        assert len(errors) == 1


class TestRoomIsFound:
    def test_one_freed_slot_lets_a_waiting_sender_in(self) -> None:
        """A sender waiting on a full mailbox gets in once a get frees one slot, no more."""
        box = Mailbox(4)
        for n in range(4):
            box.put(Envelope(n))
        results: list[bool | BaseException] = []

        def put() -> None:
            try:
                results.append(box.put(Envelope("late"), timeout=20))
            except MailboxClosed as exc:
                results.append(exc)

        sender = threading.Thread(target=put)
        sender.start()
        while not box._not_full._waiters:  # type: ignore[attr-defined]
            threading.Event().wait(0.001)  # the sender is waiting for room
        assert box.get().message == 0  # 3 of 4: room for one, the consumer now idles
        sender.join(10)
        alive = sender.is_alive()
        box.close()
        sender.join()
        assert not alive, "the sender stayed blocked though the mailbox had room"
        assert results == [True]

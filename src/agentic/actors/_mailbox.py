"""A bounded mailbox, the letter that travels in it, and the ask chain of a thread."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pykka._envelope import Envelope

__all__ = [
    "Letter",
    "Mailbox",
    "MailboxClosed",
    "current_letter",
    "set_current_letter",
    "thread_state",
]


# A sender waiting for room looks again this often (seconds) even if nobody woke it.
_RECHECK = 0.02


class Letter:
    """A user message with what the runtime needs to know about it.

    This is an internal type; handlers only ever see `message`.
    """

    # Slots: one letter is made per message, on the hot path.
    __slots__ = ("ask", "chain", "message")

    message: Any
    """The user's message."""
    chain: tuple[str, ...]
    """Names of the actors blocked in asks that led to this one, oldest first."""
    ask: bool
    """Whether a caller waits for the reply (an ask) or not (a tell)."""

    def __init__(self, message: Any, chain: tuple[str, ...], *, ask: bool) -> None:
        self.message = message
        self.chain = chain
        self.ask = ask


thread_state = threading.local()
"""Per-thread runtime state: `current` is `(actor name, ask chain)` while an actor
thread handles a letter. The host writes it directly (hot path)."""


def current_letter() -> tuple[str, tuple[str, ...]] | None:
    """Return `(actor name, ask chain)` of the letter this thread handles, if any."""
    return getattr(thread_state, "current", None)


def set_current_letter(current: tuple[str, tuple[str, ...]] | None) -> None:
    """Record the letter this actor thread is handling (None when between letters)."""
    thread_state.current = current


class MailboxClosed(Exception):  # noqa: N818 - internal signal, never escapes the runtime
    """The mailbox's actor has stopped; the runtime turns this into ActorDeadError."""


class Mailbox:
    """A FIFO queue of envelopes, bounded for user messages.

    `put` waits at most `timeout` seconds for room and reports whether it found any;
    `put_internal` ignores the bound. The runtime uses it for its own messages (stop,
    completions of work it ran for the actor, child failures): their number is bounded
    by what the actor itself started, and refusing them would lose a completion or
    wedge a stop.

    It satisfies pykka's `ActorInbox` protocol (`put`, `get`, `empty`).
    """

    __slots__ = ("_closed", "_items", "_low", "_not_empty", "_not_full", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        """The most user messages the mailbox holds at once."""
        self._items: deque[Envelope[Any]] = deque()
        lock = threading.Lock()
        self._not_empty = threading.Condition(lock)
        self._not_full = threading.Condition(lock)
        self._closed = False
        # Senders blocked on a full mailbox are woken together once it has drained to
        # half, not one per message: that avoids a thread switch per message. A slow
        # handler may keep it above half for a long time with room to spare, so a
        # waiting sender also looks for room every _RECHECK seconds by itself.
        self._low = capacity // 2

    def put(self, envelope: Envelope[Any], /, timeout: float | None = None) -> bool:
        """Append `envelope` once there is room, waiting at most `timeout` seconds.

        Args:
            envelope: the envelope to append.
            timeout: seconds to wait for room; 0 fails at once; None waits as long as
                it takes.

        Returns:
            True if the envelope was appended, False if the mailbox stayed full.

        Raises:
            MailboxClosed: if the mailbox is closed (or closes while waiting).
        """
        with self._not_full:
            if self._closed:
                raise MailboxClosed
            if len(self._items) >= self.capacity:
                if timeout is not None and timeout <= 0:
                    return False
                deadline = None if timeout is None else time.monotonic() + timeout
                while len(self._items) >= self.capacity:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._not_full.wait(_RECHECK if remaining is None else min(remaining, _RECHECK))
                    if self._closed:
                        raise MailboxClosed
            self._items.append(envelope)
            self._not_empty.notify()
        return True

    def put_internal(self, envelope: Envelope[Any]) -> bool:
        """Append `envelope` now, whatever the bound; return False if closed."""
        with self._not_empty:
            if self._closed:
                return False
            self._items.append(envelope)
            self._not_empty.notify()
        return True

    def close(self) -> list[Envelope[Any]]:
        """Refuse every later put, wake waiting senders, and return what is left."""
        with self._not_empty:
            self._closed = True
            left = list(self._items)
            self._items.clear()
            self._not_full.notify_all()
            return left

    def get(self) -> Envelope[Any]:
        """Remove and return the oldest envelope, waiting for one if there is none."""
        with self._not_empty:
            while not self._items:
                self._not_empty.wait()
            envelope = self._items.popleft()
            if len(self._items) == self._low:
                self._not_full.notify_all()
            return envelope

    def empty(self) -> bool:
        """Return whether the mailbox holds no envelope."""
        return not self._items

    def __len__(self) -> int:
        """Return the number of envelopes waiting."""
        return len(self._items)

import threading
from typing import Any, NamedTuple

import pytest

from agentic.actors import Actor, ActorRef, ActorSystem


class Hit(NamedTuple):
    sender: int
    seq: int


class Tally(Actor):
    """Records every message with its sender, to check exactly-once and per-sender order."""

    def __init__(self) -> None:
        self.log: dict[int, list[int]] = {}
        self.count = 0

    def receive(self, message: Any) -> Any:
        match message:
            case Hit(sender, seq):
                self.log.setdefault(sender, []).append(seq)
                self.count += 1
                return self.count
            case "log":
                return {sender: list(seqs) for sender, seqs in self.log.items()}
            case _:
                return super().receive(message)


def hammer(actors: int, per_actor: int, threads: int = 8) -> None:
    """`threads` threads each send per_actor/threads messages (asks and tells) to every actor."""
    before = set(threading.enumerate())
    per_thread = per_actor // threads
    system = ActorSystem("load", ask_timeout=60.0, send_timeout=60.0)
    refs: list[ActorRef[Tally]] = [system.spawn(Tally, name=f"t{i}") for i in range(actors)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def sender(index: int) -> None:
        try:
            start.wait()
            for seq in range(per_thread):
                for ref in refs:
                    if seq % 2:
                        ref.tell(Hit(index, seq))
                    else:
                        ref.ask(Hit(index, seq))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=sender, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(300)
    assert not any(w.is_alive() for w in workers), "deadlock: a sender never finished"
    assert errors == []
    for ref in refs:
        log = ref.ask("log")
        assert sorted(log) == list(range(threads))
        for seqs in log.values():
            assert seqs == list(range(per_thread))  # each exactly once, in send order
        health = ref.health()
        assert health.processed == per_thread * threads + 1
        assert health.failures == 0
    system.shutdown(timeout=30)
    assert [t for t in threading.enumerate() if t not in before] == []


class TestManySendersManyActors:
    def test_reduced_load(self) -> None:
        """20 actors x 200 messages from 8 threads: exactly once, in order, no thread left."""
        hammer(actors=20, per_actor=200)

    @pytest.mark.slow
    def test_full_load(self) -> None:
        """100 actors x 1,000 messages from 8 threads: exactly once, in order, no thread left."""
        hammer(actors=100, per_actor=1000)

    def test_small_mailboxes_under_load(self) -> None:
        """With tiny mailboxes, backpressure slows senders down but loses nothing."""
        before = set(threading.enumerate())
        with ActorSystem("tiny", mailbox_size=2, send_timeout=60.0) as system:
            ref = system.spawn(Tally)

            def send(index: int) -> None:
                for seq in range(300):
                    ref.tell(Hit(index, seq))

            workers = [threading.Thread(target=send, args=(i,)) for i in range(8)]
            for w in workers:
                w.start()
            for w in workers:
                w.join(60)
            log = ref.ask("log")
            assert all(log[i] == list(range(300)) for i in range(8))
        assert [t for t in threading.enumerate() if t not in before] == []

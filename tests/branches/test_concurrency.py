"""Many Branches, many threads: exactly-once delivery, per-sender order, no deadlock, no leak."""

from __future__ import annotations

import threading

from agentic.actors import ActorSystem
from agentic.branches import BranchRef, UserMessage, spawn_branch


def hammer(branches: int, asks: int, threads: int = 8) -> None:
    """`threads` threads each ask every Branch asks/threads times; then check every conversation."""
    before = set(threading.enumerate())
    per_thread = asks // threads
    system = ActorSystem("load", ask_timeout=120.0, send_timeout=120.0)
    try:
        refs: list[BranchRef] = [
            spawn_branch(system, f"b{i}", call_timeout=120.0) for i in range(branches)
        ]
        errors: list[BaseException] = []
        replies = [0] * threads
        start = threading.Barrier(threads)

        def sender(index: int) -> None:
            try:
                start.wait()
                for seq in range(per_thread):
                    for ref in refs:
                        message = UserMessage(content=f"{index}:{seq}")
                        assert ref.add_message(message).id == message.id
                        replies[index] += 1
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=sender, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(600)
        assert not any(w.is_alive() for w in workers), "deadlock: a sender never finished"
        assert errors == []
        assert replies == [per_thread * branches] * threads
        for ref in refs:
            seen: dict[int, list[int]] = {}
            messages = ref.messages()
            assert len(messages) == per_thread * threads  # nothing lost, nothing doubled
            assert len({m.id for m in messages}) == len(messages)
            for message in messages:
                who, seq = map(int, message.content.split(":"))
                seen.setdefault(who, []).append(seq)
            # Exactly once, in each sender's order.
            assert seen == {i: list(range(per_thread)) for i in range(threads)}
            assert ref.ref.health().failures == 0
    finally:
        system.shutdown(timeout=30.0)
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left == [], f"threads left after shutdown: {left}"


class TestManyBranches:
    def test_full_load(self):
        """100 Branches asked 1,000 times each from 8 threads at once: exactly once, in order.

        About 10 s on a 2-core machine, so it runs always (no reduced variant needed).
        """
        hammer(branches=100, asks=1000)

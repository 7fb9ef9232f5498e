import asyncio
import contextlib
import gc
import threading
import time
import weakref
from typing import Any

from agentic.actors import (
    Actor,
    ActorSystem,
    BusEvent,
    EventBus,
    OverflowPolicy,
)


class TestPublishSubscribe:
    def test_subscribers_get_matching_events_in_order(self) -> None:
        """Each subscriber receives the matching events, in publish order."""
        bus = EventBus()
        messages = bus.subscribe("branch.*.message")
        everything = bus.subscribe("**")
        assert bus.publish("branch.b1.message", 1) == 2
        assert bus.publish("branch.b1.status", 2) == 1
        assert bus.publish("branch.b2.message", 3) == 2
        assert messages.drain() == [
            BusEvent("branch.b1.message", 1),
            BusEvent("branch.b2.message", 3),
        ]
        assert [e.payload for e in everything.drain()] == [1, 2, 3]

    def test_closed_subscription_gets_nothing(self) -> None:
        """After close, a subscription receives nothing and get returns None."""
        bus = EventBus()
        with bus.subscribe("a") as sub:
            bus.publish("a", 1)
        assert bus.publish("a", 2) == 0
        assert sub.closed
        assert sub.get(timeout=0) == BusEvent("a", 1)
        assert sub.get(timeout=0) is None

    def test_get_waits_for_an_event(self) -> None:
        """get() blocks until an event arrives from another thread."""
        bus = EventBus()
        sub = bus.subscribe("t")
        threading.Timer(0.02, bus.publish, args=("t", "late")).start()
        event = sub.get(timeout=5)
        assert event is not None
        assert event.payload == "late"

    def test_many_publishers_lose_nothing_with_room(self) -> None:
        """Concurrent publishers: every event arrives exactly once when the queue has room."""
        bus = EventBus()
        sub = bus.subscribe("p.*", maxsize=100_000)

        def publish(worker: int) -> None:
            for i in range(1000):
                bus.publish(f"p.w{worker}", (worker, i))

        threads = [threading.Thread(target=publish, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        events = sub.drain()
        assert len(events) == 8000
        for worker in range(8):
            assert [e.payload[1] for e in events if e.payload[0] == worker] == list(range(1000))


class TestSlowSubscribers:
    def test_drop_oldest_keeps_the_latest(self) -> None:
        """DROP_OLDEST: a full queue drops its oldest events and counts them."""
        bus = EventBus()
        sub = bus.subscribe("t", maxsize=3, policy=OverflowPolicy.DROP_OLDEST)
        for i in range(10):
            bus.publish("t", i)
        assert [e.payload for e in sub.drain()] == [7, 8, 9]
        assert sub.dropped == 7
        assert sub.delivered == 10

    def test_drop_newest_keeps_the_earliest(self) -> None:
        """DROP_NEWEST: a full queue refuses new events and counts them."""
        bus = EventBus()
        sub = bus.subscribe("t", maxsize=3, policy=OverflowPolicy.DROP_NEWEST)
        for i in range(10):
            bus.publish("t", i)
        assert [e.payload for e in sub.drain()] == [0, 1, 2]
        assert sub.dropped == 7

    def test_slow_subscriber_does_not_stall_publisher(self) -> None:
        """A subscriber that never reads cannot slow down a fast one or the publisher."""
        bus = EventBus()
        slow = bus.subscribe("t", maxsize=10)
        fast = bus.subscribe("t", maxsize=100_000)
        received: list[int] = []
        done = threading.Event()

        def read() -> None:
            while not done.is_set() or len(fast):
                event = fast.get(timeout=0.01)
                if event is not None:
                    received.append(event.payload)

        reader = threading.Thread(target=read)
        reader.start()
        for i in range(20_000):
            bus.publish("t", i)
        done.set()
        reader.join(10)
        assert received == list(range(20_000))
        assert len(slow) == 10
        assert slow.dropped == 20_000 - 10

    def test_block_policy_waits_then_drops(self) -> None:
        """BLOCK: the publisher waits up to block_timeout for room, then drops."""
        bus = EventBus()
        sub = bus.subscribe("t", maxsize=1, policy=OverflowPolicy.BLOCK, block_timeout=0.02)
        assert bus.publish("t", 1) == 1
        assert bus.publish("t", 2) == 0
        assert sub.dropped == 1
        threading.Timer(0.01, sub.get).start()
        sub.block_timeout = 5.0
        assert bus.publish("t", 3) == 1
        assert sub.drain() == [BusEvent("t", 3)]


class Inbox(Actor):
    def __init__(self) -> None:
        self.events: list[BusEvent] = []

    def receive(self, message: Any) -> Any:
        match message:
            case BusEvent():
                self.events.append(message)
                return None
            case "events":
                return list(self.events)
            case "subscribe":
                self.context.system.bus.subscribe_actor("job.**", self.context.ref)
                return None
            case _:
                return super().receive(message)


class TestActorSubscribers:
    def test_actor_receives_events_as_messages(self, system: ActorSystem) -> None:
        """An actor subscribed by pattern receives BusEvent messages."""
        ref = system.spawn(Inbox)
        ref.ask("subscribe")
        system.bus.publish("job.1.done", {"ok": True})
        system.bus.publish("other", None)
        deadline = time.monotonic() + 5
        while not ref.ask("events") and time.monotonic() < deadline:
            time.sleep(0.001)
        assert ref.ask("events") == [BusEvent("job.1.done", {"ok": True})]

    def test_stopped_actor_is_unsubscribed(self, system: ActorSystem) -> None:
        """When the actor stops, its subscription ends."""
        ref = system.spawn(Inbox)
        ref.ask("subscribe")
        ref.stop()
        assert system.bus.publish("job.2", None) == 0

    def test_full_actor_mailbox_drops_instead_of_blocking(self, system: ActorSystem) -> None:
        """Publishing to a busy actor never blocks the publisher."""
        gate = threading.Event()

        class Busy(Inbox):
            def receive(self, message: Any) -> Any:
                if message == "wait":
                    gate.wait(5)
                    return None
                return super().receive(message)

        ref = system.spawn(Busy, mailbox_size=5)
        ref.ask("subscribe")
        ref.tell("wait")
        delivered = sum(system.bus.publish("job.x", i) for i in range(100))
        assert delivered <= 6
        gate.set()
        assert len(ref.ask("events")) == delivered

    def test_runtime_publishes_stopped(self, system: ActorSystem) -> None:
        """The runtime publishes actor.<name>.stopped with the final health."""
        sub = system.bus.subscribe("actor.*.stopped")
        ref = system.spawn(Inbox, name="gone")
        ref.stop()
        event = sub.get(timeout=1)
        assert event is not None
        assert event.topic == "actor.gone.stopped"
        assert event.payload.state == "stopped"


class TestAsyncSubscriber:
    def test_get_async_waits_without_blocking_the_loop(self) -> None:
        """get_async awaits an event published from another thread; the loop keeps running."""
        bus = EventBus()
        sub = bus.subscribe("t")

        async def main() -> tuple[Any, int]:
            ticks = 0
            pending = asyncio.ensure_future(sub.get_async(timeout=5))
            threading.Timer(0.02, bus.publish, args=("t", "hello")).start()
            while not pending.done():
                await asyncio.sleep(0.001)
                ticks += 1
            return pending.result(), ticks

        event, ticks = asyncio.run(main())
        assert event == BusEvent("t", "hello")
        assert ticks > 1

    def test_get_async_times_out_and_sees_close(self) -> None:
        """get_async returns None on timeout and when the subscription closes."""
        bus = EventBus()
        sub = bus.subscribe("t")

        async def main() -> tuple[Any, Any]:
            timed_out = await sub.get_async(timeout=0.01)
            asyncio.get_running_loop().call_later(0.01, sub.close)
            closed = await sub.get_async()
            return timed_out, closed

        assert asyncio.run(main()) == (None, None)

    def test_timed_out_and_cancelled_waits_leave_nothing_behind(self) -> None:
        """A get_async that times out or is cancelled forgets its waiter (and its loop)."""
        bus = EventBus()
        sub = bus.subscribe("t")

        async def main() -> weakref.ref[asyncio.AbstractEventLoop]:
            for _ in range(200):
                assert await sub.get_async(timeout=0) is None
            for _ in range(200):
                waiting = asyncio.ensure_future(sub.get_async())
                await asyncio.sleep(0)
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiting
            return weakref.ref(asyncio.get_running_loop())

        loop = asyncio.run(main())
        gc.collect()
        assert loop() is None, "the subscription keeps a finished loop alive"
        bus.publish("t", "after")
        assert sub.get(timeout=0) == BusEvent("t", "after")

    def test_get_async_returns_queued_event_at_once(self) -> None:
        """An event already queued is returned without waiting."""
        bus = EventBus()
        sub = bus.subscribe("t")
        bus.publish("t", 1)
        assert asyncio.run(sub.get_async(timeout=0)) == BusEvent("t", 1)


class TestBlockOnTheReadersLoop:
    def test_a_burst_published_on_the_readers_loop_does_not_stall_it(self) -> None:
        """BLOCK never waits on the loop its async reader runs on: room cannot come there."""
        bus = EventBus()
        sub = bus.subscribe("t", maxsize=1, policy=OverflowPolicy.BLOCK, block_timeout=30)
        got: list[Any] = []

        async def main() -> list[int]:
            async def read() -> None:
                while (event := await sub.get_async(timeout=1)) is not None:
                    got.append(event.payload)

            reader = asyncio.ensure_future(read())
            await asyncio.sleep(0)  # the reader is waiting on this loop
            counts = [bus.publish("t", n) for n in range(3)]  # a burst, no await between
            await reader
            return counts

        outcome: list[list[int]] = []
        runner = threading.Thread(target=lambda: outcome.append(asyncio.run(main())))
        runner.start()
        runner.join(10)
        stalled = runner.is_alive()
        sub.close()  # wakes a stalled publisher
        runner.join()
        assert not stalled, "the publisher waited for room only its own loop could make"
        assert outcome == [[1, 0, 0]]
        assert got == [0]
        assert sub.dropped == 2

    def test_a_publisher_on_another_loop_still_waits_for_room(self) -> None:
        """Publishing from elsewhere keeps BLOCK's wait: the reader's loop makes room."""
        bus = EventBus()
        sub = bus.subscribe("t", maxsize=1, policy=OverflowPolicy.BLOCK, block_timeout=30)
        got: list[Any] = []
        ready = threading.Event()

        async def read() -> None:
            ready.set()
            while (event := await sub.get_async(timeout=2)) is not None:
                got.append(event.payload)

        reader = threading.Thread(target=asyncio.run, args=(read(),))
        reader.start()
        ready.wait(10)
        counts = [bus.publish("t", n) for n in range(5)]
        reader.join()
        assert counts == [1] * 5
        assert got == [0, 1, 2, 3, 4]
        assert sub.dropped == 0

"""Live estimates for this gateway process's sockets, from ONE Kafka consumer.

The scoring job writes a ``CreatorEstimate`` to ``planet.incentive.estimates.v1`` (key:
creator id) for each creator whose estimate changed, every estimate interval. The hub reads
every partition of it with no consumer group (each gateway process pushes to its own sockets;
nothing is shared between processes, so any number of gateways may run), committed records
only (an aborted scoring transaction's estimates are never pushed), from the end of the topic
when it starts: a socket's first message is the current estimate, fetched once over gRPC
from the incentive service, never replayed from Kafka. One creator's records share a
partition, so they reach the hub, and each socket, in the order they were written.

A socket ``subscribe``s its creator before it fetches, so an estimate written after the
fetch's read is not missed (one written before it may arrive twice: the route drops what is
not newer than what it sent, by ``as_of_ms``). Each subscription has a bounded queue: when it
is full (a client too slow to read), the subscription is marked ``overflowed`` and the route
closes the socket (1013: reconnect). The hub never waits for a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from planet.incentive.v1.weekly_pool_pb2 import CreatorEstimate
from planetkit.envelope import UndecodableEvent, decode

log = logging.getLogger(__name__)

# A creator's estimate changes at most once per estimate interval (15 s by default): 64
# queued means a socket has not read for many minutes.
QUEUE_SIZE = 64
RETRY_S = 1.0


@dataclass(eq=False)
class Subscription:
    """One socket's view of the hub: a bounded queue and a flag set when it overflowed."""

    creator_id: str
    queue: asyncio.Queue[CreatorEstimate] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)


class EstimateHub:
    """Fans the estimates topic out to this process's subscribed sockets."""

    def __init__(self, consumer: Callable[[], AIOKafkaConsumer], topic: str,
                 partitions: int, queue_size: int = QUEUE_SIZE) -> None:
        self._make_consumer = consumer
        self._topic = topic
        self._partitions = partitions
        self._queue_size = queue_size
        self._subs: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self.started = asyncio.Event()
        self.delivered = 0  # estimates handed to sockets (logs, tests)
        self.read = 0  # estimates read from the topic (tests: proves the one consumer read)

    async def start(self) -> None:
        """Start reading from the topic's end (returns once positioned)."""
        consumer = self._make_consumer()
        await consumer.start()
        try:
            tps = [TopicPartition(self._topic, p) for p in range(self._partitions)]
            consumer.assign(tps)
            await consumer.seek_to_end(*tps)
            for tp in tps:  # resolve the end now, so nothing written after start() is skipped
                await consumer.position(tp)
        except BaseException:
            await consumer.stop()
            raise
        self._task = asyncio.create_task(self._run(consumer), name="estimate-hub")
        self.started.set()

    async def stop(self) -> None:
        """Stop reading; sockets see no more live estimates."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self, creator_id: str) -> Subscription:
        """Deliver ``creator_id``'s estimates from now on to a new subscription."""
        sub = Subscription(creator_id, asyncio.Queue(self._queue_size))
        self._subs.setdefault(creator_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivering to ``sub``."""
        subs = self._subs.get(sub.creator_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.creator_id]

    @property
    def sockets(self) -> int:
        """Subscriptions open now."""
        return sum(len(s) for s in self._subs.values())

    def deliver(self, estimate: CreatorEstimate) -> None:
        """Hand ``estimate`` to its creator's subscriptions (never waits)."""
        for sub in tuple(self._subs.get(estimate.creator_id, ())):
            if sub.overflowed.is_set():
                continue
            try:
                sub.queue.put_nowait(estimate)
                self.delivered += 1
            except asyncio.QueueFull:
                sub.overflowed.set()

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                try:
                    fetched = await consumer.getmany(timeout_ms=1000, max_records=5000)
                except KafkaError as exc:
                    # The consumer reconnects by itself; a socket that missed an estimate gets
                    # the next one (each is the creator's whole estimate, not a delta).
                    log.warning("estimate hub: fetch failed", extra={"error": str(exc)})
                    await asyncio.sleep(RETRY_S)
                    continue
                for records in fetched.values():
                    for record in records:
                        if record.value is None:  # a compaction tombstone: nothing to push
                            continue
                        try:
                            estimate = decode(record.value, CreatorEstimate).payload
                        except UndecodableEvent as exc:
                            log.error("estimate hub: undecodable record", extra={
                                "partition": record.partition, "offset": record.offset,
                                "error": str(exc)})
                            continue
                        self.read += 1
                        self.deliver(estimate)
        finally:
            await consumer.stop()

"""One Kafka topic fanned out to this gateway process's WebSocket subscriptions, by key.

The machinery the live hubs share (``gateway/estimate_hub.py``, ``gateway/notification_hub.py``):
ONE consumer reads every partition of the topic with no consumer group (each gateway process
pushes to its own sockets; nothing is shared between processes, so any number of gateways may
run), committed records only (the consumer factory sets the isolation level), from the end of
the topic when it starts: what came before reaches a socket another way (each hub says how),
never by replaying Kafka. A hub says how a record decodes into zero or more items and which key
(a creator, a recipient) an item goes to; one key's records share a partition, so its items
reach the fanout, and each socket, in the order they were written.

Each subscription has a bounded queue: when it is full (a client too slow to read), the
subscription is marked ``overflowed`` and the route closes the socket (1013: reconnect). The
fanout never waits for a socket, so one slow client cannot hold up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from planetkit.envelope import UndecodableEvent

T = TypeVar("T")

RETRY_S = 1.0


@dataclass(eq=False)  # identity, not value: two sockets of one key are two subscriptions
class Subscription(Generic[T]):
    """One socket's view of the fanout: a bounded queue and a flag set when it overflowed."""

    key: str
    queue: asyncio.Queue[T]
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)


class TopicFanout(Generic[T]):
    """Fans one topic out to this process's subscribed sockets, by each item's key.

    ``decode`` turns a record's value (``None`` for a compaction tombstone) into the items it
    carries, raising ``UndecodableEvent`` for one it cannot read (logged and skipped); ``key``
    names the subscriptions an item goes to. ``name`` prefixes the log lines and names the
    task; ``log`` is the hub's own logger, so its lines keep the hub's logger name.
    """

    def __init__(self, consumer: Callable[[], AIOKafkaConsumer], topic: str, partitions: int,
                 queue_size: int, *, decode: Callable[[bytes | None], Iterable[T]],
                 key: Callable[[T], str], name: str, log: logging.Logger) -> None:
        self._make_consumer = consumer
        self._topic = topic
        self._partitions = partitions
        self._queue_size = queue_size
        self._decode = decode
        self._key = key
        self._task_name = name.replace(" ", "-")
        self._log = log
        # The same messages the hubs always logged (records' ``msg`` unchanged, no formatting).
        self._fetch_failed = f"{name}: fetch failed"
        self._undecodable = f"{name}: undecodable record"
        self._subs: dict[str, set[Subscription[T]]] = {}
        self._task: asyncio.Task[None] | None = None
        self.started = asyncio.Event()
        self.delivered = 0  # items handed to sockets (logs, tests)

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
        self._task = asyncio.create_task(self._run(consumer), name=self._task_name)
        self.started.set()

    async def stop(self) -> None:
        """Stop reading; sockets see no more live items."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self, key: str) -> Subscription[T]:
        """Deliver ``key``'s items from now on to a new subscription."""
        sub = Subscription[T](key, asyncio.Queue(self._queue_size))
        self._subs.setdefault(key, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription[T]) -> None:
        """Stop delivering to ``sub``."""
        subs = self._subs.get(sub.key)
        if subs is not None:
            subs.discard(sub)
            if not subs:  # no empty sets left behind by keys that come and go
                del self._subs[sub.key]

    @property
    def sockets(self) -> int:
        """Subscriptions open now."""
        return sum(len(s) for s in self._subs.values())

    def deliver(self, item: T) -> None:
        """Hand ``item`` to its key's subscriptions (never waits)."""
        for sub in tuple(self._subs.get(self._key(item), ())):
            if sub.overflowed.is_set():  # the route is closing it; queue nothing more
                continue
            try:
                sub.queue.put_nowait(item)
                self.delivered += 1
            except asyncio.QueueFull:
                sub.overflowed.set()

    def _read(self, item: T) -> None:
        """One item read from the topic (a hook: a hub may count before it delivers)."""
        self.deliver(item)

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                try:
                    fetched = await consumer.getmany(timeout_ms=1000, max_records=5000)
                except KafkaError as exc:
                    # The consumer reconnects by itself; what a socket missed meanwhile it
                    # gets back as each hub's module docstring says, so just try again.
                    self._log.warning(self._fetch_failed, extra={"error": str(exc)})
                    await asyncio.sleep(RETRY_S)
                    continue
                for records in fetched.values():
                    for record in records:
                        try:
                            # Materialised here, so a lazy decoder's error is caught too.
                            items = tuple(self._decode(record.value))
                        except UndecodableEvent as exc:
                            # One bad record must not stop the live stream for everyone.
                            self._log.error(self._undecodable, extra={
                                "partition": record.partition, "offset": record.offset,
                                "error": str(exc)})
                            continue
                        for item in items:
                            self._read(item)
        finally:
            await consumer.stop()

"""Live notifications for this gateway process's sockets, from ONE Kafka consumer.

The hub reads every partition of ``planet.social.notifications.v1`` with no consumer group
(each gateway process sees every notification and pushes it to its own sockets; nothing is
shared between processes, so any number of gateways may run), from the end of the topic
when it starts: what came before is caught up from the social service
(``ListNotifications``), never from Kafka. It reads committed records only, so it never
pushes a notification whose transaction was aborted.

A socket ``subscribe``s its user before it catches up, so nothing committed after the
catch-up's read is missed; the route (``gateway/routes/notifications.py``) drops what it has
already sent by position and reads the gap again when positions jump. Each subscription has a
bounded queue: when it is full (a client too slow to read), the subscription is marked
``overflowed`` and the route closes the socket (1013, resume by reconnecting with the last
position). The hub never waits for a socket.

It also remembers, for a bounded number of recently notified recipients, the last position
it saw: a socket that caught up below it knows the store has not shown it everything yet
(the social service appends to the topic before it stores) and reads again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from planet.social.v1.notifications_pb2 import NotificationCreated, NotificationsRead
from planetkit.envelope import UndecodableEvent, decode

log = logging.getLogger(__name__)

QUEUE_SIZE = 1024
REMEMBERED_RECIPIENTS = 100_000
RETRY_S = 1.0

Live = NotificationCreated | NotificationsRead


@dataclass(eq=False)
class Subscription:
    """One socket's view of the hub: a bounded queue and a flag set when it overflowed."""

    user_id: str
    queue: asyncio.Queue[Live] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)


class NotificationHub:
    """Fans the notifications topic out to this process's subscribed sockets."""

    def __init__(self, consumer: Callable[[], AIOKafkaConsumer], topic: str,
                 partitions: int, queue_size: int = QUEUE_SIZE) -> None:
        self._make_consumer = consumer
        self._topic = topic
        self._partitions = partitions
        self._queue_size = queue_size
        self._subs: dict[str, set[Subscription]] = {}
        self._latest: OrderedDict[str, int] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self.started = asyncio.Event()
        self.delivered = 0  # records handed to sockets (logs, tests)

    async def start(self) -> None:
        """Start reading from the topic's end (returns once positioned)."""
        consumer = self._make_consumer()
        await consumer.start()
        try:
            tps = [TopicPartition(self._topic, p) for p in range(self._partitions)]
            consumer.assign(tps)
            await consumer.seek_to_end(*tps)
            for tp in tps:  # resolve the end now, so nothing after start() is skipped
                await consumer.position(tp)
        except BaseException:
            await consumer.stop()
            raise
        self._task = asyncio.create_task(self._run(consumer), name="notification-hub")
        self.started.set()

    async def stop(self) -> None:
        """Stop reading; sockets see no more live notifications."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self, user_id: str) -> Subscription:
        """Deliver ``user_id``'s notifications from now on to a new subscription."""
        sub = Subscription(user_id, asyncio.Queue(self._queue_size))
        self._subs.setdefault(user_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivering to ``sub``."""
        subs = self._subs.get(sub.user_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.user_id]

    def latest(self, user_id: str) -> int:
        """The last position this hub saw for ``user_id`` (0 when it remembers none)."""
        return self._latest.get(user_id, 0)

    @property
    def sockets(self) -> int:
        """Subscriptions open now."""
        return sum(len(s) for s in self._subs.values())

    def _remember(self, user_id: str, position: int) -> None:
        if position > self._latest.get(user_id, 0):
            self._latest[user_id] = position
        self._latest.move_to_end(user_id)
        while len(self._latest) > REMEMBERED_RECIPIENTS:
            self._latest.popitem(last=False)

    def deliver(self, event: Live) -> None:
        """Hand ``event`` to its recipient's subscriptions (never waits)."""
        if isinstance(event, NotificationCreated):
            self._remember(event.recipient_id, event.position)
        for sub in tuple(self._subs.get(event.recipient_id, ())):
            if sub.overflowed.is_set():
                continue
            try:
                sub.queue.put_nowait(event)
                self.delivered += 1
            except asyncio.QueueFull:
                sub.overflowed.set()

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                try:
                    fetched = await consumer.getmany(timeout_ms=1000, max_records=5000)
                except KafkaError as exc:
                    # The consumer reconnects by itself; sockets catch up by position.
                    log.warning("notification hub: fetch failed", extra={"error": str(exc)})
                    await asyncio.sleep(RETRY_S)
                    continue
                for records in fetched.values():
                    for record in records:
                        try:
                            payload = decode(record.value, NotificationCreated,
                                             NotificationsRead).payload
                        except UndecodableEvent as exc:
                            log.error("notification hub: undecodable record", extra={
                                "partition": record.partition, "offset": record.offset,
                                "error": str(exc)})
                            continue
                        if isinstance(payload, NotificationCreated | NotificationsRead):
                            self.deliver(payload)
        finally:
            await consumer.stop()

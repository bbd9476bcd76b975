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
(the social service appends to the topic before it stores) and reads again. A fetch that
fails is retried: the consumer reconnects by itself, and sockets catch up by position.

The machinery (start, subscriptions, delivery, the fetch loop) is ``gateway/topic_fanout.py``,
shared with the estimate hub; this module says what a record holds and whose it is, and keeps
the memory of recent positions.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer

from gateway import topic_fanout
from gateway.topic_fanout import RETRY_S as RETRY_S  # re-exported: this module's name for it
from gateway.topic_fanout import TopicFanout
from planet.social.v1.notifications_pb2 import NotificationCreated, NotificationsRead
from planetkit.envelope import decode

log = logging.getLogger(__name__)

QUEUE_SIZE = 1024
REMEMBERED_RECIPIENTS = 100_000

Live = NotificationCreated | NotificationsRead

# One socket's view of the hub; its ``key`` is the recipient's user id.
Subscription: TypeAlias = topic_fanout.Subscription[Live]


def _live(value: bytes | None) -> tuple[Live, ...]:
    # A tombstone (``None``) is undecodable here: this topic is not compacted.
    payload = decode(value, NotificationCreated, NotificationsRead).payload
    if isinstance(payload, NotificationCreated | NotificationsRead):  # narrows the type
        return (payload,)
    return ()


def _recipient(event: Live) -> str:
    return event.recipient_id


class NotificationHub(TopicFanout[Live]):
    """Fans the notifications topic out to this process's subscribed sockets."""

    def __init__(self, consumer: Callable[[], AIOKafkaConsumer], topic: str,
                 partitions: int, queue_size: int = QUEUE_SIZE) -> None:
        super().__init__(consumer, topic, partitions, queue_size, decode=_live,
                         key=_recipient, name="notification hub", log=log)
        self._latest: OrderedDict[str, int] = OrderedDict()

    def latest(self, user_id: str) -> int:
        """The last position this hub saw for ``user_id`` (0 when it remembers none)."""
        return self._latest.get(user_id, 0)

    def _remember(self, user_id: str, position: int) -> None:
        if position > self._latest.get(user_id, 0):
            self._latest[user_id] = position
        self._latest.move_to_end(user_id)
        while len(self._latest) > REMEMBERED_RECIPIENTS:  # read here, so tests may shrink it
            self._latest.popitem(last=False)

    def deliver(self, item: Live) -> None:
        """Hand ``item`` to its recipient's subscriptions (never waits)."""
        # Remembered even with no socket subscribed: a socket catching up later needs it.
        if isinstance(item, NotificationCreated):
            self._remember(item.recipient_id, item.position)
        super().deliver(item)

"""Live group facts for this gateway process's group sockets, from ONE Kafka consumer.

The hub reads every partition of ``planet.groups.events.v1`` with no consumer group (each
gateway process sees every fact of every group and pushes it to its own sockets; nothing is
shared between processes, so any number of gateways may run), committed records only, from
the end of the topic when it starts: what came before is caught up from the groups service
(``History``), never from Kafka. A group's facts share a partition (key: group id), so they
reach each subscription in seq order; a socket drops what it has sent by seq and reads a jump
in seqs again from the service (``gateway/routes/groups_live.py``).

It remembers, for a bounded number of recently active groups, the last seq it saw, so a socket
that caught up below it knows the service's store has not shown it everything yet and reads
again. The machinery is ``gateway/topic_fanout.py``; this module says what a record holds and
whose it is.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer
from google.protobuf.message import Message

from gateway import topic_fanout
from gateway.topic_fanout import TopicFanout
from planetkit.envelope import decode
from planetkit.topics import GROUP_FACTS

log = logging.getLogger(__name__)

QUEUE_SIZE = 1024
REMEMBERED_GROUPS = 100_000

# One socket's view of the hub; its ``key`` is the group id.
Subscription: TypeAlias = topic_fanout.Subscription[Message]


def _facts(value: bytes | None) -> tuple[Message, ...]:
    return (decode(value, *GROUP_FACTS).payload,)


def _group(fact: Message) -> str:
    group_id: str = getattr(fact, "group_id")  # noqa: B009 - every group fact has one
    return group_id


class GroupHub(TopicFanout[Message]):
    """Fans the group facts topic out to this process's subscribed group sockets."""

    def __init__(self, consumer: Callable[[], AIOKafkaConsumer], topic: str,
                 partitions: int, queue_size: int = QUEUE_SIZE) -> None:
        super().__init__(consumer, topic, partitions, queue_size, decode=_facts,
                         key=_group, name="group hub", log=log)
        self._latest: OrderedDict[str, int] = OrderedDict()

    def latest(self, group_id: str) -> int:
        """The last seq this hub saw for ``group_id`` (0 when it remembers none)."""
        return self._latest.get(group_id, 0)

    def deliver(self, item: Message) -> None:
        """Hand ``item`` to its group's subscriptions (never waits)."""
        group_id = _group(item)
        seq: int = getattr(item, "seq", 0)
        if seq > self._latest.get(group_id, 0):
            self._latest[group_id] = seq
        if group_id in self._latest:
            self._latest.move_to_end(group_id)
        while len(self._latest) > REMEMBERED_GROUPS:
            self._latest.popitem(last=False)
        super().deliver(item)

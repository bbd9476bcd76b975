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
closes the socket (1013: reconnect). The hub never waits for a socket. A fetch that fails is
retried: a socket that missed an estimate meanwhile gets the next one (each is the creator's
whole estimate, not a delta).

The machinery (start, subscriptions, delivery, the fetch loop) is ``gateway/topic_fanout.py``,
shared with the notification hub; this module says what a record holds and whose it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer

from gateway import topic_fanout
from gateway.topic_fanout import RETRY_S as RETRY_S  # re-exported: this module's name for it
from gateway.topic_fanout import TopicFanout
from planet.incentive.v1.weekly_pool_pb2 import CreatorEstimate
from planetkit.envelope import decode

log = logging.getLogger(__name__)

# A creator's estimate changes at most once per estimate interval (15 s by default): 64
# queued means a socket has not read for many minutes.
QUEUE_SIZE = 64

# One socket's view of the hub; its ``key`` is the creator id.
Subscription: TypeAlias = topic_fanout.Subscription[CreatorEstimate]


def _estimates(value: bytes | None) -> tuple[CreatorEstimate, ...]:
    if value is None:  # a compaction tombstone: nothing to push
        return ()
    return (decode(value, CreatorEstimate).payload,)


def _creator(estimate: CreatorEstimate) -> str:
    return estimate.creator_id


class EstimateHub(TopicFanout[CreatorEstimate]):
    """Fans the estimates topic out to this process's subscribed sockets."""

    def __init__(self, consumer: Callable[[], AIOKafkaConsumer], topic: str,
                 partitions: int, queue_size: int = QUEUE_SIZE) -> None:
        super().__init__(consumer, topic, partitions, queue_size, decode=_estimates,
                         key=_creator, name="estimate hub", log=log)
        # ``delivered`` (the fanout's): estimates handed to sockets (logs, tests).
        self.read = 0  # estimates read from the topic (tests: proves the one consumer read)

    def _read(self, item: CreatorEstimate) -> None:
        # Counted here, not in ``deliver``: an estimate a test delivers by hand was not read.
        self.read += 1
        super()._read(item)

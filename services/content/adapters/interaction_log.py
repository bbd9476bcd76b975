"""planet.content.interactions.v1 as the event store of comments, likes and shares: one Kafka
transaction per group of actions, through one transactional producer per owned partition
(``partition_writer.PartitionTransactions``, transactional ids ``<group>-interactions-p<n>``).

Were a paused previous owner's action to land anyway, nothing breaks: the store is a fold of
the log in which a repeated like, a known comment id or an applied event id changes nothing,
so every replica, live or rebuilt, agrees on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from aiokafka import AIOKafkaProducer

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from planetkit.topics import Topic
from services.content.adapters.partition_writer import PartitionTransactions, Record


class KafkaInteractionLog:
    """Appends each action to its post's partition in a transaction of that partition's
    producer."""

    def __init__(self, producer_for: Callable[[str], AIOKafkaProducer],
                 transactional_prefix: str, topic: Topic, timeout_s: float) -> None:
        self._txns = PartitionTransactions(producer_for, transactional_prefix,
                                           "interactions", timeout_s)
        self._topic = topic

    def transactional_id(self, partition: int) -> str:
        """The transactional id of the producer that appends to ``partition``."""
        return self._txns.transactional_id(partition)

    async def own(self, partitions: Iterable[int]) -> None:
        """Append only for ``partitions`` (fencing their previous owners)."""
        await self._txns.own(partitions)

    async def append(self, envelope: Envelope, partition: int,
                     extra: Sequence[Record] = ()) -> None:
        """Append to ``partition`` (the post id's, which this replica must own), keyed by the
        post id, with ``extra`` records (copies on co-partitioned topics) in the same
        transaction; return once committed, EventLogUnavailable otherwise (nothing visible)."""
        await self._txns.append(partition, [
            Record(self._topic.name, envelope.aggregate_id.encode(), encode(envelope),
                   partition), *extra])

    async def close(self) -> None:
        """Stop every producer."""
        await self._txns.close()

"""The input side: a read_committed consumer of statically owned batch partitions."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

Fetched = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


class InputLog:
    """Owned partitions of the batches topic, read from the group's committed offsets."""

    def __init__(self, consumer: AIOKafkaConsumer, topic: str, partitions: list[int]) -> None:
        self._consumer = consumer
        self.topic = topic
        self.tps = [TopicPartition(topic, p) for p in partitions]

    async def start(self) -> None:
        """Connect, assign the owned partitions and position each at its committed offset.

        ``position`` resolves the committed offset (or the reset policy) now, so once this
        returns the next fetch reads from where the last committed transaction left off.
        """
        await self._consumer.start()
        self._consumer.assign(self.tps)
        for tp in self.tps:
            await self._consumer.position(tp)

    def partition_count(self) -> int:
        """How many partitions the broker says the topic has (after ``start``)."""
        return len(self._consumer.partitions_for_topic(self.topic) or ())

    async def getmany(self, timeout_ms: int, max_records: int) -> Fetched:
        """One fetch across the owned partitions."""
        fetched: Fetched = await self._consumer.getmany(
            timeout_ms=timeout_ms, max_records=max_records
        )
        return fetched

    async def caught_up(self) -> bool:
        """True when every owned partition is read up to its last stable offset."""
        ends = await self._consumer.end_offsets(self.tps)
        for tp in self.tps:
            if await self._consumer.position(tp) < ends[tp]:
                return False
        return True

    async def stop(self) -> None:
        """Leave without committing: offsets only move inside output transactions."""
        await self._consumer.stop()

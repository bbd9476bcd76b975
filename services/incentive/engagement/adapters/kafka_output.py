"""The output side: one Kafka transaction per fetch, with the input offsets in it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from services.incentive.engagement.domain.records import Record


class TransactionalOutput:
    """A transactional producer whose id is fixed per owned partition set.

    Starting it fences a zombie of the same set and completes or aborts that zombie's
    open transaction, so start it BEFORE reading any state the zombie could still change.
    """

    def __init__(self, producer: AIOKafkaProducer, group_id: str) -> None:
        self._producer = producer
        self._group_id = group_id

    async def start(self) -> None:
        """Init the transactional id (fencing the previous owner)."""
        await self._producer.start()

    async def commit(
        self,
        records: Sequence[Record],
        input_topic: str,
        next_offsets: Mapping[int, int],
        metadata: Callable[[int, Mapping[int, int]], str],
        locate: Mapping[int, int],
    ) -> dict[int, int]:
        """Write ``records`` and the input offsets in one transaction.

        ``locate`` maps a key of the caller's choosing to an index in ``records``; the
        broker's offsets of those records are known before the offsets are sent, so
        ``metadata(partition, located)`` can name them inside the same transaction.
        """
        located: dict[int, int] = {}
        async with self._producer.transaction():
            futures = {}
            wanted = {index: key for key, index in locate.items()}
            for index, (topic, partition, key, value) in enumerate(records):
                fut = await self._producer.send(
                    topic, value, key=key, partition=None if partition < 0 else partition
                )
                if index in wanted:
                    futures[wanted[index]] = fut
            for name, fut in futures.items():
                located[name] = (await fut).offset
            offsets = {
                TopicPartition(input_topic, p): OffsetAndMetadata(offset, metadata(p, located))
                for p, offset in next_offsets.items()
            }
            await self._producer.send_offsets_to_transaction(offsets, self._group_id)
        return located

    async def stop(self) -> None:
        """Flush and close (any open transaction was committed or raised already)."""
        await self._producer.stop()

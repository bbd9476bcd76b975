"""Replaying a topic: every committed record, from the beginning to the end at call time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from planetkit.kafka.producer import MAX_REQUEST_BYTES


async def read_committed(
    bootstrap: str,
    topic: str,
    partitions: Sequence[int],
    start: Mapping[int, int] | None = None,
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Yield the committed records of ``partitions`` up to their end offsets when called.

    From the beginning, or from ``start[partition]`` where given (a snapshot's first
    offset: a reader of a compacted snapshot never reads what came before it).

    read_committed skips aborted transactions, and its end offsets are the last
    stable offsets, so a replay sees exactly what committed writers made visible:
    this is how a single writer rebuilds its state from its own log.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=MAX_REQUEST_BYTES,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        for tp in tps:
            if start and start.get(tp.partition):
                consumer.seek(tp, start[tp.partition])
        ends = await consumer.end_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > (start or {}).get(tp.partition, 0)}
        while pending:
            fetched = await consumer.getmany(*pending, timeout_ms=500)
            for records in fetched.values():
                for record in records:
                    yield record
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()

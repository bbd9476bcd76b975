"""Rebuilding dedup memory from the aggregator's own dedup checkpoints."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from planet.incentive.v1.engagement_pb2 import DedupCheckpoint
from planetkit.envelope import decode

from .dedup import DedupMemory


async def restore_memories(
    bootstrap: str, dedup_topic: str, partitions: list[int], horizon_weeks: int
) -> dict[int, DedupMemory]:
    """Replay committed checkpoints of ``partitions`` into fresh memories."""
    memories = {p: DedupMemory(horizon_weeks) for p in partitions}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(dedup_topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        # With read_committed, end offsets are the last stable offsets.
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000)
            for records in fetched.values():
                for rec in records:
                    cp = decode(rec.value, DedupCheckpoint).payload
                    for week_ids in cp.accepted:
                        memories[cp.partition].remember(week_ids.week, week_ids.event_ids)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return memories
    finally:
        await consumer.stop()

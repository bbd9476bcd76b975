"""Rebuilding dedup memory from the aggregator's own dedup checkpoints."""

from __future__ import annotations

from planet.incentive.v1.engagement_pb2 import DedupCheckpoint
from planetkit.envelope import decode
from planetkit.kafka.replay import read_committed

from .dedup import DedupMemory


async def restore_memories(
    bootstrap: str, dedup_topic: str, partitions: list[int], horizon_weeks: int
) -> dict[int, DedupMemory]:
    """Replay committed checkpoints of ``partitions`` into fresh memories."""
    memories = {p: DedupMemory(horizon_weeks) for p in partitions}
    async for record in read_committed(bootstrap, dedup_topic, partitions):
        cp = decode(record.value, DedupCheckpoint).payload
        for week_ids in cp.accepted:
            memories[cp.partition].remember(week_ids.week, week_ids.event_ids)
    return memories

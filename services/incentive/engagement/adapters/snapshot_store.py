"""The dedup snapshot store: restoring memory from where the last commit says.

The position (generation and first offset) is read from the input partitions'
committed offset metadata, which the same transaction as the ids wrote. Only the
records from that offset on are read: the generation's snapshot and its tail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from planet.incentive.v1.engagement_pb2 import DedupCheckpoint
from planetkit.envelope import decode
from planetkit.kafka.replay import read_committed
from services.incentive.engagement.domain.dedup import DedupMemory
from services.incentive.engagement.domain.snapshot import (
    PartitionLedger,
    SnapshotPosition,
    decode_position,
    parse_key,
)


async def committed_positions(
    bootstrap: str, group_id: str, input_topic: str, partitions: Sequence[int]
) -> dict[int, SnapshotPosition | None]:
    """The snapshot position each input partition's last committed offset carries.

    None for a partition whose offset was committed without one (by the v1 aggregator).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        tps = [TopicPartition(input_topic, p) for p in partitions]
        committed = await admin.list_consumer_group_offsets(group_id, partitions=tps)
    finally:
        await admin.close()
    positions: dict[int, SnapshotPosition | None] = {}
    for tp in tps:
        meta = committed.get(tp)
        if meta is not None and meta.offset >= 0 and not meta.metadata:
            positions[tp.partition] = None  # committed by the v1 aggregator: no position
        else:
            committed_meta = meta.metadata if meta is not None and meta.offset >= 0 else ""
            positions[tp.partition] = decode_position(committed_meta)
    return positions


async def adopt_v1(
    bootstrap: str, v1_topic: str, partitions: list[int], horizon_weeks: int
) -> dict[int, DedupMemory]:
    """Migration: the v1 aggregator's memory, by the retired full replay of its topic.

    Run once per partition whose offsets the v1 aggregator committed; the partition's next
    commit writes generation 1 of the snapshot, after which v1 is never read again.
    """
    memories = {p: DedupMemory(horizon_weeks) for p in partitions}
    async for record in read_committed(bootstrap, v1_topic, partitions):
        cp = decode(record.value, DedupCheckpoint).payload
        for week_ids in cp.accepted:
            memories[cp.partition].remember(week_ids.week, week_ids.event_ids)
    return memories


async def restore(
    bootstrap: str,
    dedup_topic: str,
    positions: dict[int, SnapshotPosition],
    horizon_weeks: int,
) -> tuple[dict[int, DedupMemory], dict[int, PartitionLedger], int]:
    """Memories and ledgers of ``positions``' partitions, and how many records were read."""
    memories = {p: DedupMemory(horizon_weeks) for p in positions}
    ledgers = {p: PartitionLedger(position) for p, position in positions.items()}
    start = {p: position.start_offset for p, position in positions.items()}
    read = 0
    async for record in read_committed(bootstrap, dedup_topic, list(positions), start):
        read += 1
        key = parse_key(record.key)
        ledger = ledgers[record.partition]
        if record.value is None:
            ledger.forget(key)
            continue
        cp = decode(record.value, DedupCheckpoint).payload
        ids = 0
        for week_ids in cp.accepted:
            memories[record.partition].remember(week_ids.week, week_ids.event_ids)
            ids += len(week_ids.event_ids)
        ledger.restored(key, ids)
    # Weeks the memories pruned while replaying are gone from the topic too (or will be
    # when their tombstones are written with the next commit of the partition).
    for p, memory in memories.items():
        live = set(memory.weeks())
        stale = [w for w in ledgers[p].keys if w not in live]
        ledgers[p].pending_tombstones.extend(ledgers[p].drop_weeks(stale))
    return memories, ledgers, read


@dataclass(frozen=True)
class SnapshotStore:
    """The compacted dedup topic of one aggregator group."""

    bootstrap: str
    group_id: str
    input_topic: str
    dedup_topic: str
    horizon_weeks: int
    # The retired uncompacted dedup topic, read once to migrate a v1 group.
    v1_topic: str = ""

    async def restore(
        self, partitions: Sequence[int]
    ) -> tuple[dict[int, DedupMemory], dict[int, PartitionLedger], int]:
        """Memories and ledgers of ``partitions`` as of the last committed transaction."""
        found = await committed_positions(
            self.bootstrap, self.group_id, self.input_topic, partitions
        )
        legacy = [p for p, position in found.items() if position is None]
        positions = {p: position or SnapshotPosition(0, 0) for p, position in found.items()}
        memories, ledgers, read = await restore(
            self.bootstrap, self.dedup_topic, positions, self.horizon_weeks
        )
        if legacy:
            if not self.v1_topic:
                raise RuntimeError(
                    f"partitions {legacy} were committed without a dedup position and no v1 "
                    f"dedup topic is configured to migrate from"
                )
            adopted = await adopt_v1(self.bootstrap, self.v1_topic, legacy, self.horizon_weeks)
            for p, memory in adopted.items():
                memories[p] = memory
                # Force generation 1 on the partition's next commit.
                ledgers[p] = PartitionLedger(tail_ids=1 << 62)
        return memories, ledgers, read

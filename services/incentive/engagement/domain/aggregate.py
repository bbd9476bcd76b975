"""Folding one fetch of telemetry batches into per-(creator, week, consumer) deltas. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planetkit.engagement_batches import VIEW, check_batch
from planetkit.engagement_deltas import DeltaRow
from planetkit.kafka.partitioning import partition_for
from planetkit.weeks import iso_week_of_ms
from services.incentive.engagement.domain.dedup import DedupMemory

DAY_MS = 86_400_000
# Marks a day not looked up yet (None already means "late").
_UNSEEN: tuple[str, list[str]] = ("", [])

# (creator_id, week, consumer_id) -> [views, dwell_seconds, interactions]
DeltaKey = tuple[str, str, str]


@dataclass
class PartitionTally:
    """What one input partition contributed to a fetch."""

    accepted: dict[str, list[str]] = field(default_factory=dict)  # week -> event ids
    duplicates: int = 0
    late: int = 0
    invalid: int = 0
    last_offset: int = -1


class FetchAggregate:
    """Deltas of one fetch, deduplicated against each partition's memory.

    Accepted ids go into the partition's memory as they are folded, so a later
    duplicate in the same fetch is caught by the same set lookup. That memory
    is only trusted because the loop dies if the fetch's transaction fails: a
    restarted aggregator rebuilds memory from committed checkpoints alone.
    """

    def __init__(self, partition_cache: dict[str, int] | None = None) -> None:
        self.deltas: dict[DeltaKey, list[int]] = {}
        self.partitions: dict[int, PartitionTally] = {}
        self.events = 0
        # Per UTC day of this fetch: (week, that week's accepted list), or None if late.
        self._days: dict[tuple[int, int], tuple[str, list[str]] | None] = {}
        self._partition_cache = {} if partition_cache is None else partition_cache

    def _day(
        self, partition: int, day: int, tally: PartitionTally, memory: DedupMemory
    ) -> tuple[str, list[str]] | None:
        week = iso_week_of_ms(day * DAY_MS)
        entry = None if memory.is_late(week) else (week, tally.accepted.setdefault(week, []))
        self._days[(partition, day)] = entry
        return entry

    def add_batch(
        self, partition: int, offset: int, batch: EngagementBatch, memory: DedupMemory
    ) -> None:
        """Fold one decoded batch from ``partition`` at ``offset``; ValueError if malformed."""
        check_batch(batch)
        tally = self.partitions.get(partition)
        if tally is None:
            tally = self.partitions[partition] = PartitionTally()
        tally.last_offset = offset
        consumer = batch.consumer_id
        if not consumer:
            return
        self.events += len(batch.event_ids)
        # This loop runs once per event, the product's volume: everything it needs
        # is bound to a local, columns are read as scalars, and nothing in it calls
        # a Python function on the common path (bench/engagement_throughput.py).
        deltas = self.deltas
        remembered = memory.ids
        days = self._days
        duplicates = invalid = late = 0
        for event_id, creator, at, kind, dwell in zip(
            batch.event_ids,
            batch.creator_ids,
            batch.occurred_at_ms,
            batch.kinds,
            batch.dwell_seconds,
            strict=True,
        ):
            if event_id in remembered:
                duplicates += 1
                continue
            if not event_id or not creator or not kind:
                invalid += 1
                continue
            day = at // DAY_MS
            entry = days.get((partition, day), _UNSEEN)
            if entry is _UNSEEN:
                entry = self._day(partition, day, tally, memory)
            if entry is None:
                late += 1
                continue
            week, accepted = entry
            remembered.add(event_id)
            accepted.append(event_id)
            key = (creator, week, consumer)
            acc = deltas.get(key)
            if acc is None:
                acc = deltas[key] = [0, 0, 0]
            if kind == VIEW:
                acc[0] += 1
                acc[1] += dwell
            else:
                acc[2] += 1
        tally.duplicates += duplicates
        tally.invalid += invalid
        tally.late += late

    def skip(self, partition: int, offset: int) -> None:
        """Advance a partition past a record that was dead-lettered."""
        tally = self.partitions.setdefault(partition, PartitionTally())
        tally.last_offset = offset

    def by_output_partition(self, partitions: int) -> dict[int, list[DeltaRow]]:
        """Deltas grouped by the deltas-topic partition that owns each creator."""
        out: dict[int, list[DeltaRow]] = {}
        owner = self._partition_cache
        if len(owner) > 1_000_000:
            owner.clear()  # bounded: a cache, not state
        for item in self.deltas.items():
            creator = item[0][0]
            q = owner.get(creator)
            if q is None:
                q = owner[creator] = partition_for(creator, partitions)
            rows = out.get(q)
            if rows is None:
                rows = out[q] = []
            rows.append(item)
        return out


def book_accepted(
    aggregate: FetchAggregate, memories: dict[int, DedupMemory]
) -> dict[int, list[str]]:
    """File the fetch's accepted ids under their weeks in each memory, pruning old weeks.

    Returns the weeks each partition's memory dropped, so their stored ids can be removed.
    """
    return {
        partition: memories[partition].record(tally.accepted)
        for partition, tally in aggregate.partitions.items()
    }

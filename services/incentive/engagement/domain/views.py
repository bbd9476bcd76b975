"""One fetch of telemetry batches, deduplicated into accepted views at full detail. Pure.

Telemetry carries views only (the gateway refuses a client's claim of an interaction:
those are recorded by content and social, and reach the pool as the incentive processor's
interaction facts). So a row of any other kind is dropped here and counted as invalid,
never remembered and never written. Accepted views are kept column by column per (input
partition, consumer): the fetch writes one FactRows record per pair (records.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planetkit.engagement_batches import VIEW, check_batch
from planetkit.weeks import iso_week_of_ms
from services.incentive.engagement.domain.dedup import DedupMemory

DAY_MS = 86_400_000
# Marks a day not looked up yet (None already means "late").
_UNSEEN: tuple[str, list[str]] = ("", [])


class ViewColumns:
    """Accepted views of one consumer from one input partition, in fetch order.

    One object per (partition, consumer) per fetch, never one per event: the columns are
    plain lists that whole batch columns are appended to.
    """

    __slots__ = ("creator_ids", "dwell_seconds", "event_ids", "item_ids", "occurred_at_ms")

    def __init__(self) -> None:
        self.event_ids: list[str] = []
        self.item_ids: list[str] = []
        self.creator_ids: list[str] = []
        self.occurred_at_ms: list[int] = []
        self.dwell_seconds: list[int] = []

    def __len__(self) -> int:
        return len(self.event_ids)


@dataclass
class PartitionTally:
    """What one input partition contributed to a fetch."""

    accepted: dict[str, list[str]] = field(default_factory=dict)  # week -> event ids
    # consumer id -> that consumer's accepted views, in the order they were read.
    views: dict[str, ViewColumns] = field(default_factory=dict)
    duplicates: int = 0
    late: int = 0
    # Rows without an event, item or creator id, or not a view (of which ``not_views``).
    invalid: int = 0
    not_views: int = 0
    last_offset: int = -1


class FetchViews:
    """The views of one fetch, deduplicated against each partition's memory.

    Accepted ids go into the partition's memory as they are read, so a later duplicate
    in the same fetch is caught by the same set lookup. That memory is only trusted
    because the loop dies if the fetch's transaction fails: a restarted aggregator
    rebuilds memory from committed snapshot records alone.
    """

    def __init__(self) -> None:
        self.partitions: dict[int, PartitionTally] = {}
        self.events = 0
        self.accepted = 0
        # Per partition, per UTC day of this fetch: (week, that week's accepted list), or
        # None if late.
        self._days: dict[int, dict[int, tuple[str, list[str]] | None]] = {}

    @staticmethod
    def _day(
        days: dict[int, tuple[str, list[str]] | None],
        day: int,
        tally: PartitionTally,
        memory: DedupMemory,
    ) -> tuple[str, list[str]] | None:
        week = iso_week_of_ms(day * DAY_MS)
        entry = None if memory.is_late(week) else (week, tally.accepted.setdefault(week, []))
        days[day] = entry
        return entry

    def add_batch(
        self, partition: int, offset: int, batch: EngagementBatch, memory: DedupMemory
    ) -> None:
        """Read one decoded batch from ``partition`` at ``offset``; ValueError if malformed."""
        check_batch(batch)
        tally = self.partitions.get(partition)
        if tally is None:
            tally = self.partitions[partition] = PartitionTally()
        tally.last_offset = offset
        consumer = batch.consumer_id
        if not consumer:
            return
        # Each column is read out of the protobuf once (a C loop building its objects), so
        # the checks below and the copy into the consumer's columns share the same objects.
        event_ids = list(batch.event_ids)
        n = len(event_ids)
        self.events += n
        item_ids = list(batch.item_ids)
        creator_ids = list(batch.creator_ids)
        times = list(batch.occurred_at_ms)
        kinds = list(batch.kinds)
        # Whole-column checks in C; only a batch failing them pays for the per-row ones.
        clean = (
            kinds.count(VIEW) == n
            and "" not in event_ids
            and "" not in item_ids
            and "" not in creator_ids
        )
        # This loop runs once per event, the product's volume: everything it needs is
        # bound to a local, nothing in it calls a Python function on the common path, and
        # an accepted row costs a set add and a list append (its id into memory and into
        # its week's ids); its columns are copied whole below (bench/engagement_throughput.py).
        remembered = memory.ids
        days = self._days.get(partition)
        if days is None:
            days = self._days[partition] = {}
        last_day = None
        entry: tuple[str, list[str]] | None = None
        dropped: list[int] = []
        duplicates = invalid = not_views = late = 0
        for i, event_id, at in zip(range(n), event_ids, times, strict=True):
            if event_id in remembered:
                duplicates += 1
                dropped.append(i)
                continue
            if not clean and (
                kinds[i] != VIEW or not event_id or not creator_ids[i] or not item_ids[i]
            ):
                invalid += 1
                if kinds[i] != VIEW:
                    not_views += 1
                dropped.append(i)
                continue
            day = at // DAY_MS
            if day != last_day:
                entry = days.get(day, _UNSEEN)
                if entry is _UNSEEN:
                    entry = self._day(days, day, tally, memory)
                last_day = day
            if entry is None:
                late += 1
                dropped.append(i)
                continue
            remembered.add(event_id)
            entry[1].append(event_id)
        tally.duplicates += duplicates
        tally.invalid += invalid
        tally.not_views += not_views
        tally.late += late
        if len(dropped) == n:
            return
        cols = tally.views.get(consumer)
        if cols is None:
            cols = tally.views[consumer] = ViewColumns()
        self.accepted += n - len(dropped)
        dwell = list(batch.dwell_seconds)
        if dropped:
            # Rare (the gateway sends views, a retry is rare): keep the rows not dropped.
            gone = set(dropped)
            kept = [i for i in range(n) if i not in gone]
            event_ids = [event_ids[i] for i in kept]
            item_ids = [item_ids[i] for i in kept]
            creator_ids = [creator_ids[i] for i in kept]
            times = [times[i] for i in kept]
            dwell = [dwell[i] for i in kept]
        cols.event_ids += event_ids
        cols.item_ids += item_ids
        cols.creator_ids += creator_ids
        cols.occurred_at_ms += times
        cols.dwell_seconds += dwell

    def skip(self, partition: int, offset: int) -> None:
        """Advance a partition past a record that was dead-lettered."""
        tally = self.partitions.setdefault(partition, PartitionTally())
        tally.last_offset = offset


def book_accepted(fetch: FetchViews, memories: dict[int, DedupMemory]) -> dict[int, list[str]]:
    """File the fetch's accepted ids under their weeks in each memory, pruning old weeks.

    Returns the weeks each partition's memory dropped, so their stored ids can be removed.
    """
    return {
        partition: memories[partition].record(tally.accepted)
        for partition, tally in fetch.partitions.items()
    }

"""The exactly-once loop: one Kafka transaction per fetch.

Per fetch: decode every batch, refuse batches that are not on their consumer's
partition, drop duplicate event ids (and rows that are not views), then in ONE
transaction write the accepted views at full detail (one FactRows record per
input partition and consumer, on the view-facts partition of the same number),
the accepted ids (the dedup snapshot's tail, or a new snapshot generation),
tombstones for what left the horizon, any dead letters, and the input offsets
carrying the snapshot position. Either all of it becomes
visible to read_committed readers or none of it does, so a crash at any point
replays the fetch from the last committed offsets against the memory restored
from committed snapshot records: every view fact written once, none lost.

Nothing here builds a client or reads the clock: bootstrap.py hands them in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planetkit.envelope import UndecodableEvent, decode
from planetkit.kafka.dead_letter import dead_letter
from planetkit.runner import Lifecycle
from services.incentive.engagement.adapters.kafka_input import Fetched, InputLog
from services.incentive.engagement.adapters.kafka_output import TransactionalOutput
from services.incentive.engagement.adapters.snapshot_store import SnapshotStore
from services.incentive.engagement.domain.dedup import DedupMemory
from services.incentive.engagement.domain.placement import Placement
from services.incentive.engagement.domain.records import (
    SOURCE,
    Outgoing,
    OutputTopics,
    Record,
    build_outgoing,
)
from services.incentive.engagement.domain.snapshot import (
    PartitionLedger,
    SnapshotPosition,
    encode_position,
)
from services.incentive.engagement.domain.views import FetchViews, book_accepted

log = logging.getLogger(__name__)


@dataclass
class LoopStats:
    """Counters for logs and benchmarks."""

    events: int = 0
    fetches: int = 0
    duplicates: int = 0
    late: int = 0
    # Rows dropped for a missing id or for not being a view (``not_views`` of them).
    invalid: int = 0
    not_views: int = 0
    fact_rows: int = 0
    fact_records: int = 0
    dead_letters: int = 0
    snapshots: int = 0
    restored_ids: int = 0
    restored_records: int = 0
    commit_seconds: list[float] = field(default_factory=list)
    # timer() of the first non-empty fetch and of the last commit.
    first_fetch_at: float = 0.0
    last_commit_at: float = 0.0

    def events_per_second(self) -> float:
        """Events from the first fetch to the last commit, per second."""
        span = self.last_commit_at - self.first_fetch_at
        return self.events / span if span > 0 else 0.0


@dataclass(frozen=True)
class LoopConfig:
    """How the loop reads and commits."""

    group_id: str
    partitions: list[int]
    input_partitions: int
    max_records: int = 2000
    fetch_timeout_ms: int = 200
    snapshot_min_tail_ids: int = 200_000


@dataclass
class _Fetch:
    outgoing: Outgoing
    next_offsets: dict[int, int]


class EngagementAggregator:
    """Owns a set of input partitions and turns their views into facts exactly once."""

    def __init__(
        self,
        config: LoopConfig,
        topics: OutputTopics,
        source: InputLog,
        sink: TransactionalOutput,
        snapshots: SnapshotStore,
        *,
        now_ms: Callable[[], int],
        timer: Callable[[], float],
    ) -> None:
        self._config = config
        self._topics = topics
        self._source = source
        self._sink = sink
        self._snapshots = snapshots
        self._now_ms = now_ms
        self._timer = timer
        self._placement = Placement(config.input_partitions)
        self._memories: dict[int, DedupMemory] = {}
        self._ledgers: dict[int, PartitionLedger] = {}
        self.stats = LoopStats()

    @property
    def memories(self) -> dict[int, DedupMemory]:
        """The dedup memory per owned input partition (restored by ``run``)."""
        return self._memories

    async def run(self, lifecycle: Lifecycle) -> None:
        """Restore, position, report ready, then run fetches until the runner asks to stop."""
        await self._loop(lifecycle.ready, lifecycle.stopping, until_caught_up=False)

    async def drain(self) -> LoopStats:
        """Restore, then run fetches until no input is left (benchmarks, tools)."""

        async def nothing() -> None:
            return None

        await self._loop(nothing, asyncio.Event(), until_caught_up=True)
        return self.stats

    async def _loop(
        self,
        ready: Callable[[], object],
        stopping: asyncio.Event,
        *,
        until_caught_up: bool,
    ) -> None:
        # Fence a zombie of this partition set first: after this its open transaction is
        # committed or aborted, so the state restored below cannot change under us.
        await self._sink.start()
        in_flight: asyncio.Task[None] | None = None
        try:
            await self._restore()
            await self._source.start()
            await ready()  # type: ignore[misc]
            log.info(
                "aggregator ready",
                extra={
                    "topic": self._source.topic,
                    "partitions": self._config.partitions,
                    "restored_ids": self.stats.restored_ids,
                    "restored_records": self.stats.restored_records,
                },
            )
            while not stopping.is_set():
                fetched = await self._source.getmany(
                    self._config.fetch_timeout_ms, self._config.max_records
                )
                if fetched:
                    if not self.stats.first_fetch_at:
                        self.stats.first_fetch_at = self._timer()
                    fetch = self._accept(fetched)
                    if in_flight is not None:
                        await in_flight
                    in_flight = asyncio.create_task(self._commit(fetch))
                elif until_caught_up:
                    if in_flight is not None:
                        await in_flight
                        in_flight = None
                    if await self._source.caught_up():
                        break
            if in_flight is not None:
                await in_flight
        finally:
            if in_flight is not None and not in_flight.done():
                in_flight.cancel()
            await self._source.stop()
            await self._sink.stop()

    async def _restore(self) -> None:
        started = self._timer()
        self._memories, self._ledgers, read = await self._snapshots.restore(
            self._config.partitions
        )
        self.stats.restored_records = read
        self.stats.restored_ids = sum(len(m) for m in self._memories.values())
        log.info(
            "dedup memory restored",
            extra={
                "ids": self.stats.restored_ids,
                "records": read,
                "seconds": round(self._timer() - started, 3),
                "generations": {p: lg.position.generation for p, lg in self._ledgers.items()},
            },
        )

    def _accept(self, fetched: Fetched) -> _Fetch:
        views = FetchViews()
        next_offsets: dict[int, int] = {}
        dead: list[Record] = []
        now_ms = self._now_ms()
        for tp, records in fetched.items():
            memory = self._memories[tp.partition]
            for rec in records:
                try:
                    batch = decode(rec.value, EngagementBatch).payload
                    self._placement.check(batch.consumer_id, tp.partition)
                    views.add_batch(tp.partition, rec.offset, batch, memory)
                except (UndecodableEvent, ValueError) as exc:
                    dl = dead_letter(rec, reason=str(exc), consumer=SOURCE, now_ms=now_ms)
                    dead.append(
                        (
                            self._topics.dead_letters,
                            -1,
                            self._source.topic.encode(),
                            dl.SerializeToString(),
                        )
                    )
                    views.skip(tp.partition, rec.offset)
            next_offsets[tp.partition] = records[-1].offset + 1
        pruned = book_accepted(views, self._memories)
        outgoing = build_outgoing(
            views,
            pruned,
            self._memories,
            self._ledgers,
            self._topics,
            group_id=self._config.group_id,
            now_ms=now_ms,
            min_tail_ids=self._config.snapshot_min_tail_ids,
        )
        outgoing.records += dead
        tallies = views.partitions.values()
        stats = self.stats
        stats.events += views.events
        stats.duplicates += sum(t.duplicates for t in tallies)
        stats.late += sum(t.late for t in tallies)
        invalid = sum(t.invalid for t in tallies)
        not_views = sum(t.not_views for t in tallies)
        stats.invalid += invalid
        stats.not_views += not_views
        stats.fact_rows += outgoing.fact_rows
        stats.fact_records += outgoing.fact_records
        stats.dead_letters += len(dead)
        if dead:
            log.warning("dead-lettered records", extra={"count": len(dead)})
        if invalid:
            # Counted, not dead-lettered: the record's valid views were accepted, so the
            # record is not one nobody could read. The partition's dedup record of this
            # commit carries the count too (invalid_dropped) when it accepted anything.
            log.warning(
                "telemetry rows dropped",
                extra={"invalid": invalid, "not_views": not_views, "total_invalid": stats.invalid},
            )
        return _Fetch(outgoing, next_offsets)

    async def _commit(self, fetch: _Fetch) -> None:
        started = self._timer()
        new = fetch.outgoing.new_generations

        def metadata(partition: int, located: Mapping[int, int]) -> str:
            # A new generation starts at its first snapshot record, whose offset the broker
            # has just assigned; the offset commit naming it is in the same transaction.
            ledger = self._ledgers[partition]
            if partition in located:
                ledger.position = SnapshotPosition(new[partition][0], located[partition])
            return encode_position(ledger.position)

        await self._sink.commit(
            fetch.outgoing.records,
            self._source.topic,
            fetch.next_offsets,
            metadata,
            {p: index for p, (_, index) in new.items()},
        )
        self.stats.snapshots += len(new)
        self.stats.last_commit_at = self._timer()
        self.stats.commit_seconds.append(self.stats.last_commit_at - started)
        self.stats.fetches += 1

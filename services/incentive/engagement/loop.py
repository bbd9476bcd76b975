"""The exactly-once aggregation loop: one Kafka transaction per fetch.

Per fetch: decode every batch, drop duplicate event ids, fold the rest into
per-(creator, week, consumer) deltas, then in ONE transaction write the deltas
(one record per deltas-topic partition), the accepted ids (one dedup checkpoint
per input partition), any dead letters, and the input offsets. Either all of it
becomes visible to read_committed readers or none of it does, so a crash at any
point replays the fetch from the last committed offsets against the memory
rebuilt from committed checkpoints: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.incentive.v1.engagement_pb2 import DedupCheckpoint, WeekEventIds
from planetkit import clock
from planetkit.envelope import UndecodableEvent, decode, encode, wrap
from planetkit.kafka.dead_letter import dead_letter
from planetkit.kafka.producer import make_producer
from planetkit.topics import Topic

from .aggregate import FetchAggregate, book_accepted
from .dedup import DedupMemory
from .deltas_codec import encode_deltas

log = logging.getLogger(__name__)
SOURCE = "engagement-aggregator"
# ~40 bytes a row and ~20 bytes an id: records stay well under the 8 MiB limit.
MAX_ROWS_PER_RECORD = 50_000
MAX_IDS_PER_RECORD = 100_000
# (topic, partition, key, value); partition -1 lets the producer's partitioner choose.
Record = tuple[str, int, bytes, bytes]


@dataclass(frozen=True)
class AggregatorTopics:
    """The topics the aggregator reads and writes (already suffixed)."""

    batches: Topic
    deltas: Topic
    dedup: Topic
    dead_letters: Topic


@dataclass
class LoopStats:
    """Counters for logs and benchmarks."""

    events: int = 0
    fetches: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    commit_seconds: list[float] = field(default_factory=list)
    # perf_counter() of the first non-empty fetch and of the last commit.
    first_fetch_at: float = 0.0
    last_commit_at: float = 0.0

    def events_per_second(self) -> float:
        """Events from the first fetch to the last commit, per second."""
        span = self.last_commit_at - self.first_fetch_at
        return self.events / span if span > 0 else 0.0


def build_records(
    aggregate: FetchAggregate, topics: AggregatorTopics, group_id: str, now_ms: int
) -> list[Record]:
    """The records one fetch commits, dead letters aside: deltas, then dedup checkpoints."""
    span = ",".join(f"p{p}@{t.last_offset}" for p, t in sorted(aggregate.partitions.items()))
    commit_id = f"{group_id}:{span}"
    return [
        *_delta_records(aggregate, topics.deltas, commit_id, now_ms),
        *_checkpoint_records(aggregate, topics.dedup, commit_id, now_ms),
    ]


def _delta_records(
    aggregate: FetchAggregate, deltas: Topic, commit_id: str, now_ms: int
) -> Iterator[Record]:
    for q, items in sorted(aggregate.by_output_partition(deltas.partitions).items()):
        # Chunked so no record nears the broker's message size limit.
        for n, start in enumerate(range(0, len(items), MAX_ROWS_PER_RECORD)):
            msg = encode_deltas(f"{commit_id}:q{q}:{n}", items[start : start + MAX_ROWS_PER_RECORD])
            env = wrap(
                msg,
                event_id=msg.commit_id,
                source=SOURCE,
                aggregate_id=f"q{q}",
                occurred_at_ms=now_ms,
            )
            yield deltas.name, q, env.aggregate_id.encode(), encode(env)


def _id_chunks(accepted: dict[str, list[str]]) -> list[list[WeekEventIds]]:
    """Accepted ids by week, cut so no checkpoint carries more than MAX_IDS_PER_RECORD."""
    chunks: list[list[WeekEventIds]] = [[]]
    room = MAX_IDS_PER_RECORD
    for week, ids in sorted(accepted.items()):
        for start in range(0, len(ids), MAX_IDS_PER_RECORD):
            part = ids[start : start + MAX_IDS_PER_RECORD]
            if len(part) > room:
                chunks.append([])
                room = MAX_IDS_PER_RECORD
            chunks[-1].append(WeekEventIds(week=week, event_ids=part))
            room -= len(part)
    return chunks


def _checkpoint_records(
    aggregate: FetchAggregate, dedup: Topic, commit_id: str, now_ms: int
) -> Iterator[Record]:
    for p, tally in sorted(aggregate.partitions.items()):
        for n, accepted in enumerate(_id_chunks(tally.accepted)):
            # The counters travel once, on the first checkpoint of the commit.
            first = n == 0
            cp = DedupCheckpoint(
                partition=p,
                last_offset=tally.last_offset,
                accepted=accepted,
                duplicates_dropped=tally.duplicates if first else 0,
                late_dropped=tally.late if first else 0,
                invalid_dropped=tally.invalid if first else 0,
            )
            env = wrap(
                cp,
                event_id=f"{commit_id}:dedup:p{p}:{n}",
                source=SOURCE,
                aggregate_id=f"p{p}",
                occurred_at_ms=now_ms,
            )
            yield dedup.name, p, env.aggregate_id.encode(), encode(env)


class EngagementAggregator:
    """Owns a set of input partitions and aggregates them exactly once."""

    def __init__(
        self,
        bootstrap: str,
        topics: AggregatorTopics,
        partitions: list[int],
        memories: dict[int, DedupMemory],
        *,
        group_id: str,
        max_records: int = 2000,
        fetch_timeout_ms: int = 200,
    ) -> None:
        self._topics = topics
        self._partitions = partitions
        self._memories = memories
        self._group_id = group_id
        self._max_records = max_records
        self._fetch_timeout_ms = fetch_timeout_ms
        self._stopping = asyncio.Event()
        self.stats = LoopStats()
        self._partition_cache: dict[str, int] = {}
        owned = "-".join(str(p) for p in partitions)
        # One transactional id per owned partition set: a restarted instance
        # fences its predecessor (zombie) and aborts its open transaction.
        self._producer: AIOKafkaProducer = make_producer(
            bootstrap, transactional_id=f"{group_id}-{topics.batches.name}-{owned}", linger_ms=0
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=32 * 1024 * 1024,
        )

    def stop(self) -> None:
        """Finish the fetch in hand, commit it, and return from run()."""
        self._stopping.set()

    async def run(self, *, until_caught_up: bool = False) -> LoopStats:
        """Aggregate until stop() (or, with ``until_caught_up``, until no input is left).

        Commits are pipelined: while fetch N's transaction is in flight (broker
        I/O), fetch N+1 is read and aggregated (CPU). Transactions still commit
        strictly in order, one at a time. If a commit fails, the exception ends
        the process; the restart resumes from the last committed offsets with
        memory rebuilt from committed checkpoints.
        """
        await self._producer.start()
        await self._consumer.start()
        in_flight: asyncio.Task[None] | None = None
        try:
            tps = [TopicPartition(self._topics.batches.name, p) for p in self._partitions]
            self._consumer.assign(tps)
            while not self._stopping.is_set():
                fetched = await self._consumer.getmany(
                    timeout_ms=self._fetch_timeout_ms, max_records=self._max_records
                )
                if fetched:
                    if not self.stats.first_fetch_at:
                        self.stats.first_fetch_at = time.perf_counter()
                    records, offsets = self._aggregate(fetched)
                    if in_flight is not None:
                        await in_flight
                    in_flight = asyncio.create_task(self._commit(records, offsets))
                elif until_caught_up:
                    if in_flight is not None:
                        await in_flight
                        in_flight = None
                    if await self._caught_up(tps):
                        break
            if in_flight is not None:
                await in_flight
            return self.stats
        finally:
            if in_flight is not None and not in_flight.done():
                in_flight.cancel()
            await self._consumer.stop()
            await self._producer.stop()

    async def _caught_up(self, tps: list[TopicPartition]) -> bool:
        ends = await self._consumer.end_offsets(tps)
        for tp in tps:
            if await self._consumer.position(tp) < ends[tp]:
                return False
        return True

    def _aggregate(
        self, fetched: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> tuple[list[Record], dict[TopicPartition, OffsetAndMetadata]]:
        aggregate = FetchAggregate(self._partition_cache)
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        dead: list[Record] = []
        now_ms = clock.now_ms()
        for tp, records in fetched.items():
            memory = self._memories[tp.partition]
            for rec in records:
                try:
                    batch = decode(rec.value, EngagementBatch).payload
                    aggregate.add_batch(tp.partition, rec.offset, batch, memory)
                except (UndecodableEvent, ValueError) as exc:
                    dl = dead_letter(rec, reason=str(exc), consumer=SOURCE, now_ms=now_ms)
                    dead.append(
                        (
                            self._topics.dead_letters.name,
                            -1,
                            self._topics.batches.name.encode(),
                            dl.SerializeToString(),
                        )
                    )
                    aggregate.skip(tp.partition, rec.offset)
            offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "")
        book_accepted(aggregate, self._memories)
        records_out = build_records(aggregate, self._topics, self._group_id, now_ms) + dead
        self.stats.events += aggregate.events
        self.stats.duplicates += sum(t.duplicates for t in aggregate.partitions.values())
        self.stats.dead_letters += len(dead)
        if dead:
            log.warning("dead-lettering %d undecodable records", len(dead))
        return records_out, offsets

    async def _commit(
        self,
        records: list[Record],
        offsets: dict[TopicPartition, OffsetAndMetadata],
    ) -> None:
        started = time.perf_counter()
        async with self._producer.transaction():
            for topic, partition, key, value in records:
                await self._producer.send(
                    topic, value, key=key, partition=None if partition < 0 else partition
                )
            await self._producer.send_offsets_to_transaction(offsets, self._group_id)
        self.stats.last_commit_at = time.perf_counter()
        self.stats.commit_seconds.append(self.stats.last_commit_at - started)
        self.stats.fetches += 1

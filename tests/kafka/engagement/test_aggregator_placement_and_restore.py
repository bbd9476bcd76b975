"""Dedup that partitioning cannot fool, and memory restored from the compacted snapshot."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.events.v1.envelope_pb2 import DeadLetter
from planet.incentive.v1.facts_pb2 import FactRows
from planetkit.engagement_batches import VIEW, EngagementRow, build_batch
from planetkit.envelope import decode, encode, wrap
from planetkit.fact_rows import iter_consumer_facts
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.replay import read_committed
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.weeks import week_start_ms
from services.incentive.engagement.adapters.snapshot_store import SnapshotStore
from services.incentive.engagement.bootstrap import build, topics_of
from services.incentive.engagement.domain.dedup import DedupMemory
from services.incentive.engagement.settings import AggregatorSettings

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[3]
PARTITIONS = 4


def settings_for(bootstrap: str, suffix: str, **kw: object) -> AggregatorSettings:
    return AggregatorSettings(
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        topics=TopicSettings(topic_suffix=suffix),
        **kw,  # type: ignore[arg-type]
    )


def batch_of(consumer: str, batch_id: str, ids: list[str], week: str) -> EngagementBatch:
    at = week_start_ms(week) + 3_600_000
    rows = [EngagementRow(i, "item", "creator-1", at, VIEW, dwell_seconds=5) for i in ids]
    return build_batch(batch_id, consumer, rows)


async def produce(
    bootstrap: str, topic: str, sends: list[tuple[EngagementBatch, int | None]]
) -> None:
    """Each batch keyed by its consumer; on the given partition, or murmur2's when None."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for batch, partition in sends:
            env = wrap(batch, event_id=batch.batch_id, source="gateway",
                       aggregate_id=batch.consumer_id, occurred_at_ms=0)
            await producer.send(topic, encode(env), key=batch.consumer_id.encode(),
                                partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def view_facts(bootstrap: str, topic: str) -> Counter[tuple[str, str, int]]:
    """(consumer, event id, partition) of every committed view fact."""
    views: Counter[tuple[str, str, int]] = Counter()
    async for r in read_committed(bootstrap, topic, range(PARTITIONS)):
        rows = decode(r.value, FactRows).payload
        for consumer, row in iter_consumer_facts(rows):
            views[(consumer, row.event_id, r.partition)] += 1
    return views


def facts_of(consumer: str, ids: list[str]) -> Counter[tuple[str, str, int]]:
    """Each id once, on the consumer's partition (the input's, murmur2)."""
    return Counter((consumer, i, partition_for(consumer, PARTITIONS)) for i in ids)


async def test_a_batch_on_a_foreign_partition_is_dead_lettered_and_counted_zero_times(
    kafka_bootstrap: str, topic_suffix: str, registered_topics: str
) -> None:
    settings = settings_for(kafka_bootstrap, topic_suffix)
    batches_t, facts_t, _, dlq_t = topics_of(settings)
    # A consumer that kcat's default partitioner (consistent_random: crc32 of the key)
    # puts on another partition than Kafka's default (murmur2).
    consumer = next(
        c for c in (f"user-{i}" for i in range(1000))
        if zlib.crc32(c.encode()) % PARTITIONS != partition_for(c, PARTITIONS)
    )
    wrong = zlib.crc32(consumer.encode()) % PARTITIONS
    batch = batch_of(consumer, "retried-batch", [f"e{i}" for i in range(10)], "2026-W48")
    other = batch_of("someone-else", "b2", ["x1", "x2"], "2026-W48")
    aggregator = await build(settings)
    # The same batch twice: as kcat would place it, and as the gateway does.
    await produce(kafka_bootstrap, batches_t.name, [(batch, wrong), (batch, None), (other, None)])
    stats = await aggregator.drain()

    assert await view_facts(kafka_bootstrap, facts_t.name) == facts_of(
        consumer, [f"e{i}" for i in range(10)]
    ) + facts_of("someone-else", ["x1", "x2"])
    dead = [DeadLetter.FromString(r.value)
            async for r in read_committed(kafka_bootstrap, dlq_t.name, range(dlq_t.partitions))]
    assert len(dead) == 1 and stats.dead_letters == 1
    assert dead[0].source_partition == wrong
    assert decode(dead[0].value, EngagementBatch).payload.batch_id == "retried-batch"
    assert "misplaced" in dead[0].reason and "murmur2" in dead[0].reason


def memory_view(memories: Mapping[int, DedupMemory]) -> dict[int, dict[str, list[str]]]:
    return {p: {w: sorted(ids) for w, ids in m.weeks().items()} for p, m in memories.items()}


@pytest.mark.slow
async def test_restart_after_many_fetches_restores_exactly_the_same_memory_from_the_snapshot(
    kafka_bootstrap: str, topic_suffix: str, registered_topics: str
) -> None:
    min_tail = 60
    settings = settings_for(kafka_bootstrap, topic_suffix, max_records=3,
                            snapshot_min_tail_ids=min_tail, dedup_horizon_weeks=2)
    batches_t, facts_t, dedup_t, _ = topics_of(settings)
    aggregator = await build(settings)
    weeks = ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    sends: list[tuple[EngagementBatch, int | None]] = []
    for n in range(240):  # 60 per week, in week order: old weeks leave the horizon
        week = weeks[n // 60]
        ids = [f"b{n}e{i}" for i in range(8)]
        batch = batch_of(f"user-{n % 13}", f"b{n}", ids, week)
        sends.append((batch, None))
        if n % 7 == 0:
            sends.append((batch, None))  # client retries
    await produce(kafka_bootstrap, batches_t.name, sends)
    stats = await aggregator.drain()
    assert stats.fetches > 50 and stats.snapshots > 4, stats
    # Written once each, retries or not, whichever generation the dedup was in.
    assert await view_facts(kafka_bootstrap, facts_t.name) == sum(
        (facts_of(f"user-{n % 13}", [f"b{n}e{i}" for i in range(8)]) for n in range(240)),
        Counter(),
    )
    before = memory_view(aggregator.memories)
    assert {w for m in before.values() for w in m} == {"2026-W47", "2026-W48"}

    store = SnapshotStore(kafka_bootstrap, settings.group(), batches_t.name, dedup_t.name,
                          settings.dedup_horizon_weeks)
    memories, ledgers, read = await store.restore(list(range(PARTITIONS)))
    assert memory_view(memories) == before
    total = sum([1 async for _ in read_committed(kafka_bootstrap, dedup_t.name,
                                                 range(PARTITIONS))])
    assert read < total, "restore read the whole history instead of the last generation"
    for p, ledger in ledgers.items():
        assert ledger.position.generation > 0, p
        # Bounded: the generation's snapshot and a tail no larger than it (or min_tail),
        # plus at most one fetch's ids (3 batches of 8) past the threshold.
        assert ledger.tail_ids <= max(ledger.snapshot_ids, min_tail) + 3 * 8, (p, ledger)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _health(port: int) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            return int(health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1).status)
        except grpc.RpcError:
            return -1


async def test_the_process_reports_serving_once_restored_and_stops_cleanly_on_sigterm(
    kafka_bootstrap: str, topic_suffix: str, registered_topics: str
) -> None:
    port = _free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "PLANET_TOPIC_SUFFIX": topic_suffix, "PLANET_AGGREGATOR_HEALTH_PORT": str(port),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "services.incentive.engagement"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _health(port) != health_pb2.HealthCheckResponse.SERVING:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "never SERVING"
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        err = proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Structured one-line logs: the ready line comes after the restore line.
    lines = err.splitlines()
    restored = next(i for i, line in enumerate(lines) if 'msg="dedup memory restored"' in line)
    ready = next(i for i, line in enumerate(lines) if 'msg="aggregator ready"' in line)
    assert restored < ready


async def test_a_group_left_by_the_v1_aggregator_is_migrated_from_the_v1_topic(
    kafka_bootstrap: str, topic_suffix: str, registered_topics: str
) -> None:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from planet.incentive.v1.engagement_pb2 import DedupCheckpoint, WeekEventIds
    from planetkit.kafka.admin import ensure_topics
    from planetkit.topics import ENGAGEMENT_DEDUP, with_suffix
    from services.incentive.engagement.adapters.snapshot_store import committed_positions

    settings = settings_for(kafka_bootstrap, topic_suffix)
    batches_t, facts_t, _, _ = topics_of(settings)
    v1 = with_suffix(ENGAGEMENT_DEDUP, topic_suffix)
    consumer = "user-7"
    p = partition_for(consumer, PARTITIONS)
    old = batch_of(consumer, "old", ["seen-1", "seen-2"], "2026-W48")
    aggregator = await build(settings)
    await ensure_topics(kafka_bootstrap, [v1])
    # What the v1 aggregator left: ids in its checkpoint topic, offsets without a position.
    await produce(kafka_bootstrap, batches_t.name, [(old, None)])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    cp = DedupCheckpoint(partition=p, accepted=[WeekEventIds(week="2026-W48",
                                                             event_ids=["seen-1", "seen-2"])])
    env = wrap(cp, event_id="v1", source="engagement-aggregator", aggregate_id=f"p{p}",
               occurred_at_ms=0)
    await producer.send_and_wait(v1.name, encode(env), key=f"p{p}".encode(), partition=p)
    await producer.stop()
    group = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=settings.group(),
                             enable_auto_commit=False)
    await group.start()
    try:
        group.assign([TopicPartition(batches_t.name, p)])
        await group.commit({TopicPartition(batches_t.name, p): 1})
    finally:
        await group.stop()

    # The client retries the old batch with one new event.
    retry = batch_of(consumer, "retry", ["seen-1", "seen-2", "new-1"], "2026-W48")
    await produce(kafka_bootstrap, batches_t.name, [(retry, None)])
    stats = await aggregator.drain()
    assert await view_facts(kafka_bootstrap, facts_t.name) == facts_of(consumer, ["new-1"])
    assert stats.duplicates == 2 and stats.snapshots == 1
    positions = await committed_positions(kafka_bootstrap, settings.group(), batches_t.name, [p])
    position = positions[p]
    assert position is not None and position.generation == 1

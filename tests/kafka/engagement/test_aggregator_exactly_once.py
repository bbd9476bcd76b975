"""The volume path on the real broker: exactly-once through crashes, duplicates and junk."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.events.v1.envelope_pb2 import DeadLetter
from planet.incentive.v1.engagement_pb2 import EngagementDeltas
from planetkit.engagement_batches import INTERACTION_KINDS, VIEW, EngagementRow, build_batch
from planetkit.engagement_deltas import iter_deltas
from planetkit.envelope import decode, encode, wrap
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.replay import read_committed
from planetkit.topics import (
    DLQ_AGGREGATOR,
    ENGAGEMENT_BATCHES,
    ENGAGEMENT_DEDUP_SNAPSHOT,
    ENGAGEMENT_DELTAS,
    with_suffix,
)
from planetkit.weeks import week_start_ms

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[3]
T0 = week_start_ms("2026-W48") + 3_600_000
Totals = Counter[tuple[str, str, str, str]]


def make_batches(n_batches: int, per_batch: int, seed: int) -> tuple[list[EngagementBatch], Totals]:
    """Synthetic batches and the exact totals they must produce."""
    rng = random.Random(seed)
    batches, expected = [], Counter()
    for b in range(n_batches):
        consumer = f"u{rng.randrange(50)}"
        rows = []
        for e in range(per_batch):
            creator = f"c{rng.randrange(20)}"
            eid = f"b{b}e{e}"
            if rng.random() < 0.7:
                dwell = rng.randrange(1, 120)
                rows.append(EngagementRow(eid, "i", creator, T0 + b, VIEW, dwell_seconds=dwell))
                expected[(creator, "2026-W48", consumer, "views")] += 1
                expected[(creator, "2026-W48", consumer, "dwell")] += dwell
            else:
                rows.append(
                    EngagementRow(
                        eid, "i", creator, T0 + b, INTERACTION_KINDS["comment"], text_length=40
                    )
                )
                expected[(creator, "2026-W48", consumer, "interactions")] += 1
        batches.append(build_batch(f"batch{b}", consumer, rows))
    return batches, expected


async def produce(bootstrap: str, topic: str, batches: list[EngagementBatch]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for batch in batches:
            consumer = batch.consumer_id
            env = wrap(
                batch,
                event_id=batch.batch_id,
                source="gateway",
                aggregate_id=consumer,
                occurred_at_ms=T0,
            )
            await producer.send(topic, encode(env), key=consumer.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str, partitions: int) -> list[bytes]:
    """Every committed record value of ``topic`` (read_committed)."""
    return [r.value async for r in read_committed(bootstrap, topic, range(partitions))]


async def committed_totals(bootstrap: str, topic: str) -> Totals:
    totals: Totals = Counter()
    for value in await read_all(bootstrap, topic, ENGAGEMENT_DELTAS.partitions):
        for d in iter_deltas(decode(value, EngagementDeltas).payload):
            key = (d.creator_id, d.week, d.consumer_id)
            totals[(*key, "views")] += d.views
            totals[(*key, "dwell")] += d.dwell_seconds
            totals[(*key, "interactions")] += d.interactions
    return +totals


async def lag(bootstrap: str, group: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(ENGAGEMENT_BATCHES.partitions)]
        ends = await consumer.end_offsets(tps)
        total = 0
        for tp in tps:
            committed = await consumer.committed(tp) or 0
            total += ends[tp] - committed
        return total
    finally:
        await consumer.stop()


def start_aggregator(bootstrap: str, suffix: str, max_records: int = 50) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PLANET_TOPIC_SUFFIX": suffix,
        "PLANET_AGGREGATOR_MAX_RECORDS": str(max_records),
        "PLANET_AGGREGATOR_HEALTH_PORT": "0",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.incentive.engagement"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def wait_until(predicate, timeout_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.3)
    raise AssertionError("condition not met before the deadline")


def topics(suffix: str):  # type: ignore[no-untyped-def]
    return [
        with_suffix(t, suffix)
        for t in (ENGAGEMENT_BATCHES, ENGAGEMENT_DELTAS, ENGAGEMENT_DEDUP_SNAPSHOT, DLQ_AGGREGATOR)
    ]


@pytest.mark.slow
async def test_kill_mid_stream_and_restart_counts_every_event_once(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    batches_t, deltas_t, _, _ = topics(topic_suffix)
    await ensure_topics(kafka_bootstrap, topics(topic_suffix))
    batches, expected = make_batches(600, 40, seed=7)
    # Client retries: the same batches sent again must not count twice.
    await produce(kafka_bootstrap, batches_t.name, batches + batches[100:160])
    group = f"engagement-aggregator-{topic_suffix}"

    proc = start_aggregator(kafka_bootstrap, topic_suffix)
    try:

        async def some_progress() -> bool:
            return bool(await committed_totals(kafka_bootstrap, deltas_t.name))

        await wait_until(some_progress)
        assert await lag(kafka_bootstrap, group, batches_t.name) > 0, "killed too late"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    proc = start_aggregator(kafka_bootstrap, topic_suffix)
    try:

        async def caught_up() -> bool:
            return await lag(kafka_bootstrap, group, batches_t.name) == 0

        await wait_until(caught_up)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert await committed_totals(kafka_bootstrap, deltas_t.name) == +expected


async def test_undecodable_record_is_dead_lettered_and_the_rest_counts(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    batches_t, deltas_t, _, dlq_t = topics(topic_suffix)
    await ensure_topics(kafka_bootstrap, topics(topic_suffix))
    batches, expected = make_batches(20, 5, seed=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    await producer.send_and_wait(batches_t.name, b"\xff\x00not protobuf", key=b"u1")
    await producer.stop()
    await produce(kafka_bootstrap, batches_t.name, batches)
    group = f"engagement-aggregator-{topic_suffix}"
    proc = start_aggregator(kafka_bootstrap, topic_suffix)
    try:

        async def caught_up() -> bool:
            return await lag(kafka_bootstrap, group, batches_t.name) == 0

        await wait_until(caught_up)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert await committed_totals(kafka_bootstrap, deltas_t.name) == +expected
    dead = [
        DeadLetter.FromString(v)
        for v in await read_all(kafka_bootstrap, dlq_t.name, dlq_t.partitions)
    ]
    assert len(dead) == 1
    assert dead[0].source_topic == batches_t.name
    assert dead[0].value == b"\xff\x00not protobuf"
    assert "not a protobuf Envelope" in dead[0].reason

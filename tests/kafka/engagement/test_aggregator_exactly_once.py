"""The volume path on the real broker: every view fact once through crashes, retries and junk."""

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
from planet.incentive.v1.facts_pb2 import FactRows
from planetkit.engagement_batches import INTERACTION_KINDS, VIEW, EngagementRow, build_batch
from planetkit.envelope import decode, encode, wrap
from planetkit.fact_rows import VIEW as FACT_VIEW
from planetkit.fact_rows import FactRow, iter_consumer_facts
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.replay import read_committed
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import (
    DLQ_AGGREGATOR,
    ENGAGEMENT_BATCHES,
    ENGAGEMENT_DEDUP_SNAPSHOT,
    VIEW_FACTS,
    with_suffix,
)
from planetkit.weeks import week_start_ms
from services.incentive.engagement.bootstrap import build
from services.incentive.engagement.settings import AggregatorSettings

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[3]
T0 = week_start_ms("2026-W48") + 3_600_000
# (consumer, row, partition it was written to)
Facts = Counter[tuple[str, FactRow, int]]


def make_batches(n_batches: int, per_batch: int, seed: int) -> tuple[list[EngagementBatch], Facts]:
    """Synthetic batches and the view facts they must produce, each exactly once.

    Three rows in ten claim a comment, which telemetry must not carry (the gateway refuses
    them): they are dropped, never written.
    """
    rng = random.Random(seed)
    batches: list[EngagementBatch] = []
    expected: Facts = Counter()
    for b in range(n_batches):
        consumer = f"u{rng.randrange(50)}"
        p = partition_for(consumer, ENGAGEMENT_BATCHES.partitions)
        rows = []
        for e in range(per_batch):
            creator = f"c{rng.randrange(20)}"
            item = f"i{rng.randrange(30)}"
            eid = f"b{b}e{e}"
            if rng.random() < 0.7:
                dwell = rng.randrange(1, 120)
                rows.append(EngagementRow(eid, item, creator, T0 + b, VIEW, dwell_seconds=dwell))
                expected[(consumer, FactRow(eid, item, creator, T0 + b, FACT_VIEW, dwell), p)] += 1
            else:
                rows.append(
                    EngagementRow(
                        eid, item, creator, T0 + b, INTERACTION_KINDS["comment"], text_length=40
                    )
                )
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


async def committed_facts(bootstrap: str, topic: str) -> Facts:
    """Every committed view fact, with its consumer and partition; rows_id never repeats."""
    facts: Facts = Counter()
    rows_ids: Counter[str] = Counter()
    async for r in read_committed(bootstrap, topic, range(VIEW_FACTS.partitions)):
        env = decode(r.value, FactRows)
        rows = env.payload
        # One record per input partition and fetch, with a consumer column.
        assert env.event_id == rows.rows_id and r.key == f"p{r.partition}".encode()
        assert not rows.consumer_id and len(rows.event_keys) == len(rows.event_ids)
        rows_ids[rows.rows_id] += 1
        for consumer, row in iter_consumer_facts(rows):
            facts[(consumer, row, r.partition)] += 1
    assert max(rows_ids.values(), default=1) == 1, "a rows_id was written twice"
    return facts


async def undisturbed_run(bootstrap: str, suffix: str, batches: list[EngagementBatch]) -> Facts:
    """The same input through an aggregator that nothing interrupts, on topics of its own."""
    await ensure_topics(bootstrap, topics(suffix))
    await produce(bootstrap, with_suffix(ENGAGEMENT_BATCHES, suffix).name, batches)
    settings = AggregatorSettings(kafka=KafkaSettings(bootstrap_servers=bootstrap),
                                  topics=TopicSettings(topic_suffix=suffix), max_records=50)
    await (await build(settings)).drain()
    return await committed_facts(bootstrap, with_suffix(VIEW_FACTS, suffix).name)


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
        for t in (ENGAGEMENT_BATCHES, VIEW_FACTS, ENGAGEMENT_DEDUP_SNAPSHOT, DLQ_AGGREGATOR)
    ]


@pytest.mark.slow
async def test_kill_mid_stream_and_restart_writes_every_view_fact_once(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    batches_t, facts_t, _, _ = topics(topic_suffix)
    await ensure_topics(kafka_bootstrap, topics(topic_suffix))
    batches, expected = make_batches(600, 40, seed=7)
    # Client retries: the same batches sent again must not count twice.
    sent = batches + batches[100:160]
    await produce(kafka_bootstrap, batches_t.name, sent)
    group = f"engagement-aggregator-{topic_suffix}"

    proc = start_aggregator(kafka_bootstrap, topic_suffix)
    try:

        async def some_progress() -> bool:
            return bool(await committed_facts(kafka_bootstrap, facts_t.name))

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
    crashed = await committed_facts(kafka_bootstrap, facts_t.name)
    # The multiset of (consumer, row, partition): nothing lost, nothing twice, each view on
    # its input partition, at full detail; as an undisturbed run writes it.
    assert crashed == expected
    assert crashed == await undisturbed_run(kafka_bootstrap, f"{topic_suffix}u", sent)


async def test_undecodable_record_is_dead_lettered_and_the_rest_counts(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    batches_t, facts_t, _, dlq_t = topics(topic_suffix)
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
    log = proc.stderr.read().decode() if proc.stderr else ""
    assert await committed_facts(kafka_bootstrap, facts_t.name) == expected
    claimed = sum(1 for b in batches for k in b.kinds if k != VIEW)
    dropped = [line for line in log.splitlines() if 'msg="telemetry rows dropped"' in line]
    assert claimed and dropped, log[-2000:]
    assert sum(int(line.split("not_views=")[1].split()[0]) for line in dropped) == claimed
    # Only the undecodable record is dead-lettered; the comment rows are counted and logged.
    dead = [
        DeadLetter.FromString(v)
        for v in await read_all(kafka_bootstrap, dlq_t.name, dlq_t.partitions)
    ]
    assert len(dead) == 1
    assert dead[0].source_topic == batches_t.name
    assert dead[0].value == b"\xff\x00not protobuf"
    assert "not a protobuf Envelope" in dead[0].reason


@pytest.mark.slow
async def test_a_second_instance_of_the_same_partitions_fences_the_first_and_nothing_doubles(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    """A zombie (an old instance still running when its replacement starts) cannot commit:
    the replacement's transactional id fences it, and its open transaction is aborted."""
    batches_t, facts_t, _, _ = topics(topic_suffix)
    await ensure_topics(kafka_bootstrap, topics(topic_suffix))
    batches, expected = make_batches(600, 40, seed=11)
    await produce(kafka_bootstrap, batches_t.name, batches + batches[:50])
    group = f"engagement-aggregator-{topic_suffix}"
    zombie = start_aggregator(kafka_bootstrap, topic_suffix, max_records=5)
    replacement = None
    try:

        async def some_progress() -> bool:
            return bool(await committed_facts(kafka_bootstrap, facts_t.name))

        await wait_until(some_progress)
        assert await lag(kafka_bootstrap, group, batches_t.name) > 0, "replaced too late"
        replacement = start_aggregator(kafka_bootstrap, topic_suffix)

        async def caught_up() -> bool:
            return await lag(kafka_bootstrap, group, batches_t.name) == 0

        await wait_until(caught_up)
        # More batches until the zombie tries a transaction after the replacement fenced it
        # (it may have gone idle before the replacement started).
        for n in range(60):
            if zombie.poll() is not None:
                break
            more = []
            for c in range(8):
                rows = [EngagementRow(f"more{n}-{c}", "i1", "c1", T0, VIEW, dwell_seconds=9)]
                more.append(build_batch(f"more{n}-{c}", f"u{c}", rows))
                p = partition_for(f"u{c}", ENGAGEMENT_BATCHES.partitions)
                expected[(f"u{c}", FactRow(f"more{n}-{c}", "i1", "c1", T0, FACT_VIEW, 9), p)] += 1
            await produce(kafka_bootstrap, batches_t.name, more)
            await wait_until(caught_up)
            await asyncio.sleep(0.5)
        # The zombie's next transaction was refused: it stops rather than write.
        assert zombie.wait(timeout=30) != 0
        assert zombie.stderr is not None and b"ProducerFenced" in zombie.stderr.read()
    finally:
        for proc in (zombie, replacement):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    assert await committed_facts(kafka_bootstrap, facts_t.name) == expected

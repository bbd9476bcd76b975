"""End-to-end exactly-once throughput of the engagement path vs raw aiokafka getmany.

Loads N synthetic engagement events twice into fresh topics of the real broker:
packed 100 to a record as the gateway writes them, and one per record. Then, in
the same run, measures:

- baseline: a raw aiokafka ``getmany`` loop over the one-per-record topic,
  counting only (no decoding, no state, no commits);
- pipeline: the production EngagementAggregator (decode, dedup, the accepted
  views at full detail as FactRows, one Kafka transaction per fetch with view
  facts + dedup snapshot records + offsets) over the batched topic, from the
  first fetch to the last committed transaction;

checks that the committed view facts hold every view exactly once (and none of
the rows that are not views, when ``--not-views-every`` mixes some in), and
prints events/s of both, their ratio and per-transaction commit latency.
Usage: python -m bench.engagement_throughput [--events 2000000] [--not-views-every 0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.incentive.v1.facts_pb2 import FactRows
from planetkit.engagement_batches import (
    INTERACTION_KINDS,
    VIEW,
    EngagementRow,
    build_batch,
    iter_rows,
)
from planetkit.envelope import decode, encode, wrap
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.kafka.replay import read_committed
from planetkit.service_identities import GATEWAY
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import Topic
from planetkit.weeks import week_start_ms
from services.incentive.engagement.bootstrap import build, topics_of
from services.incentive.engagement.settings import AggregatorSettings

T0 = week_start_ms("2026-W48")


def synth_batches(
    events: int, per_batch: int, creators: int, consumers: int, seed: int, not_views_every: int
) -> list[EngagementBatch]:
    """Heavy-tailed synthetic telemetry, as an analytics SDK would batch it.

    Creator popularity is Zipf-like; each consumer follows 20 creators drawn by
    popularity and a batch (one consumer's session) views those, with dwell. Telemetry
    carries views only (the gateway refuses interaction claims); ``not_views_every`` > 0
    makes one row in that many a like anyway, which the aggregator must drop.
    """
    rng = random.Random(seed)
    creator_ids = [f"creator-{i}" for i in range(creators)]
    weights = [1.0 / (i + 1) for i in range(creators)]
    follows: dict[int, list[str]] = {}
    batches: list[EngagementBatch] = []
    made = 0
    while made < events:
        user = rng.randrange(consumers)
        followed = follows.get(user)
        if followed is None:
            followed = follows[user] = rng.choices(creator_ids, weights, k=20)
        n = min(per_batch, events - made)
        rows = []
        for j in range(n):
            at = T0 + (made + j) * 100
            like = not_views_every > 0 and j % not_views_every == 0
            kind = INTERACTION_KINDS["like"] if like else VIEW
            rows.append(
                EngagementRow(
                    event_id=f"e{made + j}",
                    item_id=f"item-{j % 7}",
                    creator_id=followed[rng.randrange(20)],
                    occurred_at_ms=at,
                    kind=kind,
                    dwell_seconds=1 + (j * 7) % 90 if kind == VIEW else 0,
                )
            )
        batches.append(build_batch(f"b{len(batches)}", f"user-{user}", rows))
        made += n
    return batches


async def load(
    bootstrap: str, batched: Topic, single: str, batches: list[EngagementBatch]
) -> tuple[float, float]:
    """Produce both layouts; returns seconds spent on each."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=20,
        max_batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    await producer.start()
    try:
        started = time.perf_counter()
        for b in batches:
            consumer = b.consumer_id
            env = wrap(
                b, event_id=b.batch_id, source=GATEWAY, aggregate_id=consumer, occurred_at_ms=T0
            )
            await producer.send(batched.name, encode(env), key=consumer.encode())
        await producer.flush()
        batched_s = time.perf_counter() - started
        started = time.perf_counter()
        for b in batches:
            key = b.consumer_id.encode()
            # The same events, one per record, as a one-row batch each.
            for row in iter_rows(b):
                one = build_batch(row.event_id, b.consumer_id, [row])
                await producer.send(single, one.SerializeToString(), key=key)
        await producer.flush()
        return batched_s, time.perf_counter() - started
    finally:
        await producer.stop()


async def raw_getmany(bootstrap: str, topic: str, expected: int) -> float:
    """Seconds a raw getmany loop takes to read ``expected`` records (counting only)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=32 * 1024 * 1024,
    )
    await consumer.start()
    try:
        seen = 0
        started: float | None = None
        while seen < expected:
            fetched = await consumer.getmany(timeout_ms=500, max_records=10_000)
            if started is None and fetched:
                started = time.perf_counter()
            for records in fetched.values():
                seen += len(records)
        assert started is not None
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def committed_views(bootstrap: str, topic: Topic) -> tuple[int, int]:
    """(view rows in every committed fact record, distinct event ids among them)."""
    rows = 0
    ids: set[str] = set()
    async for record in read_committed(bootstrap, topic.name, range(topic.partitions)):
        facts = decode(record.value, FactRows).payload
        rows += len(facts.event_ids)
        ids.update(facts.event_ids)
    return rows, len(ids)


async def drop_topics(bootstrap: str, suffix: str) -> None:
    """Delete this run's suffixed topics: the shared broker's open files are scarce."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.endswith(f".{suffix}")]
        if names:
            await admin.delete_topics(names, timeout_ms=30_000)
    finally:
        await admin.close()


async def main(args: argparse.Namespace) -> int:
    """Run the benchmark, print its report, then drop its topics (unless --keep-topics)."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    suffix = f"bench{uuid.uuid4().hex[:8]}"
    try:
        return await measure(args, bootstrap, suffix)
    finally:
        if not args.keep_topics:
            await drop_topics(bootstrap, suffix)


async def measure(args: argparse.Namespace, bootstrap: str, suffix: str) -> int:
    """The benchmark itself, on topics under ``suffix``."""
    settings = AggregatorSettings(
        group_id="bench-aggregator",
        max_records=args.max_records,
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        topics=TopicSettings(topic_suffix=suffix),
    )
    batches_t, facts_t, dedup_t, dead_t = topics_of(settings)
    single = Topic(f"bench.engagement.single.{suffix}", "consumer id", (), GATEWAY, enveloped=False)
    await ensure_topics(bootstrap, [batches_t, facts_t, dedup_t, dead_t, single])
    print(
        f"synthesising {args.events:,} events ({args.per_batch}/batch, {args.creators:,} "
        f"creators, {args.consumers:,} consumers)...",
        flush=True,
    )
    batches = synth_batches(
        args.events, args.per_batch, args.creators, args.consumers, 42, args.not_views_every
    )
    views = sum(1 for b in batches for k in b.kinds if k == VIEW)
    batched_s, single_s = await load(bootstrap, batches_t, single.name, batches)
    print(
        f"load: batched {args.events / batched_s:,.0f} events/s "
        f"({len(batches):,} records); one-per-record {args.events / single_s:,.0f} records/s"
    )

    raw_s = await raw_getmany(bootstrap, single.name, args.events)
    raw_rate = args.events / raw_s

    aggregator = await build(settings)
    stats = await aggregator.drain()
    pipe_s = stats.last_commit_at - stats.first_fetch_at
    pipe_rate = stats.events_per_second()

    rows, distinct = await committed_views(bootstrap, facts_t)
    lat = sorted(stats.commit_seconds)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(
        f"baseline raw aiokafka getmany, one event per record, counting only: "
        f"{raw_rate:,.0f} events/s ({raw_s:.2f} s)"
    )
    print(
        f"pipeline exactly-once (decode + dedup + view facts + 1 transaction/fetch): "
        f"{pipe_rate:,.0f} events/s ({pipe_s:.2f} s from first fetch to last commit, "
        f"{stats.fetches} transactions, {stats.fact_records:,} fact records, "
        f"{stats.snapshots} dedup snapshots)"
    )
    print(
        f"commit latency per transaction: p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms"
    )
    print(f"ratio pipeline / raw: {pipe_rate / raw_rate:.2f} (bar: >= 0.50)")
    print(
        f"committed view facts: {rows:,} rows, {distinct:,} distinct event ids, of {views:,} "
        f"views among {args.events:,} events; dropped: {stats.not_views:,} not views, "
        f"{stats.duplicates} duplicates"
    )
    if not rows == distinct == views or stats.not_views != args.events - views:
        print("FAIL: the committed view facts are not every view exactly once", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--per-batch", type=int, default=100)
    parser.add_argument("--creators", type=int, default=10_000)
    parser.add_argument("--consumers", type=int, default=100_000)
    parser.add_argument("--max-records", type=int, default=2000)
    parser.add_argument("--not-views-every", type=int, default=0)
    parser.add_argument("--keep-topics", action="store_true", help="leave the run's topics")
    sys.exit(asyncio.run(main(parser.parse_args())))

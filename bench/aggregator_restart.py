"""Restart time of the engagement aggregator after a week of dedup history.

Loads ``--ids`` engagement events of one ISO week into fresh topics of the real
broker and lets the production aggregator commit them (view facts, dedup
snapshot, offsets). Then measures, on the same ids:

- new design: a fresh ``python -m services.incentive.engagement`` process, from
  spawn to grpc.health SERVING (restore reads only the last snapshot generation
  and its tail, from the position in the committed offset metadata), and the
  restore alone, in-process;
- old design: the retired full replay of an uncompacted checkpoint topic (one
  ``DedupCheckpoint`` per commit, ``--ids-per-commit`` ids each, as the old loop
  wrote at that fetch size), repeated for ``--weeks`` weeks of history, since the
  old topic was never compacted nor bounded; restore alone, in-process, and the
  same process overhead added for its time to SERVING.

Usage: python -m bench.aggregator_restart [--ids 3000000] [--weeks 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import grpc
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.incentive.v1.engagement_pb2 import DedupCheckpoint, WeekEventIds
from planetkit.engagement_batches import VIEW, EngagementRow, build_batch
from planetkit.envelope import decode, encode, wrap
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.producer import make_producer
from planetkit.kafka.replay import read_committed
from planetkit.service_identities import ENGAGEMENT_AGGREGATOR, GATEWAY
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import ENGAGEMENT_DEDUP, with_suffix
from planetkit.weeks import week_start_ms
from services.incentive.engagement.adapters.snapshot_store import SnapshotStore
from services.incentive.engagement.bootstrap import build, topics_of
from services.incentive.engagement.domain.dedup import DedupMemory
from services.incentive.engagement.settings import AggregatorSettings

ROOT = Path(__file__).resolve().parents[1]
WEEK = "2026-W48"
PER_BATCH = 100


def batches(ids: int, consumers: int) -> list[EngagementBatch]:
    """``ids`` view events of one week, 100 per consumer batch."""
    t0 = week_start_ms(WEEK)
    out = []
    for b in range(0, ids, PER_BATCH):
        rows = [
            EngagementRow(f"e{b + j:09d}", "item", f"creator-{(b + j) % 5000}", t0 + b, VIEW, 3)
            for j in range(min(PER_BATCH, ids - b))
        ]
        out.append(build_batch(f"b{b}", f"user-{(b // PER_BATCH) % consumers}", rows))
    return out


async def load(bootstrap: str, topic: str, items: list[EngagementBatch]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                linger_ms=20, max_batch_size=1024 * 1024,
                                max_request_size=8 * 1024 * 1024)
    await producer.start()
    try:
        for b in items:
            env = wrap(b, event_id=b.batch_id, source=GATEWAY, aggregate_id=b.consumer_id,
                       occurred_at_ms=0)
            await producer.send(topic, encode(env), key=b.consumer_id.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def write_old_history(bootstrap: str, topic: str, items: list[EngagementBatch],
                            partitions: int, per_commit: int, weeks: int) -> int:
    """The old design's checkpoint topic for the same ids; returns records written."""
    by_partition: dict[int, list[str]] = {}
    for b in items:
        by_partition.setdefault(partition_for(b.consumer_id, partitions), []).extend(b.event_ids)
    producer = make_producer(bootstrap, writer=ENGAGEMENT_AGGREGATOR, linger_ms=20)
    await producer.start()
    written = 0
    try:
        for w in range(weeks):
            # Earlier weeks carry other ids (renamed) in their own week: a full replay reads
            # them all, then prunes what is past the horizon.
            week = WEEK if w == weeks - 1 else f"2026-W{48 - weeks + 1 + w:02d}"
            for p, ids in by_partition.items():
                for start in range(0, len(ids), per_commit):
                    chunk = ids[start : start + per_commit]
                    if w != weeks - 1:
                        chunk = [f"w{w}{i}" for i in chunk]
                    cp = DedupCheckpoint(partition=p, last_offset=start,
                                         accepted=[WeekEventIds(week=week, event_ids=chunk)])
                    env = wrap(cp, event_id=f"old:{w}:{p}:{start}", source=ENGAGEMENT_AGGREGATOR,
                               aggregate_id=f"p{p}", occurred_at_ms=0)
                    await producer.send(topic, encode(env), key=f"p{p}".encode(), partition=p)
                    written += 1
        await producer.flush()
    finally:
        await producer.stop()
    return written


async def old_restore(bootstrap: str, topic: str, partitions: int) -> tuple[float, int]:
    """The retired restore: replay every checkpoint from offset 0 (seconds, ids kept)."""
    started = time.perf_counter()
    memories = {p: DedupMemory(3) for p in range(partitions)}
    async for record in read_committed(bootstrap, topic, range(partitions)):
        cp = decode(record.value, DedupCheckpoint).payload
        for week_ids in cp.accepted:
            memories[cp.partition].remember(week_ids.week, week_ids.event_ids)
    return time.perf_counter() - started, sum(len(m) for m in memories.values())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                             timeout=1)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def time_to_serving(bootstrap: str, suffix: str) -> float:
    """Seconds from spawning the aggregator process to grpc.health SERVING."""
    port = _free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PLANET_TOPIC_SUFFIX": suffix,
           "PLANET_AGGREGATOR_HEALTH_PORT": str(port), "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "services.incentive.engagement"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not _serving(port):
            if proc.poll() is not None:
                raise RuntimeError("aggregator exited before SERVING")
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=60)


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
    suffix = f"restart{uuid.uuid4().hex[:8]}"
    try:
        return await measure(args, bootstrap, suffix)
    finally:
        if not args.keep_topics:
            await drop_topics(bootstrap, suffix)


async def measure(args: argparse.Namespace, bootstrap: str, suffix: str) -> int:
    """The benchmark itself, on topics under ``suffix``."""
    settings = AggregatorSettings(kafka=KafkaSettings(bootstrap_servers=bootstrap),
                                  topics=TopicSettings(topic_suffix=suffix))
    batches_t, _, dedup_t, _ = topics_of(settings)
    items = batches(args.ids, args.consumers)
    print(f"{args.ids:,} event ids of one week in {len(items):,} batches", flush=True)
    await ensure_topics(bootstrap, topics_of(settings))
    aggregator = await build(settings)
    await load(bootstrap, batches_t.name, items)
    stats = await aggregator.drain()
    print(f"aggregated: {stats.events:,} events, {stats.fetches} transactions, "
          f"{stats.snapshots} snapshot generations written", flush=True)

    store = SnapshotStore(bootstrap, settings.group(), batches_t.name, dedup_t.name,
                          settings.dedup_horizon_weeks)
    started = time.perf_counter()
    memories, ledgers, read = await store.restore(list(range(batches_t.partitions)))
    new_restore = time.perf_counter() - started
    new_ids = sum(len(m) for m in memories.values())
    read_ids = sum(lg.snapshot_ids + lg.tail_ids for lg in ledgers.values())
    new_serving = min(time_to_serving(bootstrap, suffix) for _ in range(args.repeat))

    old_t = with_suffix(ENGAGEMENT_DEDUP, suffix)
    await ensure_topics(bootstrap, [old_t])
    written = await write_old_history(bootstrap, old_t.name, items, old_t.partitions,
                                      args.ids_per_commit, args.weeks)
    old_s, old_ids = await old_restore(bootstrap, old_t.name, old_t.partitions)
    overhead = max(new_serving - new_restore, 0.0)

    print(f"new design (compacted snapshot, position in the offset commit): restore "
          f"{new_restore:.2f} s reading {read:,} records / {read_ids:,} ids -> {new_ids:,} ids "
          f"in memory; process spawn to SERVING {new_serving:.2f} s")
    print(f"old design (full replay of {written:,} checkpoints, {args.weeks} week(s) of "
          f"history, {args.ids_per_commit:,} ids per commit): restore {old_s:.2f} s -> "
          f"{old_ids:,} ids in memory; to SERVING ~{old_s + overhead:.2f} s "
          f"(restore + the same {overhead:.2f} s process start)")
    if new_ids != old_ids and args.weeks == 1:
        print("FAIL: the designs restored different memories", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=3_000_000)
    parser.add_argument("--consumers", type=int, default=100_000)
    parser.add_argument("--ids-per-commit", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep-topics", action="store_true", help="leave the run's topics")
    sys.exit(asyncio.run(main(parser.parse_args())))

"""How fresh is the weekly estimate under load: engagement produced straight into the telemetry
topic at a sustained rate (default 100 000 events/s), through the real aggregator and the real
scoring job, until a probe view shows in its creator's estimate on planet.incentive.estimates.v1.

    python -m bench.estimate_freshness                     # 100 000 events/s for 60 s
    python -m bench.estimate_freshness --rate 20000 --seconds 30

Every ``--probe-every`` seconds one probe view (a fresh event of a known consumer on the probe
creator's post) goes out with the load; its freshness is the time from sending it to the first
estimate record whose activity counts it. The gateway's own telemetry rate is measured apart
(bench/content_gateway.py style); here the load skips HTTP on purpose, to load the pool's path.
Prints the achieved produce rate, probe freshness p50 / max (goal: within 60 s), how many
probes were seen, and the scoring job's last estimate cost from its log.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.incentive.v1.facts_pb2 import Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import CreatorEstimate, PoolFunded
from planetkit.engagement_batches import VIEW, EngagementRow, build_batch
from planetkit.envelope import decode, encode, wrap
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.topics import ALL, with_suffix
from planetkit.weeks import iso_week_of_ms

ROOT = Path(__file__).resolve().parents[1]
PER_BATCH = 100


def _env(bootstrap: str, suffix: str, extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PLANET_TOPIC_SUFFIX": suffix,
            "PYTHONPATH": str(ROOT), **extra}


def _load(n_batches: int, now_ms: int, seed: int) -> list[tuple[bytes, bytes]]:
    """Pre-encoded telemetry records: 10 000 consumers over 1 000 creators' posts."""
    rng = random.Random(seed)
    out = []
    for b in range(n_batches):
        consumer = f"load-u{rng.randrange(10_000)}"
        rows = []
        for j in range(PER_BATCH):
            creator = rng.randrange(1_000)
            rows.append(EngagementRow(f"load-{seed}-{b}-{j}", f"post-{creator}-{j % 5}",
                                      f"load-c{creator}", now_ms - rng.randrange(60_000), VIEW,
                                      rng.randrange(1, 300)))
        batch = build_batch(f"load-{seed}-{b}", consumer, rows)
        # Keyed by consumer: the aggregator refuses a batch off its consumer's partition.
        out.append((consumer.encode(), encode(wrap(batch, event_id=batch.batch_id,
                                                   source="gateway", aggregate_id=consumer,
                                                   occurred_at_ms=now_ms))))
    return out


async def main(args: argparse.Namespace) -> None:
    """Start the aggregator and the scoring job, load them, time the probes."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    suffix = f"fresh{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [with_suffix(t, suffix) for t in ALL])
    names = {t.name: with_suffix(t, suffix).name for t in ALL}
    now = int(time.time() * 1000)
    week = iso_week_of_ms(now)
    probe_creator, probe_consumer = "probe-creator", "probe-consumer"

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks=1,
                                max_batch_size=1024 * 1024, max_request_size=8 * 1024 * 1024)
    await producer.start()
    # The probe creator and consumer are eligible; the week has a pool.
    for uid in (probe_creator, probe_consumer):
        status = UserStatus(user_id=uid, kyc_verified_at_ms=now - 86_400_000,
                            identity_open=[Period(from_ms=now - 86_400_000)])
        await producer.send_and_wait(names["planet.incentive.user-status.v1"], encode(wrap(
            status, event_id=f"st-{uid}", source="incentive", aggregate_id=uid,
            occurred_at_ms=now)), key=uid.encode())
    await producer.send_and_wait(names["planet.incentive.operations.v1"], encode(wrap(
        PoolFunded(funding_id="bench", week=week, amount_minor=10_000_000, asset="USDT",
                   at_ms=now), event_id="fund-bench", source="incentive", aggregate_id=week,
        occurred_at_ms=now)), key=week.encode())

    logs = Path(f"/tmp/{suffix}")
    logs.mkdir()
    procs = [subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, env=_env(
        bootstrap, suffix, extra), stdout=(logs / f"{name}.log").open("wb"),
        stderr=subprocess.STDOUT) for name, module, extra in (
        ("aggregator", "services.incentive.engagement",
         {"PLANET_AGGREGATOR_HEALTH_PORT": "0"}),
        ("scoring", "services.incentive.scoring",
         {"PLANET_SCORING_HEALTH_PORT": "0",
          "PLANET_SCORING_ESTIMATE_INTERVAL_S": str(args.interval)}))]
    print(f"synthesising {args.rate * args.seconds:,} events...", flush=True)
    records = _load(args.rate * args.seconds // PER_BATCH, now, 1)
    estimates = AIOKafkaConsumer(names["planet.incentive.estimates.v1"],
                                 bootstrap_servers=bootstrap, isolation_level="read_committed",
                                 auto_offset_reset="earliest")
    await estimates.start()
    sent_at: dict[int, float] = {}
    seen_at: dict[int, float] = {}

    async def watch() -> None:
        while True:
            got = await estimates.getmany(timeout_ms=200)
            for batch in got.values():
                for r in batch:
                    e = decode(r.value, CreatorEstimate).payload
                    if e.creator_id == probe_creator:
                        for n in range(1, int(e.activity.views) + 1):
                            seen_at.setdefault(n, time.monotonic())

    watcher = asyncio.create_task(watch())
    topic = names["planet.engagement.batches.v1"]
    start = time.monotonic()
    probes = 0
    per_tick = max(1, args.rate // PER_BATCH // 20)  # 20 sends a second
    i = 0
    next_probe = start + 2
    while i < len(records):
        for key, rec in records[i:i + per_tick]:
            await producer.send(topic, rec, key=key)
        i += per_tick
        if time.monotonic() >= next_probe:
            probes += 1
            row = EngagementRow(f"probe-{probes}", "probe-post", probe_creator,
                                int(time.time() * 1000) - 500, VIEW, 30)
            batch: EngagementBatch = build_batch(f"probe-{probes}", probe_consumer, [row])
            await producer.send(topic, encode(wrap(batch, event_id=batch.batch_id,
                                                   source="gateway",
                                                   aggregate_id=probe_consumer,
                                                   occurred_at_ms=now)),
                                key=probe_consumer.encode())
            sent_at[probes] = time.monotonic()
            next_probe += args.probe_every
        ahead = start + i * PER_BATCH / args.rate - time.monotonic()
        if ahead > 0:
            await asyncio.sleep(ahead)
    await producer.flush()
    produced_s = time.monotonic() - start
    deadline = time.monotonic() + args.drain
    while len(seen_at) < probes and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    watcher.cancel()
    await estimates.stop()
    await producer.stop()
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(30)
    fresh = [seen_at[n] - sent_at[n] for n in sorted(sent_at) if n in seen_at]
    print(f"produced {len(records) * PER_BATCH:,} events in {produced_s:.1f} s "
          f"({len(records) * PER_BATCH / produced_s:,.0f} events/s, target {args.rate:,})")
    if fresh:
        print(f"probe freshness: {len(fresh)}/{probes} seen; p50 {statistics.median(fresh):.1f} s,"
              f" max {max(fresh):.1f} s (goal: within 60 s); estimate interval {args.interval} s")
    else:
        print(f"probe freshness: none of {probes} probes seen within the drain")
    print(f"logs: {logs}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--probe-every", type=float, default=5.0)
    ap.add_argument("--interval", type=float, default=15.0)
    ap.add_argument("--drain", type=float, default=120.0)
    asyncio.run(main(ap.parse_args()))

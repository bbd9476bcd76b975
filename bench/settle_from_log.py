"""Settle a synthetic week from the STORED facts, as the scoring job does: read the fact and
status topics from Kafka, build the model's input, settle, build the result records.

    python -m bench.settle_from_log                  # 10 M events (bench/settle_week.py's week)
    python -m bench.settle_from_log --events 1000000

The week is bench/settle_week.py's synthetic week with its ids written as strings (consumer
``u…``, creator ``c…``, item ``i…``, event ``e…``), produced to suffixed topics as the services
write them: the views as the aggregator does (its own ``view_facts``: per view-facts partition,
the partition of each consumer, one record per fetch of ``FETCH_VIEWS`` views with a consumer
column and the event keys, split at ~1 MiB), the interactions (38 % of the week) with their
event keys (as the intake writes them) in records of one consumer each, or with ``--interactions
partition`` of many consumers per partition (the intake itself writes one record per act), a
UserStatus for every consumer and creator and an ItemStatus for each removed item.
Then, timed: load_week (read + fold + build), settle (the model), creator_results +
week_settled (records), and the settling process's peak resident memory (the week is
generated and written by a child process: not in that peak). Writing the week to Kafka is
not timed. The goal (issue 14): under 60 s and 4 GiB end to end for 10 M events on the 2-core
machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.settle_week import synthetic_week
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import PoolFunded
from planetkit.envelope import encode, wrap
from planetkit.fact_rows import event_keys
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import ENGAGEMENT_AGGREGATOR, INCENTIVE
from planetkit.topics import INTERACTION_FACTS, VIEW_FACTS, with_suffix
from services.incentive.domain.facts import EngagementColumns, IsoWeek, WeekFacts
from services.incentive.domain.settlement import settle
from services.incentive.engagement.domain.records import view_facts
from services.incentive.engagement.domain.views import ViewColumns
from services.incentive.scoring.fact_log import REGISTERED, PoolTopics, load_week
from services.incentive.scoring.pool_book import PoolBook
from services.incentive.scoring.results import creator_results, week_settled

ROWS_PER_RECORD = 5_000
# Views per aggregator fetch and partition (a fetch of 2 000 batches of ~10 views over the
# partitions it owns): the records it writes are then ~1 MiB, its split size.
FETCH_VIEWS = 20_000


def _sorted_columns(ev: EngagementColumns, pick: np.ndarray,
                    first: np.ndarray) -> dict[str, np.ndarray]:
    """The rows ``pick`` of every column, ordered by ``first`` then consumer, event id."""
    order = pick[np.lexsort((ev.event_id[pick], ev.consumer_id[pick], first))]
    return {name: getattr(ev, name)[order] for name in (
        "event_id", "consumer_id", "creator_id", "item_id", "occurred_at_ms", "kind",
        "dwell_seconds", "text_length")}


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of equal values."""
    bounds = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return list(zip(bounds.tolist(), [*bounds[1:].tolist(), len(values)], strict=True))


async def _produce_views(producer: AIOKafkaProducer, topic: str, ev: EngagementColumns) -> int:
    """The views as the aggregator writes them: per partition of the consumer (the input's),
    one fetch of FETCH_VIEWS views after another, through its own record builder."""
    pick = np.flatnonzero(ev.kind == 0)
    partitions = VIEW_FACTS.partitions
    consumers = np.unique(ev.consumer_id[pick])
    part_of = dict(zip(consumers.tolist(), [partition_for(f"u{c}", partitions)
                                             for c in consumers.tolist()], strict=True))
    partition = np.fromiter(map(part_of.__getitem__, ev.consumer_id[pick].tolist()),
                            dtype=np.int64, count=len(pick))
    cols = _sorted_columns(ev, pick, partition)
    partition = np.sort(partition)
    sent = 0
    for p_lo, p_hi in _runs(partition):
        p = int(partition[p_lo])
        fetch: dict[str, ViewColumns] = {}
        rows = fetches = 0
        for lo, hi in _runs(cols["consumer_id"][p_lo:p_hi]):
            lo, hi = lo + p_lo, hi + p_lo
            vc = fetch[f"u{int(cols['consumer_id'][lo])}"] = ViewColumns()
            vc.event_ids = [f"e{x}" for x in cols["event_id"][lo:hi].tolist()]
            vc.item_ids = [f"i{x}" for x in cols["item_id"][lo:hi].tolist()]
            vc.creator_ids = [f"c{x}" for x in cols["creator_id"][lo:hi].tolist()]
            vc.occurred_at_ms = cols["occurred_at_ms"][lo:hi].tolist()
            vc.dwell_seconds = cols["dwell_seconds"][lo:hi].tolist()
            rows += hi - lo
            if rows >= FETCH_VIEWS or hi == p_hi:
                for facts in view_facts(f"bench:p{p}@{fetches}", p, fetch):
                    env = wrap(facts, event_id=facts.rows_id, source=ENGAGEMENT_AGGREGATOR,
                               aggregate_id=f"p{p}", occurred_at_ms=0)
                    await producer.send(topic, encode(env), key=f"p{p}".encode(), partition=p)
                    sent += 1
                fetch, rows, fetches = {}, 0, fetches + 1
    return sent


async def _produce_interactions(producer: AIOKafkaProducer, topic: str,
                                ev: EngagementColumns, layout: str) -> int:
    """The interactions with their event keys (as the intake writes them): ``consumer``, in
    records of one consumer (up to ROWS_PER_RECORD rows) keyed by consumer; ``partition``, in
    records of ROWS_PER_RECORD rows of many consumers (a consumer column) per partition of the
    consumer, as an intake writing a transaction's acts together would."""
    pick = np.flatnonzero(ev.kind != 0)
    partitions = INTERACTION_FACTS.partitions
    if layout == "partition":
        part_of = {c: partition_for(f"u{c}", partitions)
                   for c in np.unique(ev.consumer_id[pick]).tolist()}
        first = np.fromiter(map(part_of.__getitem__, ev.consumer_id[pick].tolist()),
                            dtype=np.int64, count=len(pick))
    else:
        first = np.zeros(len(pick), dtype=np.int64)
    cols = _sorted_columns(ev, pick, first)
    first = np.sort(first)
    runs = _runs(first) if layout == "partition" else _runs(cols["consumer_id"])
    sent = 0
    for a, b in runs:
        for lo in range(a, b, ROWS_PER_RECORD):
            hi = min(b, lo + ROWS_PER_RECORD)
            rows = FactRows(
                rows_id=f"bench:{topic}:{lo}",
                event_ids=[f"e{x}" for x in cols["event_id"][lo:hi].tolist()],
                item_ids=[f"i{x}" for x in cols["item_id"][lo:hi].tolist()],
                creator_ids=[f"c{x}" for x in cols["creator_id"][lo:hi].tolist()],
                occurred_at_ms=cols["occurred_at_ms"][lo:hi].tolist(),
                kinds=cols["kind"][lo:hi].tolist(),
                dwell_seconds=cols["dwell_seconds"][lo:hi].tolist(),
                text_lengths=cols["text_length"][lo:hi].tolist())
            # With event keys and check digests, as the intake writes them.
            keys, checks = event_keys(rows.event_ids)
            rows.event_keys[:], rows.event_checks[:] = keys, checks
            if layout == "partition":
                p = int(first[lo])
                rows.consumer_ids[:] = [f"u{x}" for x in cols["consumer_id"][lo:hi].tolist()]
                key, where = f"p{p}", p
            else:
                key = rows.consumer_id = f"u{int(cols['consumer_id'][lo])}"
                where = None
            env = wrap(rows, event_id=rows.rows_id, source=INCENTIVE, aggregate_id=key,
                       occurred_at_ms=0)
            await producer.send(topic, encode(env), key=key.encode(), partition=where)
            sent += 1
    return sent


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status(message: UserStatus | ItemStatus, key: str) -> bytes:
    return encode(wrap(message, event_id=f"status:{key}", source=INCENTIVE, aggregate_id=key,
                       occurred_at_ms=0))


async def _produce(bootstrap: str, topics: PoolTopics, facts: WeekFacts,
                   interactions: str) -> int:
    """Write the week as stored facts and statuses; the number of records."""
    ev = facts.events
    views = make_producer(bootstrap, writer=ENGAGEMENT_AGGREGATOR, linger_ms=20)
    other = make_producer(bootstrap, writer=INCENTIVE, linger_ms=20)
    await views.start()
    await other.start()
    sent = 0
    try:
        sent += await _produce_views(views, topics.view_facts, ev)
        sent += await _produce_interactions(other, topics.interaction_facts, ev, interactions)
        start = facts.week.start_ms
        for c in facts.consumers:
            s = UserStatus(user_id=f"u{c.consumer_id}",
                           kyc_verified_at_ms=start - 1 if c.kyc_verified else 0)
            if c.sanctioned:
                s.sanctioned.append(Period(from_ms=start - 1))
            if c.trailing_fees_minor > 0:
                s.fees.add(day=start // 86_400_000 - 1, quote_minor=c.trailing_fees_minor,
                           quote_asset="USDT")
            await other.send(topics.user_status, _status(s, s.user_id), key=s.user_id.encode())
            sent += 1
        for cr in facts.creators:
            s = UserStatus(user_id=f"c{cr.creator_id}",
                           kyc_verified_at_ms=start - 1 if cr.kyc_verified else 0)
            if cr.identity_open:
                s.identity_open.append(Period(from_ms=start - 1))
            if cr.sanctioned:
                s.sanctioned.append(Period(from_ms=start - 1))
            await other.send(topics.user_status, _status(s, s.user_id), key=s.user_id.encode())
            sent += 1
        for it in facts.items:
            i = ItemStatus(item_id=f"i{it.item_id}", creator_id=f"c{it.creator_id}")
            if it.removed_at_ms is not None:
                i.removed.append(Period(from_ms=it.removed_at_ms))
            await other.send(topics.item_status, _status(i, i.item_id), key=i.item_id.encode())
            sent += 1
        await views.flush()
        await other.flush()
    finally:
        await views.stop()
        await other.stop()
    return sent


async def write(args: argparse.Namespace) -> None:
    """Generate the week and write it under ``args.suffix``; print its pool and consumers."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    await ensure_topics(bootstrap, [with_suffix(t, args.suffix) for t in REGISTERED])
    scale = args.events / 10_000_000
    week = synthetic_week(args.events, max(1, int(1_000_000 * scale)),
                          max(1, int(100_000 * scale)), max(1, int(1_000_000 * scale)))
    t = time.perf_counter()
    sent = await _produce(bootstrap, PoolTopics.named(args.suffix), week, args.interactions)
    print(f"wrote {len(week.events):,} events as {sent:,} records in "
          f"{time.perf_counter() - t:.1f} s (not timed below)", flush=True)
    print(json.dumps({"pool": week.pool_minor, "consumers": len(week.consumers)}))


async def drop_topics(bootstrap: str, topics: PoolTopics) -> None:
    """Delete this run's topics (a 10 M-event week is ~1 GB on the shared broker)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = [t for t in (*topics.cut_topics, topics.operations, topics.weeks,
                             topics.creator_weeks) if t in existing]
        if names:
            await admin.delete_topics(names, timeout_ms=30_000)
    finally:
        await admin.close()


async def main(args: argparse.Namespace) -> None:
    """Write the week (in a child process, so the peak below is the settlement's alone),
    then time the settlement's stages; drop the topics unless --keep-topics."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    suffix = args.suffix or f"bench{uuid.uuid4().hex[:8]}"
    topics = PoolTopics.named(suffix)
    try:
        await settle_written(args, bootstrap, suffix, topics)
    finally:
        if not args.keep_topics:
            await drop_topics(bootstrap, topics)


async def settle_written(args: argparse.Namespace, bootstrap: str, suffix: str,
                         topics: PoolTopics) -> None:
    """Write the week in a child process, then settle it here, stage by stage."""
    child = subprocess.run(
        [sys.executable, "-m", "bench.settle_from_log", "--write-only", "--events",
         str(args.events), "--suffix", suffix, "--interactions", args.interactions],
        cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, text=True, check=True)
    *lines, summary_line = child.stdout.strip().splitlines()
    print("\n".join(lines), flush=True)
    written = json.loads(summary_line)
    pool, consumers = written["pool"], written["consumers"]
    book = PoolBook("USDT")
    iso = IsoWeek.parse("2026-W10")
    book.apply(PoolFunded(funding_id="bench", week=str(iso), amount_minor=pool, asset="USDT"))
    t0 = time.perf_counter()
    last = [t0]

    def stage(name: str) -> None:
        now = time.perf_counter()
        print(f"  {name:<40} {now - last[0]:6.1f} s  peak {_peak_mib():,.0f} MiB", flush=True)
        last[0] = now

    built = await load_week(bootstrap, topics, iso, {}, book, "USDT",
                            status_at_ms=iso.end_ms, stage=stage)
    t1 = time.perf_counter()
    print(f"load_week   {t1 - t0:6.1f} s  ({built.rows:,} rows, {consumers:,} consumers) "
          f"peak {_peak_mib():,.0f} MiB", flush=True)
    result = settle(built.facts, book.policy_for(str(iso)))
    t2 = time.perf_counter()
    print(f"settle      {t2 - t1:6.1f} s  peak {_peak_mib():,.0f} MiB", flush=True)
    records = creator_results(result, built, "USDT")
    summary = week_settled(result, "USDT", settled_at_ms=0, facts_counted=built.rows,
                           facts_late=0)
    t3 = time.perf_counter()
    print(f"records     {t3 - t2:6.1f} s  ({len(records):,} creators)  "
          f"peak {_peak_mib():,.0f} MiB", flush=True)
    print(f"end to end  {t3 - t0:6.1f} s  (goal < 60 s, < 4 GiB); root {summary.merkle_root}; "
          f"result sha256 {summary.result_sha256}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--interactions", choices=("consumer", "partition"), default="consumer",
                    help="interaction records of one consumer each (default), or of many "
                         "consumers per partition")
    ap.add_argument("--keep-topics", action="store_true", help="leave the week's topics")
    ap.add_argument("--suffix", default="", help="topic suffix (default: a fresh one)")
    ap.add_argument("--write-only", action="store_true",
                    help="only generate and write the week (the bench's child process)")
    parsed = ap.parse_args()
    asyncio.run(write(parsed) if parsed.write_only else main(parsed))

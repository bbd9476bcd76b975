"""Settle a synthetic week from the STORED facts, as the scoring job does: read the fact and
status topics from Kafka, build the model's input, settle, build the result records.

    python -m bench.settle_from_log                  # 10 M events (bench/settle_week.py's week)
    python -m bench.settle_from_log --events 1000000

The week is bench/settle_week.py's synthetic week with its ids written as strings (consumer
``u…``, creator ``c…``, item ``i…``, event ``e…``), produced to suffixed view-facts (views) and
interaction-facts (the rest) topics in records of one consumer each, with a UserStatus for
every consumer and creator and an ItemStatus for each removed item. Then, timed: load_week
(read + fold + build), settle (the model), creator_results + week_settled (records), and the
process's peak resident memory. Writing the week to Kafka is not timed. The goal (issue 14):
under 60 s and 4 GiB end to end for 10 M events on the 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.settle_week import synthetic_week
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import PoolFunded
from planetkit.envelope import encode, wrap
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import ENGAGEMENT_AGGREGATOR, INCENTIVE
from planetkit.topics import with_suffix
from services.incentive.domain.facts import IsoWeek, WeekFacts
from services.incentive.domain.settlement import settle
from services.incentive.scoring.fact_log import REGISTERED, PoolTopics, load_week
from services.incentive.scoring.pool_book import PoolBook
from services.incentive.scoring.results import creator_results, week_settled

ROWS_PER_RECORD = 5_000


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status(message: UserStatus | ItemStatus, key: str) -> bytes:
    return encode(wrap(message, event_id=f"status:{key}", source=INCENTIVE, aggregate_id=key,
                       occurred_at_ms=0))


async def _produce(bootstrap: str, topics: PoolTopics, facts: WeekFacts) -> int:
    """Write the week as stored facts and statuses; the number of records."""
    ev = facts.events
    order = np.lexsort((ev.event_id, ev.consumer_id))
    cols = {name: getattr(ev, name)[order] for name in (
        "event_id", "consumer_id", "creator_id", "item_id", "occurred_at_ms", "kind",
        "dwell_seconds", "text_length")}
    bounds = np.flatnonzero(np.concatenate(([True], cols["consumer_id"][1:]
                                            != cols["consumer_id"][:-1])))
    bounds = np.append(bounds, len(order))
    views = make_producer(bootstrap, writer=ENGAGEMENT_AGGREGATOR, linger_ms=20)
    other = make_producer(bootstrap, writer=INCENTIVE, linger_ms=20)
    await views.start()
    await other.start()
    sent = 0
    try:
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            for lo in range(a, b, ROWS_PER_RECORD):
                hi = min(b, lo + ROWS_PER_RECORD)
                kind = cols["kind"][lo:hi]
                for is_view, producer, topic in ((True, views, topics.view_facts),
                                                 (False, other, topics.interaction_facts)):
                    pick = np.flatnonzero((kind == 0) == is_view) + lo
                    if not len(pick):
                        continue
                    consumer = f"u{int(cols['consumer_id'][lo])}"
                    rows = FactRows(
                        rows_id=f"bench:{topic}:{lo}", consumer_id=consumer,
                        event_ids=[f"e{x}" for x in cols["event_id"][pick].tolist()],
                        item_ids=[f"i{x}" for x in cols["item_id"][pick].tolist()],
                        creator_ids=[f"c{x}" for x in cols["creator_id"][pick].tolist()],
                        occurred_at_ms=cols["occurred_at_ms"][pick].tolist(),
                        kinds=cols["kind"][pick].tolist(),
                        dwell_seconds=cols["dwell_seconds"][pick].tolist(),
                        text_lengths=cols["text_length"][pick].tolist())
                    env = wrap(rows, event_id=rows.rows_id, source=ENGAGEMENT_AGGREGATOR
                               if is_view else INCENTIVE, aggregate_id=consumer, occurred_at_ms=0)
                    await producer.send(topic, encode(env), key=consumer.encode())
                    sent += 1
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


async def main(args: argparse.Namespace) -> None:
    """Write the week, then time the settlement's stages."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    suffix = f"bench{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [with_suffix(t, suffix) for t in REGISTERED])
    topics = PoolTopics.named(suffix)
    scale = args.events / 10_000_000
    week = synthetic_week(args.events, max(1, int(1_000_000 * scale)),
                          max(1, int(100_000 * scale)), max(1, int(1_000_000 * scale)))
    t = time.perf_counter()
    sent = await _produce(bootstrap, topics, week)
    print(f"wrote {len(week.events):,} events as {sent:,} records in "
          f"{time.perf_counter() - t:.1f} s (not timed below)", flush=True)
    pool, consumers = week.pool_minor, len(week.consumers)
    del week
    book = PoolBook("USDT")
    iso = IsoWeek.parse("2026-W10")
    book.apply(PoolFunded(funding_id="bench", week=str(iso), amount_minor=pool, asset="USDT"))
    t0 = time.perf_counter()
    built = await load_week(bootstrap, topics, iso, {}, book, "USDT",
                            status_at_ms=iso.end_ms)
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
    asyncio.run(main(ap.parse_args()))

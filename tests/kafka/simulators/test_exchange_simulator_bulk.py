"""The simulator's bulk fills (the benchmark's input): every one a checked fill the track
record counts, published without a round trip per record, in order per trader."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer

from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import EXCHANGE
from planetkit.upcasters import decode_fill
from services.social.domain.track_record import Fill, TrackState, apply, fill_of, new_state
from simulators.exchange.facts import ExchangeTopics, publish_fills, random_fills

pytestmark = pytest.mark.kafka


async def test_bulk_random_fills_are_checked_ordered_and_all_counted(
        kafka_bootstrap: str, topic_suffix: str) -> None:
    topics = ExchangeTopics.with_suffix(topic_suffix)
    await ensure_topics(kafka_bootstrap, topics.all())
    facts = list(random_fills(20, 3_000, seed=5, start_ms=1_750_000_000_000))
    assert facts == list(random_fills(20, 3_000, seed=5, start_ms=1_750_000_000_000))
    producer = make_producer(kafka_bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        assert await publish_fills(producer, topics, facts, in_flight=500) == 3_000
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topics.fills.name, bootstrap_servers=kafka_bootstrap,
                                group_id=f"bulk-{topic_suffix}", auto_offset_reset="earliest")
    await consumer.start()
    read: list[Fill] = []
    try:
        deadline = time.monotonic() + 30
        while len(read) < 3_000 and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                read.extend(fill_of(decode_fill(r.value).payload) for r in records)
    finally:
        await consumer.stop()
    assert sorted(f.fill_id for f in read) == sorted(f.fill_id for f in facts)
    states: dict[str, TrackState] = {}
    for fill in read:  # per trader, the partition's order is the exchange's order
        state = states.setdefault(fill.user_id, new_state(fill.user_id))
        apply(state, fill)
    books = [b for s in states.values() for b in s.books.values()]
    assert sum(b.fills for b in books) == 3_000  # none duplicate, late or excluded
    assert all(not b.excluded and b.unmatched_sells == 0 for b in books)
    assert set(Counter(f.fee.asset for f in read if f.fee)) >= {"USDT", "BGB"}

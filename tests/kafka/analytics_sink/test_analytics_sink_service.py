"""The analytics sink end to end: real broker, real embedded engine, real gRPC, real process."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from analytics_sink_process import SinkProcess, poll

from planet.content.v1.events_pb2 import PostPublished
from planet.events.v1.envelope_pb2 import DeadLetter, Envelope
from planet.exchange.v1.events_pb2 import TradeFeeCharged
from planetkit.engagement_batches import INTERACTION_KINDS, VIEW, EngagementRow, build_batch
from planetkit.envelope import wrap
from planetkit.kafka.producer import make_producer, publish
from planetkit.topics import DLQ_ANALYTICS, ENGAGEMENT_BATCHES, POSTS, TRADE_FEES, with_suffix
from services.analytics.domain.pseudonyms import Pseudonymizer

pytestmark = pytest.mark.kafka

FEE_TYPE = "planet.exchange.v1.TradeFeeCharged"
POST_TYPE = "planet.content.v1.PostPublished"
ENGAGEMENT_TYPE = "planet.engagement.v1.EngagementEvent"
# Above 2**53: a float anywhere on the way would change the sum.
BIG_FEE = 9_007_199_254_740_993
JUNK = b"\xff\x00 definitely not an envelope"


def _rows(sink: SinkProcess, sql: str, roles: tuple[str, ...] = ("analyst",)
          ) -> list[list[object]]:
    rows: list[list[object]] = json.loads(sink.query(sql, roles).rows_json)
    return rows


async def _produce(bootstrap: str, suffix: str) -> None:
    """A post, two fees, a batch of three engagement events, and one junk record."""
    now = time.time_ns() // 1_000_000
    # One producer per writer, as each service writes only its own topics.
    producers = {w: make_producer(bootstrap, writer=w, linger_ms=0)
                 for w in (POSTS.writer, TRADE_FEES.writer, ENGAGEMENT_BATCHES.writer)}
    for producer in producers.values():
        await producer.start()
    try:
        post = PostPublished(post_id="post-1", creator_id="creator-a", body="gm",
                             published_at_ms=now)
        await publish(producers[POSTS.writer], with_suffix(POSTS, suffix), wrap(
            post, event_id="post-1-v1", source="content", aggregate_id="post-1",
            occurred_at_ms=now, aggregate_version=1))
        fees = with_suffix(TRADE_FEES, suffix)
        for fee_id, amount in (("fee-1", BIG_FEE), ("fee-2", 7)):
            fee = TradeFeeCharged(fee_id=fee_id, user_id="user-1", amount_minor=amount,
                                  currency="USDT", charged_at_ms=now)
            await publish(producers[fees.writer], fees, wrap(
                fee, event_id=fee_id, source="exchange", aggregate_id="user-1", occurred_at_ms=now))
        batch = build_batch("batch-1", "consumer-1", [
            EngagementRow("view-1", "post-1", "creator-a", now - 3, VIEW, dwell_seconds=40),
            EngagementRow("view-2", "post-2", "creator-b", now - 2, VIEW, dwell_seconds=15),
            EngagementRow("like-1", "post-1", "creator-a", now - 1, INTERACTION_KINDS["like"]),
        ])
        batches = with_suffix(ENGAGEMENT_BATCHES, suffix)
        await publish(producers[batches.writer], batches, wrap(
            batch, event_id="batch-1", source="gateway", aggregate_id="consumer-1",
            occurred_at_ms=now))
        posts = with_suffix(POSTS, suffix)
        await producers[posts.writer].send_and_wait(posts.name, JUNK, key=b"junk")
    finally:
        for producer in producers.values():
            await producer.stop()


async def _dead_letters(bootstrap: str, suffix: str, want: int) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(
        with_suffix(DLQ_ANALYTICS, suffix).name, bootstrap_servers=bootstrap,
        group_id=None, auto_offset_reset="earliest",
        isolation_level="read_committed")
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        deadline = time.monotonic() + 30
        while len(letters) < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                letters.extend(DeadLetter.FromString(r.value or b"") for r in records)
        return letters
    finally:
        await consumer.stop()


def _counts(sink: SinkProcess, table: str) -> dict[str, int] | None:
    rows = _rows(sink, f"SELECT event_type, count() FROM {table} GROUP BY event_type")
    counts = {str(t): int(str(n)) for t, n in rows}
    return counts if sum(counts.values()) >= 6 else None


EXPECTED = {POST_TYPE: 1, FEE_TYPE: 2, ENGAGEMENT_TYPE: 3}


async def test_every_event_lands_once_and_junk_is_dead_lettered(
    sink: SinkProcess, kafka_bootstrap: str, topic_suffix: str, tmp_path: Path
) -> None:
    await _produce(kafka_bootstrap, topic_suffix)

    counts = await asyncio.to_thread(
        poll, lambda: _counts(sink, "planet.events_raw_dedup"), 60, "six events in the store")
    assert counts == EXPECTED

    # Analysts group and count by pseudonyms; operators see the same rows in clear.
    pseudonym = Pseudonymizer(sink.pseudonym_key.encode())
    by_creator = """
        SELECT JSONExtractString(payload_json, 'creator_id') AS creator,
               sum(JSONExtractUInt(payload_json, 'dwell_seconds')) AS dwell,
               countIf(JSONExtractString(payload_json, 'kind') = 'like') AS likes
        FROM {db}.events_raw_dedup WHERE event_type = 'planet.engagement.v1.EngagementEvent'
        GROUP BY creator ORDER BY creator"""
    dwell = _rows(sink, by_creator.format(db="planet"))
    assert sorted(dwell) == sorted([[pseudonym("creator-a"), 40, 1],
                                    [pseudonym("creator-b"), 15, 0]])
    operator_dwell = _rows(sink, by_creator.format(db="planet_ops"), ("operator",))
    assert operator_dwell == [["creator-a", 40, 1], ["creator-b", 15, 0]]
    events = _rows(sink, f"""
        SELECT event_id, aggregate_id FROM planet.events_raw FINAL
        WHERE event_type = '{ENGAGEMENT_TYPE}'""")
    assert sorted(events) == sorted([pseudonym(e), pseudonym("consumer-1")]
                                    for e in ("like-1", "view-1", "view-2"))
    events = _rows(sink, f"""
        SELECT event_id, aggregate_id FROM planet_ops.events_raw FINAL
        WHERE event_type = '{ENGAGEMENT_TYPE}' ORDER BY event_id""", ("operator",))
    assert events == [["like-1", "consumer-1"], ["view-1", "consumer-1"],
                      ["view-2", "consumer-1"]]

    [[total]] = _rows(sink, f"""
        SELECT sum(JSONExtractInt(payload_json, 'amount_minor'))
        FROM planet.events_raw_dedup WHERE event_type = '{FEE_TYPE}'""")
    assert total == BIG_FEE + 7

    for statement in ("DROP TABLE planet.events_raw",
                      "INSERT INTO planet.events_raw (event_id) VALUES ('x')"):
        with pytest.raises(grpc.RpcError) as refused:
            sink.query(statement)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details()

    [letter] = await _dead_letters(kafka_bootstrap, topic_suffix, want=1)
    assert letter.source_topic == with_suffix(POSTS, topic_suffix).name
    assert letter.value == JUNK
    assert letter.consumer == "analytics-sink"
    assert "not a protobuf Envelope" in letter.reason

    # A crash before the offset commit redelivers everything: simulate the worst case by
    # killing the sink and restarting it under a fresh group that re-reads every topic.
    sink.kill9()
    restarted_at = time.time()
    sink.group_id = f"analytics-{topic_suffix}-again"
    sink.start()

    def reingested() -> bool | None:
        [[fresh]] = _rows(sink, f"""
            SELECT count() FROM planet.events_raw_dedup
            WHERE ingested_at >= toDateTime64({restarted_at}, 3, 'UTC')""")
        return True if fresh == 6 else None

    await asyncio.to_thread(poll, reingested, 60, "the restarted sink to re-insert all six")
    assert _counts(sink, "planet.events_raw_dedup") == EXPECTED
    assert _counts(sink, "planet.events_raw FINAL") == EXPECTED
    assert _rows(sink, """
        SELECT event_id, count() FROM planet.events_raw FINAL
        GROUP BY event_id HAVING count() > 1""") == []
    # The junk was dead-lettered again on re-read, never stored.
    letters = await _dead_letters(kafka_bootstrap, topic_suffix, want=2)
    assert [lt.value for lt in letters] == [JUNK, JUNK]


async def test_records_of_an_aborted_transaction_are_not_stored(
    sink: SinkProcess, kafka_bootstrap: str, topic_suffix: str
) -> None:
    fees = with_suffix(TRADE_FEES, topic_suffix).name
    now = time.time_ns() // 1_000_000

    def fee(fee_id: str) -> bytes:
        env: Envelope = wrap(TradeFeeCharged(fee_id=fee_id, amount_minor=1), event_id=fee_id,
                             source="exchange", aggregate_id="u", occurred_at_ms=now)
        return env.SerializeToString()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap,
                                transactional_id=f"fees-{topic_suffix}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(fees, fee("kept"), key=b"u")
        await producer.begin_transaction()
        await producer.send_and_wait(fees, fee("aborted"), key=b"u")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send_and_wait(fees, fee("after"), key=b"u")
    finally:
        await producer.stop()

    def stored() -> list[list[object]] | None:
        rows = _rows(sink, "SELECT event_id FROM planet_ops.events_raw_dedup ORDER BY event_id",
                     ("operator",))
        return rows if len(rows) >= 2 else None

    assert await asyncio.to_thread(poll, stored, 60, "the committed fees") == [["after"],
                                                                                ["kept"]]
    pseudonym = Pseudonymizer(sink.pseudonym_key.encode())
    assert sorted(_rows(sink, "SELECT event_id FROM planet.events_raw_dedup")) == sorted(
        [[pseudonym("after")], [pseudonym("kept")]])

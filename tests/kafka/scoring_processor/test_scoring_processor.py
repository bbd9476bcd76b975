"""The scoring processor against the real broker, black-box through its gRPC API."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from google.protobuf.message import Message
from scoring_harness import ProcessorProcess, poll_until

from planet.content.v1.events_pb2 import PostPublished
from planet.events.v1.envelope_pb2 import DeadLetter
from planet.exchange.v1.events_pb2 import KycVerified, TradeFeeCharged
from planet.exchange.v2 import events_pb2 as v2
from planet.incentive.v1.incentive_service_pb2 import GetWeeklyEstimateRequest, WeeklyEstimate
from planet.incentive.v1.incentive_service_pb2_grpc import IncentiveServiceStub
from planetkit import topics as registry
from planetkit.engagement_deltas import encode_deltas
from planetkit.envelope import encode, wrap
from planetkit.kafka.partitioning import partition_for
from planetkit.topics import with_suffix
from planetkit.weeks import iso_week_of_ms

pytestmark = pytest.mark.kafka


class Events:
    """Produces enveloped events onto one test's topics."""

    def __init__(self, producer: AIOKafkaProducer, suffix: str) -> None:
        self.producer = producer
        self.suffix = suffix
        self.now = int(time.time() * 1000)
        self.week = iso_week_of_ms(self.now)

    def topic(self, t: registry.Topic) -> str:
        return with_suffix(t, self.suffix).name

    async def send(
        self,
        t: registry.Topic,
        payload: Message,
        event_id: str,
        key: str,
        partition: int | None = None,
    ) -> None:
        env = wrap(
            payload, event_id=event_id, source=t.writer, aggregate_id=key, occurred_at_ms=self.now
        )
        await self.producer.send_and_wait(
            self.topic(t), encode(env), key=key.encode(), partition=partition
        )

    async def post(self, creator: str, post_id: str, event_id: str | None = None) -> None:
        msg = PostPublished(post_id=post_id, creator_id=creator, published_at_ms=self.now)
        await self.send(registry.POSTS, msg, event_id or f"ev-{post_id}", post_id)

    async def fee(self, user: str, fee_id: str, amount: int, event_id: str | None = None, *,
                  asset: str = "USDT", quote_value: int | None = None) -> None:
        """A v2 fee: ``amount`` of ``asset``, worth ``quote_value`` USDT (the amount if USDT)."""
        value = amount if quote_value is None else quote_value
        msg = v2.TradeFeeCharged(
            fee_id=fee_id, user_id=user, fee=v2.Money(amount_minor=amount, asset=asset),
            quote_value=v2.Money(amount_minor=value, asset="USDT"), charged_at_ms=self.now,
        )
        await self.send(registry.TRADE_FEES, msg, event_id or f"ev-{fee_id}", user)

    async def fee_v1(self, user: str, fee_id: str, amount: int, currency: str) -> None:
        """A fee as the exchange published it before schema 2 (history on the same topic)."""
        msg = TradeFeeCharged(fee_id=fee_id, user_id=user, amount_minor=amount,
                              currency=currency, charged_at_ms=self.now)
        await self.send(registry.TRADE_FEES, msg, f"ev1-{fee_id}", user)

    async def kyc(self, user: str) -> None:
        await self.send(
            registry.KYC, KycVerified(user_id=user, verified_at_ms=self.now), f"kyc-{user}", user
        )

    async def deltas(self, creator: str, rows: dict[str, list[int]], event_id: str) -> None:
        """One engagement-deltas record, on the partition that owns ``creator``."""
        msg = encode_deltas(event_id, [((creator, self.week, u), v) for u, v in rows.items()])
        p = partition_for(creator, registry.ENGAGEMENT_DELTAS.partitions)
        await self.send(registry.ENGAGEMENT_DELTAS, msg, event_id, f"p{p}", partition=p)

    async def garbage(self, t: registry.Topic) -> None:
        await self.producer.send_and_wait(self.topic(t), b"\xff\xfenot an envelope", key=b"junk")


@pytest.fixture
async def events(kafka_bootstrap: str, topic_suffix: str) -> AsyncIterator[Events]:
    # The test stands in for every writer of the processor's inputs (content, exchange,
    # aggregator), so it uses a producer bound to none of them.
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True,
                                acks="all", linger_ms=0)
    await producer.start()
    yield Events(producer, topic_suffix)
    await producer.stop()


async def estimate(p: ProcessorProcess, creator: str, week: str) -> WeeklyEstimate | None:
    async with grpc.aio.insecure_channel(p.address, interceptors=[p.signing()]) as channel:
        stub = IncentiveServiceStub(channel)  # type: ignore[misc]
        try:
            return await stub.GetWeeklyEstimate(  # type: ignore[no-any-return]
                GetWeeklyEstimateRequest(creator_id=creator, week=week), timeout=2
            )
        except grpc.aio.AioRpcError:
            return None  # not serving (yet, or any more)


def summary(e: WeeklyEstimate | None) -> tuple[int, ...] | None:
    if e is None:
        return None
    return (e.posts, e.views, e.dwell_seconds, e.interactions, e.engaged_consumers, e.score_milli)


async def wait_for(
    p: ProcessorProcess, creator: str, week: str, want: tuple[int, ...], s: float = 60
) -> None:
    async def fetch() -> tuple[int, ...] | None:
        return summary(await estimate(p, creator, week))

    await poll_until(fetch, lambda got: got == want, s, f"estimate never became {want}")


async def test_estimate_counts_posts_engagement_and_fee_weight_once_and_survives_bad_records(
    processor: ProcessorProcess, events: Events, kafka_bootstrap: str
) -> None:
    await processor.wait_serving()
    creator, u1, u2 = f"cr-{events.suffix}", f"u1-{events.suffix}", f"u2-{events.suffix}"
    await events.kyc(u1)
    await events.fee_v1(u1, "f1", 50_000, "USDT")  # v1 history: USDT is its own quote value
    await events.fee(u1, "f1", 50_000)  # the same fee again, in v2: counts once
    await events.fee(u1, "f3", 2_500, asset="BTC", quote_value=10_000)  # counts 10_000 USDT
    await events.fee_v1(u1, "f4", 7, "BTC")  # v1 in BTC: no USDT value, dead-lettered
    await events.fee(u2, "f2", 20_000)  # u2 is not KYC-verified: no fee bonus
    await events.post(creator, "p1")
    await events.post(creator, "p1")  # duplicate event id
    await events.post(creator, "p2")
    await events.deltas(creator, {u1: [3, 100, 2], u2: [1, 50, 0]}, "rec-1")
    await events.deltas(creator, {u1: [3, 100, 2], u2: [1, 50, 0]}, "rec-1")  # duplicate record
    await events.garbage(registry.POSTS)
    await events.garbage(registry.ENGAGEMENT_DELTAS)
    await events.post(creator, "p3")  # after the bad records: still counted
    await events.deltas(creator, {u2: [0, 10, 0]}, "rec-2")

    # units u1 = 100 + 30*2 at weight 1000 + (50_000 + 10_000)//100; u2 = 60 at weight 1000.
    await wait_for(processor, creator, events.week, (3, 4, 160, 2, 2, 160 * 1600 + 60 * 1000))

    letters = await read_dead_letters(kafka_bootstrap, events.topic(registry.DLQ_SCORING), 3)
    by_topic = {d.source_topic: d for d in letters}
    assert set(by_topic) == {events.topic(registry.POSTS), events.topic(registry.ENGAGEMENT_DELTAS),
                             events.topic(registry.TRADE_FEES)}
    btc = by_topic.pop(events.topic(registry.TRADE_FEES))
    assert "BTC has no value in the quote asset USDT" in btc.reason
    for letter in by_topic.values():
        assert letter.value == b"\xff\xfenot an envelope"
        assert "Envelope" in letter.reason
    assert {letter.consumer for letter in letters} == {"incentive"}


async def read_dead_letters(
    bootstrap: str, topic: str, n: int, timeout_s: float = 30
) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(letters) < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                letters.extend(DeadLetter.FromString(r.value) for r in records if r.value)
    finally:
        await consumer.stop()
    assert len(letters) == n, f"expected {n} dead letters, got {letters}"
    return letters


@pytest.mark.slow
async def test_kill9_mid_stream_then_state_wipe_counts_every_event_exactly_once(
    processor: ProcessorProcess, events: Events
) -> None:
    await processor.wait_serving()
    creator, user = f"cr-{events.suffix}", f"u-{events.suffix}"
    await events.kyc(user)

    async def stream(first: int, last: int, pause_s: float) -> None:
        for i in range(first, last):
            await events.post(creator, f"p{i}")
            if i % 10 == 0:
                await events.post(creator, f"p{i}")  # duplicate event id
            if i % 3 == 0:
                await events.fee(user, f"f{i}", 100)
            if i % 10 == 5:
                await events.deltas(creator, {user: [1, 10, 1]}, f"rec-{i}")
            if i % 5 == 0:
                await asyncio.sleep(pause_s)  # keep the stream going while we kill the worker

    async def posts_seen() -> int:
        e = await estimate(processor, creator, events.week)
        return e.posts if e else 0

    await stream(0, 100, 0)
    before = await poll_until(posts_seen, lambda n: n > 0, 60, "processor never counted a post")
    producing = asyncio.create_task(stream(100, 300, 0.05))
    await poll_until(posts_seen, lambda n: n > before, 60, "processor stopped counting")
    assert not producing.done(), "stream finished before the kill; make it longer"
    processor.kill9()
    await producing
    processor.start()

    # 100 fees of 100 minor → weight 1100; 30 records of dwell 10, interaction 1 each →
    # units = 300 + 30 * 20 (interactions capped).
    want = (300, 30, 300, 30, 1, (300 + 30 * 20) * 1100)
    await wait_for(processor, creator, events.week, want, s=90)

    processor.stop()
    shutil.rmtree(processor.data_dir, ignore_errors=True)
    processor.start()
    await wait_for(processor, creator, events.week, want, s=60)

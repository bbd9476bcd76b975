"""The exchange simulator publishes enveloped facts to the suffixed topics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from planet.exchange.v1.events_pb2 import KycVerified
from planet.exchange.v2 import events_pb2 as v2
from planetkit.envelope import decode
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.money import Money, total
from planetkit.service_identities import EXCHANGE
from planetkit.upcasters import decode_fee, decode_fill, fee_quote_value
from simulators.exchange.facts import ExchangeTopics, publish_fee, publish_fill, publish_random

pytestmark = pytest.mark.kafka


async def _read(bootstrap: str, topic: str, group: str, want: int) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        out: list[Any] = []
        deadline = time.monotonic() + 15
        while len(out) < want and time.monotonic() < deadline:
            for recs in (await consumer.getmany(timeout_ms=300)).values():
                out.extend(recs)
        return out
    finally:
        await consumer.stop()


async def test_library_publishes_fees_and_random_runs(kafka_bootstrap: str,
                                                      topic_suffix: str) -> None:
    topics = ExchangeTopics.with_suffix(topic_suffix)
    await ensure_topics(kafka_bootstrap, topics.all())
    producer = make_producer(kafka_bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        fee = await publish_fee(producer, topics, "user_a", 1234, "USDT", fee_id="fee_1")
        btc_fee = await publish_fee(producer, topics, "user_a", 2_500, "BTC", fee_id="fee_btc",
                                    quote_value_minor=160_000)
        run = await publish_random(producer, topics, users=3, fees=5, fills=4, seed=7)
        with pytest.raises(ValueError, match="positive integer"):
            await publish_fee(producer, topics, "user_a", 0)
        with pytest.raises(ValueError, match="needs its quote value in USDT"):
            await publish_fee(producer, topics, "user_a", 10, "BTC")
        with pytest.raises(ValueError, match="its own quote value"):
            await publish_fee(producer, topics, "user_a", 10, "USDT", quote_value_minor=11)
    finally:
        await producer.stop()
    assert fee.fee == fee.quote_value == v2.Money(amount_minor=1234, asset="USDT")
    assert btc_fee.fee.asset == "BTC" and btc_fee.quote_value.asset == "USDT"
    assert run.users == ["user_7_0", "user_7_1", "user_7_2"]
    records = await _read(kafka_bootstrap, topics.fees.name, f"g-{topic_suffix}", 7)
    fees = [decode_fee(r.value, "USDT") for r in records]
    assert len(fees) == 7
    assert {f.envelope.type for f in fees} == {"planet.exchange.v2.TradeFeeCharged"}
    first = next(f for f in fees if f.event_id == "fee_1")
    assert first.envelope.source == "exchange" and first.envelope.aggregate_id == "user_a"
    # Quote values sum in one asset; the BTC fee counts by its reported USDT value.
    quote = total((fee_quote_value(f.payload, "USDT") for f in fees), "USDT")
    assert quote == Money(1234 + 160_000, "USDT") + run.fee_total
    assert all(r.key == f.payload.user_id.encode() for r, f in zip(records, fees, strict=True))
    fills = [decode_fill(r.value).payload
             for r in await _read(kafka_bootstrap, topics.fills.name, f"f-{topic_suffix}", 4)]
    assert len(fills) == 4
    for fill in fills:
        assert fill.HasField("fee") and fill.HasField("quote_value")
        assert fill.fee.asset in ("BTC", "USDT") and fill.fee_quote_value.asset == "USDT"


async def test_fills_carry_price_quantity_fee_asset_and_quote_values(
        kafka_bootstrap: str, topic_suffix: str) -> None:
    topics = ExchangeTopics.with_suffix(topic_suffix)
    await ensure_topics(kafka_bootstrap, topics.all())
    producer = make_producer(kafka_bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        # 0.0015 BTC at 64000.25 = 96.000375 USDT: 9600 cents; fee 150 sat = 0.0000015 BTC.
        in_base = await publish_fill(producer, topics, "frank", "BTC/USDT", "buy", "64000.25",
                                     "0.0015", 150, fill_id="x1", fee_asset="BTC")
        in_quote = await publish_fill(producer, topics, "frank", "BTC/USDT", "sell", "64000.25",
                                      "0.0015", 10, fill_id="x2")
        with pytest.raises(ValueError, match="needs its quote value"):
            await publish_fill(producer, topics, "frank", "BTC/USDT", "buy", "1", "1", 5,
                               fee_asset="BNB")
        with pytest.raises(ValueError, match="positive decimal"):
            await publish_fill(producer, topics, "frank", "BTC/USDT", "buy", "1e3", "1", 5)
    finally:
        await producer.stop()
    assert in_base.quote_value == v2.Money(amount_minor=9600, asset="USDT")
    assert in_base.fee == v2.Money(amount_minor=150, asset="BTC")
    # 0.0000015 BTC x 64000.25 = 0.096 USDT: 10 cents (half-even).
    assert in_base.fee_quote_value == v2.Money(amount_minor=10, asset="USDT")
    assert in_quote.fee == in_quote.fee_quote_value == v2.Money(amount_minor=10, asset="USDT")
    records = await _read(kafka_bootstrap, topics.fills.name, f"g-{topic_suffix}", 2)
    read = {decode_fill(r.value).payload.fill_id: decode_fill(r.value).payload for r in records}
    assert read == {"x1": in_base, "x2": in_quote}
    assert read["x1"].side == v2.SIDE_BUY and read["x1"].price == "64000.25"


def _cli(args: list[str], bootstrap: str, suffix: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PLANET_TOPIC_SUFFIX": suffix}
    return subprocess.run([sys.executable, "-m", "simulators.exchange", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


async def test_cli_publishes_and_refuses_bad_arguments(kafka_bootstrap: str,
                                                       topic_suffix: str) -> None:
    # Services and the simulator create no topics: the topics tool does, before they start.
    await ensure_topics(kafka_bootstrap, ExchangeTopics.with_suffix(topic_suffix).all())
    ok = _cli(["kyc", "--user", "user_k"], kafka_bootstrap, topic_suffix)
    assert ok.returncode == 0, ok.stderr
    topic = ExchangeTopics.with_suffix(topic_suffix).kyc.name
    [record] = await _read(kafka_bootstrap, topic, f"g-{topic_suffix}", 1)
    assert decode(record.value, KycVerified).payload.user_id == "user_k"

    # The README walkthrough's fee, and one charged in BTC with its USDT value.
    for args in (["fee", "--user", "frank", "--amount-minor", "5000", "--currency", "USDT"],
                 ["fee", "--user", "frank", "--amount-minor", "7000", "--currency", "BTC",
                  "--quote-value-minor", "450000"]):
        ok = _cli(args, kafka_bootstrap, topic_suffix)
        assert ok.returncode == 0, ok.stderr
    fees_topic = ExchangeTopics.with_suffix(topic_suffix).fees.name
    fees = [decode_fee(r.value, "USDT").payload
            for r in await _read(kafka_bootstrap, fees_topic, f"g-{topic_suffix}", 2)]
    assert sorted((f.fee.amount_minor, f.fee.asset, f.quote_value.amount_minor) for f in fees) \
        == [(5000, "USDT", 5000), (7000, "BTC", 450000)]

    for bad in (["fee", "--user", "u", "--amount-minor", "1.5"],
                ["fee", "--user", "u", "--amount-minor", "5", "--currency", "usdt"],
                ["fee", "--user", "u", "--amount-minor", "5", "--currency", "BTC"],
                ["fee", "--user", "u", "--amount-minor", "5", "--quote-value-minor", "-1"],
                ["fill", "--user", "u", "--side", "buy", "--price", "-1", "--quantity", "1"],
                ["bogus"]):
        result = _cli(bad, kafka_bootstrap, topic_suffix)
        assert result.returncode != 0, bad
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr

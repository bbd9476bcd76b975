"""The exchange simulator publishes enveloped facts to the suffixed topics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from planet.exchange.v1.events_pb2 import KycVerified, TradeFeeCharged
from planetkit.envelope import decode
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from simulators.exchange.facts import ExchangeTopics, publish_fee, publish_random

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
    producer = make_producer(kafka_bootstrap)
    await producer.start()
    try:
        fee = await publish_fee(producer, topics, "user_a", 1234, "USDT", fee_id="fee_1")
        run = await publish_random(producer, topics, users=3, fees=5, seed=7)
        with pytest.raises(ValueError, match="positive integer"):
            await publish_fee(producer, topics, "user_a", 0)
    finally:
        await producer.stop()
    assert fee.amount_minor == 1234 and run.users == ["user_7_0", "user_7_1", "user_7_2"]
    records = await _read(kafka_bootstrap, topics.fees.name, f"g-{topic_suffix}", 6)
    fees = [decode(r.value, TradeFeeCharged) for r in records]
    assert len(fees) == 6
    first = next(f for f in fees if f.event_id == "fee_1")
    assert first.envelope.source == "exchange" and first.envelope.aggregate_id == "user_a"
    assert sum(f.payload.amount_minor for f in fees) == 1234 + run.fee_total_minor
    assert all(r.key == f.payload.user_id.encode() for r, f in zip(records, fees, strict=True))


def _cli(args: list[str], bootstrap: str, suffix: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PLANET_TOPIC_SUFFIX": suffix}
    return subprocess.run([sys.executable, "-m", "simulators.exchange", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


async def test_cli_publishes_and_refuses_bad_arguments(kafka_bootstrap: str,
                                                       topic_suffix: str) -> None:
    ok = _cli(["kyc", "--user", "user_k"], kafka_bootstrap, topic_suffix)
    assert ok.returncode == 0, ok.stderr
    topic = ExchangeTopics.with_suffix(topic_suffix).kyc.name
    [record] = await _read(kafka_bootstrap, topic, f"g-{topic_suffix}", 1)
    assert decode(record.value, KycVerified).payload.user_id == "user_k"

    for bad in (["fee", "--user", "u", "--amount-minor", "1.5"],
                ["fee", "--user", "u", "--amount-minor", "5", "--currency", "usdt"],
                ["fill", "--user", "u", "--side", "buy", "--price", "-1", "--quantity", "1"],
                ["bogus"]):
        result = _cli(bad, kafka_bootstrap, topic_suffix)
        assert result.returncode != 0, bad
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr

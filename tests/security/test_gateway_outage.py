"""Finding 9: a telemetry 503 tells the truth — outcome unknown, retry with the same ids.

Before: when the event log did not confirm a batch within the publish timeout the gateway
answered a bare 503 ("try again later"), yet the record was still in the producer's buffer
and landed afterwards: the client was told "not accepted" for a write that was counted.
This test makes that happen for real (a real producer whose wait for the broker's ack is
cut short) and checks what the client is told, that the record does land, and that the
retry it is told to make carries the same ids (so the aggregator's dedup drops it).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from gateway.adapters.kafka_events import KafkaEvents
from gateway.app import create_app
from gateway.ports import Backends
from gateway.settings import GatewaySettings
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planetkit.engagement_batches import iter_rows
from planetkit.envelope import decode
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import GATEWAY
from planetkit.topics import ENGAGEMENT_BATCHES, with_suffix
from tests.security.gateway_apps import POST, Calls, Content, Incentive, dev_settings, dev_token

pytestmark = pytest.mark.kafka


async def _records(bootstrap: str, topic: str, want: int) -> list[EngagementBatch]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                isolation_level="read_committed", enable_auto_commit=False)
    await consumer.start()
    try:
        found: list[EngagementBatch] = []
        deadline = time.monotonic() + 20
        while len(found) < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found.extend(decode(r.value, EngagementBatch).payload for r in records)
        return found
    finally:
        await consumer.stop()


async def test_an_unconfirmed_batch_is_503_outcome_unknown_and_the_retry_is_harmless(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    topic = with_suffix(ENGAGEMENT_BATCHES, topic_suffix)
    await ensure_topics(kafka_bootstrap, [topic])
    producer = make_producer(kafka_bootstrap, writer=GATEWAY, linger_ms=50)
    await producer.start()
    await producer.partitions_for(topic.name)  # metadata cached: the record is buffered
    calls = Calls()
    # Far shorter than an ack takes: the wait is cut short, the send is not.
    sink = KafkaEvents(producer, topic, 0.001)

    @asynccontextmanager
    async def factory(_: GatewaySettings) -> AsyncIterator[Backends]:
        yield Backends(Content(calls), Incentive(calls), sink,
                       lambda: time.time_ns() // 1_000_000)

    app = create_app(dev_settings(retry_after_s=3), factory)
    now = int(time.time() * 1000)
    batch = {"batch_id": "b-outage", "events": [
        {"event_id": "e1", "item_id": POST, "occurred_at_ms": now, "type": "view",
         "dwell_seconds": 9}]}
    headers = {"Authorization": f"Bearer {dev_token('frank')}"}
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
                first = await http.post("/v1/telemetry/batches", json=batch, headers=headers)
                assert first.status_code == 503
                assert first.headers["retry-after"] == "3"
                error = first.json()["error"]
                assert error.startswith("outcome unknown")
                assert "same batch_id and event ids" in error
                # The write lands anyway: exactly what the 503 warned about.
                [landed] = await _records(kafka_bootstrap, topic.name, 1)
                sink._timeout_s = 10.0  # the broker answers in time again
                retry = await http.post("/v1/telemetry/batches", json=batch, headers=headers)
                assert retry.status_code == 202
        both = await _records(kafka_bootstrap, topic.name, 2)
    finally:
        await producer.stop()
    assert len(both) == 2
    ids = [[r.event_id for r in iter_rows(b)] for b in both]
    assert ids[0] == ids[1] == [r.event_id for r in iter_rows(landed)]
    assert both[0].batch_id == both[1].batch_id

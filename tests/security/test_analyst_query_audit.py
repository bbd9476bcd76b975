"""Who queried what: every accepted analytics query is on the audit topic, on the real broker,
before it runs; without the audit log no query runs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from planet.analytics.v1 import analytics_service_pb2 as rpc
from planet.analytics.v1 import analytics_service_pb2_grpc as rpc_grpc
from planet.analytics.v1 import audit_pb2
from planetkit.envelope import decode
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import ANALYTICS
from planetkit.topics import ANALYTICS_QUERY_AUDIT, with_suffix
from services.analytics.adapters.audit import KafkaAuditLog
from services.analytics.adapters.chdb_store import ChdbStore
from services.analytics.adapters.engine import Engine
from services.analytics.adapters.grpc_server import AnalyticsServicer, make_server, new_health
from tests.security.analytics_harness import BindCaller, as_user
from tests.security.analytics_store import module_store

store = module_store()


@dataclass
class Audited:
    stub: rpc_grpc.AnalyticsServiceAsyncStub
    producer: AIOKafkaProducer
    topic: str


@pytest.fixture
async def audited(
    kafka_bootstrap: str, topic_suffix: str, store: ChdbStore
) -> AsyncIterator[Audited]:
    topic = with_suffix(ANALYTICS_QUERY_AUDIT, topic_suffix)
    await ensure_topics(kafka_bootstrap, [topic])
    producer = make_producer(kafka_bootstrap, writer=ANALYTICS)
    await producer.start()
    engine = Engine(lambda: ChdbStore(store.path))
    await engine.open()
    servicer = AnalyticsServicer(engine, audit=KafkaAuditLog(producer, topic.name, 5.0),
                                 max_query_bytes=10_000, max_rows=100, max_response_bytes=100_000)
    server = make_server(servicer, new_health(), 100_000, [BindCaller()])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    servicer.ready = True
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Audited(rpc_grpc.AnalyticsServiceStub(channel), producer, topic.name)
    finally:
        await server.stop(0)
        await engine.close()
        await producer.stop()


async def _records(bootstrap: str, topic: str, want: int) -> list[tuple[bytes, object]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    found: list[tuple[bytes, object]] = []
    try:
        deadline = time.monotonic() + 30
        while len(found) < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event = decode(record.value, audit_pb2.QueryAccepted, audit_pb2.QueryFinished)
                    found.append((record.key or b"", event.payload))
        return found
    finally:
        await consumer.stop()


async def test_each_query_is_audited_keyed_by_user(
    audited: Audited, kafka_bootstrap: str
) -> None:
    answer = await audited.stub.Query(rpc.QueryRequest(sql="select number from numbers(3)"),
                                      timeout=30, metadata=as_user("ana", "analyst"))
    assert answer.row_count == 3
    records = await _records(kafka_bootstrap, audited.topic, 2)
    (key1, accepted), (key2, finished) = records
    assert key1 == key2 == b"ana"
    assert isinstance(accepted, audit_pb2.QueryAccepted)
    assert (accepted.user_id, list(accepted.roles), accepted.service, accepted.audience) == (
        "ana", ["analyst"], "gateway", audit_pb2.AUDIENCE_ANALYST)
    assert accepted.canonical_sql == "SELECT number FROM numbers(3)"
    assert isinstance(finished, audit_pb2.QueryFinished)
    assert (finished.query_id, finished.outcome, finished.row_count) == (
        accepted.query_id, audit_pb2.OUTCOME_SUCCEEDED, 3)


async def test_without_the_audit_log_the_query_does_not_run(audited: Audited) -> None:
    await audited.producer.stop()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await audited.stub.Query(rpc.QueryRequest(sql="SELECT 1"), timeout=30,
                                 metadata=as_user("ana", "analyst"))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "audit" in (caught.value.details() or "")

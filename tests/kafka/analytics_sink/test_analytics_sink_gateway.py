"""POST /v1/analytics/query through the real gateway app to a real running sink."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from analytics_sink_process import SinkProcess, free_port, poll
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.auth import issue_token
from gateway.settings import GatewaySettings
from planet.exchange.v1.events_pb2 import TradeFeeCharged
from planetkit.envelope import wrap
from planetkit.kafka.producer import make_producer, publish
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import GATEWAY
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import TRADE_FEES, with_suffix
from services.analytics.domain.pseudonyms import Pseudonymizer

pytestmark = pytest.mark.kafka
SECRET = "analytics-gateway-test-secret-32-bytes!"
BIG = 2**62 + 1
SQL = ("SELECT event_id, JSONExtractInt(payload_json, 'amount_minor') AS amount "
       "FROM planet.events_raw_dedup ORDER BY event_id")


def _auth(roles: list[str]) -> dict[str, str]:
    token = issue_token(SECRET, "someone", roles, now_s=int(time.time()), ttl_s=600)
    return {"Authorization": f"Bearer {token}"}


def _client(kafka_bootstrap: str, suffix: str, analytics_addr: str,
            auth: DevServiceAuth) -> TestClient:
    settings = GatewaySettings(
        dev_mode=True, jwt_secret=SECRET, analytics_addr=analytics_addr, analytics_timeout_s=10,
        service_auth=auth.settings(GATEWAY),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        topics=TopicSettings(topic_suffix=suffix),
    )
    return TestClient(create_app(settings))


async def _publish_fee(bootstrap: str, suffix: str) -> None:
    producer = make_producer(bootstrap, writer=TRADE_FEES.writer, linger_ms=0)
    await producer.start()
    try:
        fee = TradeFeeCharged(fee_id="fee-1", user_id="u1", amount_minor=BIG, currency="USDT")
        await publish(producer, with_suffix(TRADE_FEES, suffix), wrap(
            fee, event_id="fee-1", source="exchange", aggregate_id="u1",
            occurred_at_ms=time.time_ns() // 1_000_000))
    finally:
        await producer.stop()


def test_analysts_query_and_everyone_else_is_refused(
    sink: SinkProcess, kafka_bootstrap: str, topic_suffix: str
) -> None:
    asyncio.run(_publish_fee(kafka_bootstrap, topic_suffix))
    with _client(kafka_bootstrap, topic_suffix, sink.address, sink.auth) as http:
        assert http.post("/v1/analytics/query", json={"sql": SQL}).status_code == 401
        refused = http.post("/v1/analytics/query", json={"sql": SQL},
                            headers=_auth(["consumer"]))
        assert refused.status_code == 403
        assert refused.json() == {"error": "only analysts (or operators) may query analytics"}

        def answered() -> dict[str, object] | None:
            reply = http.post("/v1/analytics/query", json={"sql": SQL},
                              headers=_auth(["analyst"]))
            assert reply.status_code == 200, reply.text
            body: dict[str, object] = reply.json()
            return body if body["rows"] else None

        body = poll(answered, 60, "the fee to reach the store")
        # The fee id is the exchange's id of one person's fee: analysts see its pseudonym.
        fee_pseudonym = Pseudonymizer(sink.pseudonym_key.encode())("fee-1")
        assert body == {"columns": ["event_id", "amount"], "rows": [[fee_pseudonym, BIG]],
                        "row_count": 1, "truncated": False}

        operator = http.post("/v1/analytics/query", json={"sql": "SELECT 1 AS one"},
                             headers=_auth(["operator"]))
        assert operator.json()["rows"] == [[1]]

        write = http.post("/v1/analytics/query", json={"sql": "DROP TABLE planet.events_raw"},
                          headers=_auth(["analyst"]))
        assert write.status_code == 400
        assert write.json()["error"]


def test_an_unreachable_sink_is_503(
    kafka_bootstrap: str, registered_topics: str, tmp_path: Path
) -> None:
    auth = DevServiceAuth.create(tmp_path / "service-auth")
    with _client(kafka_bootstrap, registered_topics, f"127.0.0.1:{free_port()}", auth) as http:
        reply = http.post("/v1/analytics/query", json={"sql": "SELECT 1"},
                          headers=_auth(["analyst"]))
    assert reply.status_code == 503
    assert reply.json() == {"error": "analytics service is unavailable, try again later"}

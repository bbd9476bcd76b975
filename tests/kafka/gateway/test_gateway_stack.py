"""The gateway over real HTTP, a real content service, a real gRPC incentive stub and Kafka."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import uvicorn
import websockets
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gateway.app import create_app
from gateway.auth import issue_token
from gateway.settings import GatewaySettings
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.incentive.v1 import incentive_service_pb2 as inc
from planet.incentive.v1 import incentive_service_pb2_grpc as inc_grpc
from planet.incentive.v1 import weekly_pool_pb2 as pool
from planetkit.engagement_batches import iter_rows
from planetkit.envelope import decode, encode, wrap
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, GATEWAY, INCENTIVE
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import ENGAGEMENT_BATCHES, ESTIMATES, with_suffix
from services.content.bootstrap import start as start_content
from services.content.domain.ids import post_id_for
from services.content.settings import ContentSettings
from tests.kafka.social.social_harness import open_creators, start_social

pytestmark = pytest.mark.kafka
SECRET = "kafka-test-secret-of-at-least-32-bytes"
GHOST = post_id_for("nobody", "ghost")


class FixedIncentive(inc_grpc.IncentiveServiceServicer):
    """Answers a fixed current estimate."""

    async def GetCreatorEstimate(self, request: inc.CreatorWeekRequest,
                                 context: Any) -> pool.CreatorEstimate:
        return pool.CreatorEstimate(creator_id=request.creator_id,
                                    week=request.week or "2026-W48", as_of_ms=1,
                                    estimated_minor=1000, asset="USDT",
                                    activity=pool.WeekActivity(views=7))


@dataclass
class Stack:
    base: str
    topic: str
    incentive: FixedIncentive
    bootstrap: str
    estimates: str


@pytest.fixture
async def stack(kafka_bootstrap: str, registered_topics: str, tmp_path: Path
                ) -> AsyncIterator[Stack]:
    topic_suffix = registered_topics
    auth = DevServiceAuth.create(tmp_path / "service-auth")
    # The real social service: alice is a KYC-verified creator with an open identity.
    social = await start_social(kafka_bootstrap, topic_suffix, auth, None)
    await open_creators(social, auth, kafka_bootstrap, topic_suffix, ["alice"])
    content = await start_content(ContentSettings(
        grpc_host="127.0.0.1", grpc_port=0, shutdown_grace_s=0, auth=auth.settings(CONTENT),
        social_addr=f"127.0.0.1:{social.port}",
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        topics=TopicSettings(topic_suffix=topic_suffix),
    ))
    fixed = FixedIncentive()
    incentive = grpc.aio.server()
    inc_grpc.add_IncentiveServiceServicer_to_server(fixed, incentive)
    incentive_port = incentive.add_insecure_port("127.0.0.1:0")
    await incentive.start()
    settings = GatewaySettings(
        dev_mode=True, jwt_secret=SECRET, content_addr=f"127.0.0.1:{content.port}",
        service_auth=auth.settings(GATEWAY),
        incentive_addr=f"127.0.0.1:{incentive_port}", max_body_bytes=8192, ws_poll_s=0.1,
        social_addr=f"127.0.0.1:{social.port}",
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        topics=TopicSettings(topic_suffix=topic_suffix),
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield Stack(f"http://127.0.0.1:{port}", with_suffix(ENGAGEMENT_BATCHES, topic_suffix).name,
                    fixed, kafka_bootstrap, with_suffix(ESTIMATES, topic_suffix).name)
    finally:
        server.should_exit = True
        await serving
        await incentive.stop(0)
        await content.stop()
        await social.stop()


def _auth(user: str) -> dict[str, str]:
    token = issue_token(SECRET, user, [], now_s=int(time.time()), ttl_s=600)
    return {"Authorization": f"Bearer {token}"}


async def _one_record(bootstrap: str, topic: str, consumer_group: str) -> Any:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=consumer_group,
                                auto_offset_reset="earliest", isolation_level="read_committed")
    await consumer.start()
    try:
        records: list[Any] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for recs in (await consumer.getmany(timeout_ms=300)).values():
                records.extend(recs)
            if records:
                # One more fetch proves no second record followed.
                for recs in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(recs)
                return records
        return records
    finally:
        await consumer.stop()


async def test_publish_then_a_batch_becomes_one_kafka_record(stack: Stack,
                                                             topic_suffix: str) -> None:
    async with httpx.AsyncClient(base_url=stack.base) as http:
        body = {"body": "ETH to the moon", "hashtags": ["eth"]}
        headers = {**_auth("alice"), "Idempotency-Key": "r1"}
        published = await http.post("/v1/posts", json=body, headers=headers)
        assert published.status_code == 201, published.text
        post = published.json()
        assert post["creator_id"] == "alice"
        again = await http.post("/v1/posts", json={"body": "ETH to the moon"},
                                headers={**_auth("alice"), "Idempotency-Key": "r1"})
        assert again.json() == post
        read = (await http.get(f"/v1/posts/{post['post_id']}", headers=_auth("bob"))).json()
        # The counts are the interactions' projection, read beside the post: none yet.
        assert read.pop("stats") in (None, {"likes": 0, "comments": 0, "shares": 0})
        assert read == {k: v for k, v in post.items() if k != "stats"}
        assert (await http.get(f"/v1/posts/{GHOST}", headers=_auth("bob"))).status_code == 404

        now = int(time.time() * 1000)
        unknown = await http.post("/v1/telemetry/batches", headers=_auth("bob"), json={
            "batch_id": "b0", "events": [{"event_id": "x", "item_id": GHOST,
                                          "occurred_at_ms": now, "type": "view",
                                          "dwell_seconds": 3}]})
        assert unknown.status_code == 422
        assert unknown.json() == {"error": f"unknown items: {GHOST}"}

        accepted = await http.post("/v1/telemetry/batches", headers=_auth("bob"), json={
            "batch_id": "b1", "events": [
                {"event_id": "e1", "item_id": post["post_id"], "occurred_at_ms": now,
                 "type": "view", "dwell_seconds": 12},
                {"event_id": "e2", "item_id": post["post_id"], "occurred_at_ms": now,
                 "type": "view", "dwell_seconds": 3}]})
        assert accepted.status_code == 202 and accepted.json() == {"accepted": 2}

        assert (await http.post("/v1/telemetry/batches", json={})).status_code == 401
        too_big = await http.post("/v1/posts", content=b"x" * 9000,
                                  headers={**_auth("alice"), "Idempotency-Key": "r2"})
        assert too_big.status_code == 413 and "error" in too_big.json()
        malformed = await http.post("/v1/posts", content=b"{",
                                    headers={**_auth("alice"), "Idempotency-Key": "r3",
                                             "Content-Type": "application/json"})
        assert malformed.status_code == 422 and "malformed JSON" in malformed.json()["error"]
        invalid = await http.post("/v1/posts", json={"body": "x", "title": "t" * 201},
                                  headers={**_auth("alice"), "Idempotency-Key": "r4"})
        assert invalid.status_code == 422 and "title has 201" in invalid.json()["error"]

    [record] = await _one_record(stack.bootstrap, stack.topic, f"check-{topic_suffix}")
    assert record.key == b"bob"
    event = decode(record.value, EngagementBatch)
    assert (event.envelope.event_id, event.envelope.aggregate_id) == ("3:bob/b1", "bob")
    rows = list(iter_rows(event.payload))
    assert [r.creator_id for r in rows] == ["alice", "alice"]
    assert rows[0].dwell_seconds == 12


async def test_estimates_over_http_and_websocket(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.base) as http:
        got = await http.get("/v1/creators/alice/estimate?week=2026-W47", headers=_auth("alice"))
        assert got.status_code == 200
        assert got.json()["estimated_minor"] == 1000 and got.json()["week"] == "2026-W47"

    ws_base = stack.base.replace("http", "ws")
    token = _auth("alice")["Authorization"].removeprefix("Bearer ")
    async with websockets.connect(f"{ws_base}/v1/ws/creators/alice/estimate?token={token}") as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["estimated_minor"] == 1000
        # The scoring job's next estimate, pushed by the gateway's one estimates consumer.
        producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            changed = pool.CreatorEstimate(creator_id="alice", week="2026-W48", as_of_ms=2,
                                           estimated_minor=2500, asset="USDT")
            await producer.send_and_wait(stack.estimates, encode(wrap(
                changed, event_id="est-2", source=INCENTIVE, aggregate_id="alice",
                occurred_at_ms=2)), key=b"alice")
        finally:
            await producer.stop()
        second = json.loads(await asyncio.wait_for(ws.recv(), 15))
        assert second["estimated_minor"] == 2500

    async with websockets.connect(f"{ws_base}/v1/ws/creators/alice/estimate",
                                  subprotocols=["planet.v1", f"bearer.{token}"]) as ws:
        assert ws.subprotocol == "planet.v1"
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["estimated_minor"] == 1000

    async with websockets.connect(f"{ws_base}/v1/ws/creators/alice/estimate?token=bad") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_an_unreachable_backend_is_503(kafka_bootstrap: str, registered_topics: str,
                                             tmp_path: Path) -> None:
    topic_suffix = registered_topics
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    auth = DevServiceAuth.create(tmp_path / "service-auth")
    settings = GatewaySettings(dev_mode=True, jwt_secret=SECRET, content_addr=dead,
                               incentive_addr=dead, service_auth=auth.settings(GATEWAY),
                               grpc_timeout_s=2,
                               kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
                               topics=TopicSettings(topic_suffix=topic_suffix))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            response = await http.get(f"/v1/posts/{GHOST}", headers=_auth("bob"))
    assert response.status_code == 503 and "unavailable" in response.json()["error"]
    assert int(response.headers["retry-after"]) >= 1

"""The estimate WebSocket pushed from Kafka: a real gateway over uvicorn, its EstimateHub
reading the real estimates topic, the incentive service stood in over real gRPC. Estimates
written by a transactional producer (as the scoring job writes them) reach every socket of
their creator in order; an aborted transaction's never do; two sockets share the process's
one consumer; the socket fetched the current estimate once and never polls."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gateway.app import create_app
from gateway.estimate_hub import EstimateHub
from planetkit.envelope import encode, wrap
from planetkit.kafka.admin import ensure_topics
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import INCENTIVE
from planetkit.topics import ESTIMATES, with_suffix
from tests.security.gateway_apps import dev_settings, dev_token
from tests.security.gateway_pool_standin import WEEK, StandInIncentive, estimate, pool_backends

pytestmark = pytest.mark.kafka
# Guards only: a broken push fails here instead of hanging the suite.
RECEIVE_S = 20


@dataclass
class Gateway:
    ws_base: str
    hub: EstimateHub
    standin: StandInIncentive
    topic: str
    consumers: list[AIOKafkaConsumer]


@pytest.fixture
async def gateway(kafka_bootstrap: str, topic_suffix: str, tmp_path: Path
                  ) -> AsyncIterator[Gateway]:
    topic = with_suffix(ESTIMATES, topic_suffix)
    await ensure_topics(kafka_bootstrap, [topic])
    consumers: list[AIOKafkaConsumer] = []

    def consumer() -> AIOKafkaConsumer:  # as gateway/backends.py makes it
        made = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None,
                                enable_auto_commit=False, isolation_level="read_committed")
        consumers.append(made)
        return made

    hub = EstimateHub(consumer, topic.name, topic.partitions)
    standin = StandInIncentive(current=estimate("alice", 100, 5_000))
    factory = pool_backends(standin, DevServiceAuth.create(tmp_path / "auth"), hub,
                            start_hub=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(dev_settings(), factory),
                                           log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield Gateway(f"ws://127.0.0.1:{port}", hub, standin, topic.name, consumers)
    finally:
        server.should_exit = True
        await serving


def _record(e: Any) -> bytes:
    return encode(wrap(e, event_id=f"est-{e.creator_id}-{e.as_of_ms}", source=INCENTIVE,
                       aggregate_id=e.creator_id, occurred_at_ms=e.as_of_ms))


async def _write(bootstrap: str, topic: str) -> None:
    """Three transactions, as the scoring job writes: committed, aborted, committed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap,
                                transactional_id=f"scoring-{uuid.uuid4().hex}")
    await producer.start()
    try:
        async with producer.transaction():
            for e in (estimate("alice", 200, 6_000), estimate("bob", 250, 1),
                      estimate("alice", 300, 7_000)):
                await producer.send_and_wait(topic, _record(e), key=e.creator_id.encode())
        await producer.begin_transaction()
        aborted = estimate("alice", 400, 666)
        await producer.send_and_wait(topic, _record(aborted), key=b"alice")
        await producer.abort_transaction()
        async with producer.transaction():
            last = estimate("alice", 500, 8_000)
            await producer.send_and_wait(topic, _record(last), key=b"alice")
    finally:
        await producer.stop()


async def _next(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_S))
    return message


async def test_committed_estimates_reach_every_socket_of_their_creator_in_order(
        gateway: Gateway, kafka_bootstrap: str) -> None:
    url = f"{gateway.ws_base}/v1/ws/creators/alice/estimate"
    async with (websockets.connect(url, subprotocols=[
                    "planet.v1", f"bearer.{dev_token('alice')}"]) as mine,
                websockets.connect(url, subprotocols=[
                    "planet.v1", f"bearer.{dev_token('ops', ['operator'])}"]) as ops):
        # The first message is the current estimate; the socket subscribed before fetching.
        assert [(await _next(ws))["as_of_ms"] for ws in (mine, ops)] == [100, 100]
        assert gateway.hub.sockets == 2
        await _write(kafka_bootstrap, gateway.topic)
        for ws in (mine, ops):
            got = [await _next(ws) for _ in range(3)]
            assert [(g["as_of_ms"], g["estimated_minor"]) for g in got] == [
                (200, 6_000), (300, 7_000), (500, 8_000)]
            assert got[-1]["week"] == WEEK and got[-1]["breakdown"]["items"][0][
                "amount_minor"] == 8_000
            await ws.send(json.dumps({"type": "ping"}))  # nothing else came before the pong
            assert await _next(ws) == {"type": "pong"}
    # One consumer for the process, whatever the sockets; one fetch per socket, no poll.
    assert len(gateway.consumers) == 1
    assert gateway.hub.read == 4  # alice 200, bob 250, alice 300, alice 500: not the aborted
    assert [c.method for c in gateway.standin.calls] == ["GetCreatorEstimate"] * 2
    assert {c.user_id for c in gateway.standin.calls} == {"alice", "ops"}


async def test_the_hub_starts_at_the_end_of_the_topic(gateway: Gateway,
                                                      kafka_bootstrap: str) -> None:
    """What was written before a socket connects is its fetched current estimate, never a
    replay: a socket opened after the writes gets the fetch, then only what comes next."""
    url = f"{gateway.ws_base}/v1/ws/creators/alice/estimate"
    await _write(kafka_bootstrap, gateway.topic)
    async with websockets.connect(url, subprotocols=[
            "planet.v1", f"bearer.{dev_token('alice')}"]) as ws:
        assert (await _next(ws))["as_of_ms"] == 100  # the stand-in's current estimate
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            e = estimate("alice", int(time.time() * 1000), 9_999)
            await producer.send_and_wait(gateway.topic, _record(e), key=b"alice")
        finally:
            await producer.stop()
        newest = await _next(ws)
        assert newest["estimated_minor"] == 9_999  # 200..500 were never replayed before it

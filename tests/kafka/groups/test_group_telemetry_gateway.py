"""Dwell on a group chat through the gateway's telemetry route (issue 15): the real gateway
over HTTP, the real groups and social services, the real broker.

A member's view of "group:<id>" is one engagement record crediting the group's owner, as
the groups service names them (ResolveGroupItems); a non-member of the private group, or a
group that does not exist, is an unknown item (422, nothing written); an id outside the
group alphabet is refused by the schema before any backend is asked.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import grpc
import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer

from gateway.app import create_app
from gateway.auth import issue_token
from gateway.settings import GatewaySettings
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planetkit.engagement_batches import iter_rows
from planetkit.envelope import decode
from planetkit.group_items import group_item
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import GATEWAY
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import ENGAGEMENT_BATCHES, with_suffix
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, profile
from tests.kafka.social.social_harness import open_creators

SECRET = "kafka-test-secret-of-at-least-32-bytes"


def _auth(user: str) -> dict[str, str]:
    token = issue_token(SECRET, user, [], now_s=int(time.time()), ttl_s=600)
    return {"Authorization": f"Bearer {token}"}


def _batch(batch_id: str, *items: str) -> dict[str, object]:
    now = int(time.time() * 1000)
    return {"batch_id": batch_id, "events": [
        {"event_id": f"{batch_id}-{k}", "item_id": item, "occurred_at_ms": now, "type": "view",
         "dwell_seconds": 120} for k, item in enumerate(items)]}


async def _batches(bootstrap: str, topic: str, want: int) -> list[EngagementBatch]:
    """The committed engagement records of ``topic`` once ``want`` are there (and one more
    fetch, which must bring no other)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        out: list[EngagementBatch] = []
        deadline = time.monotonic() + 30
        while len(out) < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out += [decode(r.value, EngagementBatch).payload for r in records]
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            out += [decode(r.value, EngagementBatch).payload for r in records]
        return out
    finally:
        await consumer.stop()


async def test_a_members_dwell_on_a_group_is_the_owners_and_an_outsiders_is_refused(
    kafka_bootstrap: str, registered_topics: str, service_auth: DevServiceAuth,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    suffix = registered_topics
    await open_creators(social, service_auth, kafka_bootstrap, suffix, ["owner7"])
    groups = await groups_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{groups.port}") as channel:
        owner = Client(channel, service_auth, "owner7")
        private = (await owner.call("CreateGroup", request_id="c",
                                    profile=profile("Back room", private=True))).group_id
        await owner.call("AddMember", request_id="a", group_id=private, user_id="mia7")
    settings = GatewaySettings(
        dev_mode=True, jwt_secret=SECRET, service_auth=service_auth.settings(GATEWAY),
        groups_addr=f"127.0.0.1:{groups.port}", social_addr=f"127.0.0.1:{social.port}",
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        topics=TopicSettings(topic_suffix=suffix))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.02)
    item = group_item(private)
    try:
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=base) as http:
            accepted = await http.post("/v1/telemetry/batches", headers=_auth("mia7"),
                                       json=_batch("b1", item))
            assert accepted.status_code == 202, accepted.text
            outsider = await http.post("/v1/telemetry/batches", headers=_auth("eve7"),
                                       json=_batch("b2", item))
            assert outsider.status_code == 422
            assert outsider.json() == {"error": f"unknown items: {item}"}
            ghost = group_item("gnosuchgroup")
            mixed = await http.post("/v1/telemetry/batches", headers=_auth("mia7"),
                                    json=_batch("b3", item, ghost))
            assert mixed.status_code == 422
            assert mixed.json() == {"error": f"unknown items: {ghost}"}
            for bad in ("group:Back-Room", "group:", "group:a:b"):
                refused = await http.post("/v1/telemetry/batches", headers=_auth("mia7"),
                                          json=_batch("b4", bad))
                assert refused.status_code == 422, bad
    finally:
        server.should_exit = True
        await serving

    [batch] = await _batches(kafka_bootstrap, with_suffix(ENGAGEMENT_BATCHES, suffix).name, 1)
    assert batch.consumer_id == "mia7"
    assert [(r.item_id, r.creator_id, r.dwell_seconds) for r in iter_rows(batch)] \
        == [(item, "owner7", 120)]

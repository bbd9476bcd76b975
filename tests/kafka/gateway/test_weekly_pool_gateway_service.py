"""The weekly pool's HTTP routes over the REAL incentive service: a real gateway (uvicorn,
its real backends and estimate hub) in front of `python -m services.incentive` on this
test's topics. What the service answers reaches the client as documented: fundings
idempotent by Idempotency-Key, the service's refusals as 422 / 409 / 404, the creator's own
estimate with the funded pool, and an estimate the scoring job writes pushed to the socket
and then served over HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from gateway.app import create_app
from gateway.auth import issue_token
from gateway.settings import GatewaySettings
from planet.incentive.v1 import weekly_pool_pb2 as pool
from planetkit.service_identities import GATEWAY
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import ESTIMATES
from planetkit.weeks import iso_week_of_ms
from services.incentive.domain.policy import default_policy
from tests.kafka.incentive_api.incentive_api_harness import IncentiveProcess, Records, poll_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
SECRET = "pool-gateway-test-secret-of-32-bytes!"
OLD_WEEK = "2026-W01"


@dataclass
class Stack:
    base: str
    records: Records


@pytest.fixture
async def stack(kafka_bootstrap: str, registered_topics: str, tmp_path: Path
                ) -> AsyncIterator[Stack]:
    incentive = IncentiveProcess(kafka_bootstrap, registered_topics, tmp_path)
    incentive.start()
    records = Records(kafka_bootstrap, registered_topics)
    await records.producer.start()
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None
    try:
        await incentive.wait_serving()
        settings = GatewaySettings(
            dev_mode=True, jwt_secret=SECRET, incentive_addr=incentive.address,
            service_auth=incentive.service_auth.settings(GATEWAY), grpc_timeout_s=30,
            kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
            topics=TopicSettings(topic_suffix=registered_topics))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.02)
        yield Stack(f"http://127.0.0.1:{port}", records)
    finally:
        if server is not None and serving is not None:
            server.should_exit = True
            await serving
        await records.producer.stop()
        incentive.stop()


def _knobs() -> dict[str, Any]:
    """The launch policy's fields but its version and first week (the body names them)."""
    fields = default_policy().to_canonical()
    del fields["version"], fields["effective_from_week"]
    return fields


def _auth(user: str, roles: list[str] | None = None, key: str | None = None
          ) -> dict[str, str]:
    token = issue_token(SECRET, user, roles or [], now_s=int(time.time()), ttl_s=600)
    return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}


async def test_the_pool_through_the_gateway_and_the_real_service(stack: Stack) -> None:
    week = iso_week_of_ms(int(time.time() * 1000))
    next_year = f"{int(week[:4]) + 1}-W10"
    ops = ["operator"]
    async with httpx.AsyncClient(base_url=stack.base, timeout=60) as http:
        before = await http.get("/v1/creators/alice/estimate", headers=_auth("alice"))
        assert before.status_code == 200, before.text
        assert (before.json()["week"], before.json()["estimated_minor"]) == (week, 0)
        assert (await http.get("/v1/creators/alice/estimate", headers=_auth("bob"))
                ).status_code == 403

        funding = {"week": week, "amount_minor": 5_000_000, "asset": "USDT"}
        first = await http.post("/v1/operator/pool/fundings", json=funding,
                                headers=_auth("ops", ops, "fund-1"))
        again = await http.post("/v1/operator/pool/fundings", json=funding,
                                headers=_auth("ops", ops, "fund-1"))
        assert first.status_code == 201, first.text
        assert (first.json()["applied"], first.json()["funded_minor"]) == (True, 5_000_000)
        assert (again.json()["applied"], again.json()["funded_minor"]) == (False, 5_000_000)
        btc = await http.post("/v1/operator/pool/fundings", json={**funding, "asset": "BTC"},
                              headers=_auth("ops", ops, "fund-2"))
        assert btc.status_code == 422 and "quote asset" in btc.json()["error"]
        assert (await http.post("/v1/operator/pool/fundings", json=funding,
                                headers=_auth("alice", key="fund-3"))).status_code == 403

        funded = await http.get("/v1/creators/alice/estimate", headers=_auth("alice"))
        assert funded.json()["pool_minor"] == 5_000_000 and funded.json()["asset"] == "USDT"

        answers = {
            "policy for this week": await http.post(
                "/v1/operator/pool/policies", headers=_auth("ops", ops),
                json={"version": "now", "effective_week": week, "policy": _knobs()}),
            "not a policy": await http.post(
                "/v1/operator/pool/policies", headers=_auth("ops", ops),
                json={"version": "bad", "effective_week": next_year, "policy": {}}),
            "close a week not started": await http.post(
                f"/v1/operator/pool/weeks/{next_year}/close", json={"reason": "test"},
                headers=_auth("ops", ops, "close-1")),
            "held without a result": await http.post(
                f"/v1/operator/pool/weeks/{OLD_WEEK}/held/alice",
                json={"decision": "forfeit", "reason": "test"},
                headers=_auth("ops", ops, "held-1")),
            "no settled week": await http.get(f"/v1/creators/alice/pool/weeks/{OLD_WEEK}",
                                              headers=_auth("alice")),
        }
        assert {what: a.status_code for what, a in answers.items()} == {
            "policy for this week": 409, "not a policy": 422,
            "close a week not started": 409, "held without a result": 404,
            "no settled week": 404}
        assert all(a.json()["error"] for a in answers.values())
        future = {"version": "v-next", "effective_week": next_year, "policy": _knobs()}
        published = [await http.post("/v1/operator/pool/policies", json=future,
                                     headers=_auth("ops", ops)) for _ in range(2)]
        assert [p.status_code for p in published] == [201, 201]
        assert published[0].json() == published[1].json()  # the repeat answers the first
        assert published[0].json()["policy"]["min_dwell_seconds"] == 5
        for path, user in (("/v1/pool/weeks", _auth("bob")),
                           ("/v1/creators/alice/pool/weeks", _auth("alice")),
                           ("/v1/creators/alice/pool/items", _auth("ops", ops)),
                           ("/v1/creators/alice/center", _auth("alice")),
                           (f"/v1/operator/pool/weeks/{OLD_WEEK}/late", _auth("ops", ops))):
            answer = await http.get(path, headers=user)
            assert answer.status_code == 200, (path, answer.text)
        assert (await http.get("/v1/pool/weeks", headers=_auth("bob"))).json() == {
            "weeks": [], "next_before_week": None}

    token = _auth("alice")["Authorization"].removeprefix("Bearer ")
    ws_url = stack.base.replace("http", "ws") + "/v1/ws/creators/alice/estimate"
    async with websockets.connect(ws_url, subprotocols=[
            "planet.v1", f"bearer.{token}"]) as ws:
        current: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert current["pool_minor"] == 5_000_000
        written = pool.CreatorEstimate(
            week=week, creator_id="alice", as_of_ms=int(time.time() * 1000),
            estimated_minor=1_234, score=7, asset="USDT", pool_minor=5_000_000,
            items=[pool.ItemAmount(item_id="post_" + "a" * 24, amount_minor=1_234)])
        await stack.records.send([(ESTIMATES, "alice", written)])
        pushed = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert pushed["estimated_minor"] == 1_234
        assert pushed["breakdown"]["items"][0]["amount_minor"] == 1_234

    async with httpx.AsyncClient(base_url=stack.base, timeout=60) as http:
        async def served() -> int:
            got = await http.get("/v1/creators/alice/estimate", headers=_auth("alice"))
            return int(got.json()["estimated_minor"])

        await poll_until(served, lambda minor: minor == 1_234, 60,
                         "the read side never served the written estimate")

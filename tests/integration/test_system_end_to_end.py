"""What users rely on, over HTTP against the running stack."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from system_helpers import eventually, mint, unique

from devstack.stack import Stack
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import EXCHANGE
from simulators.exchange.facts import ExchangeTopics, publish_fee, publish_kyc

pytestmark = [pytest.mark.system, pytest.mark.kafka]


def exchange_facts(stack: Stack, kyc: list[str], fees: list[tuple[str, int, str]]) -> None:
    """The exchange (another system) reports KYC and trade fees on its own topics."""

    async def go() -> None:
        topics = ExchangeTopics.with_suffix(stack.topic_suffix)
        producer = make_producer(stack.bootstrap, writer=EXCHANGE)
        await producer.start()
        try:
            for user in kyc:
                await publish_kyc(producer, topics, user)
            for user, amount, fee_id in fees:
                await publish_fee(producer, topics, user, amount, fee_id=fee_id)
        finally:
            await producer.stop()

    asyncio.run(go())


def publish(api: httpx.Client, creator: str, body: str) -> str:
    resp = api.post("/v1/posts", json={"body": body, "hashtags": ["btc"]},
                    headers={**mint(api, creator), "Idempotency-Key": unique("req")})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["post_id"])


def views(api: httpx.Client, consumer: str, item: str, dwell: list[int],
          likes: int = 0, batch_id: str | None = None, ids: list[str] | None = None) -> None:
    now = int(time.time() * 1000)
    events: list[dict[str, Any]] = [
        {"event_id": f"{consumer}-v{i}", "item_id": item, "occurred_at_ms": now - 1000 + i,
         "type": "view", "dwell_seconds": d} for i, d in enumerate(dwell)]
    events += [{"event_id": f"{consumer}-l{i}", "item_id": item, "occurred_at_ms": now,
                "type": "interaction", "interaction": "like"} for i in range(likes)]
    if ids is not None:
        for ev, eid in zip(events, ids, strict=False):
            ev["event_id"] = eid
    resp = api.post("/v1/telemetry/batches", headers=mint(api, consumer),
                    json={"batch_id": batch_id or unique("batch"), "events": events})
    assert resp.status_code == 202, resp.text


def estimate(api: httpx.Client, creator: str) -> dict[str, Any]:
    resp = api.get(f"/v1/creators/{creator}/estimate", headers=mint(api, creator))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_post_view_interaction_and_fee_move_the_creators_week(
    stack: Stack, api: httpx.Client
) -> None:
    creator, consumer = unique("creator"), unique("consumer")
    post = publish(api, creator, "ETH range, watching 3.2k")
    eventually(lambda: estimate(api, creator), lambda e: e["posts"] == 1)

    views(api, consumer, post, [40, 20], likes=1)
    engaged = eventually(lambda: estimate(api, creator),
                         lambda e: e["views"] == 2 and e["interactions"] == 1)
    assert engaged["dwell_seconds"] == 60 and engaged["engaged_consumers"] == 1
    assert engaged["score_milli"] > 0

    # The consumer trades: a KYC-verified consumer's fees raise their weight.
    exchange_facts(stack, [consumer], [(consumer, 500_000, unique("fee"))])
    weighted = eventually(lambda: estimate(api, creator),
                          lambda e: e["score_milli"] > engaged["score_milli"])
    assert weighted["views"] == 2 and weighted["dwell_seconds"] == 60


def test_retried_batch_and_duplicate_event_ids_count_once(stack: Stack, api: httpx.Client) -> None:
    creator, consumer = unique("creator"), unique("consumer")
    post = publish(api, creator, "Macro note")
    batch = unique("batch")
    views(api, consumer, post, [30, 30], batch_id=batch)
    views(api, consumer, post, [30, 30], batch_id=batch)  # the client retried the whole batch
    views(api, consumer, post, [30, 15], ids=[f"{consumer}-v0", f"{consumer}-new"])
    eventually(lambda: estimate(api, creator), lambda e: e["views"] >= 3)
    # A marker sent afterwards proves everything before it was processed.
    views(api, consumer, post, [5], ids=[f"{consumer}-marker"])
    final = eventually(lambda: estimate(api, creator), lambda e: e["views"] >= 4)
    assert (final["views"], final["dwell_seconds"]) == (4, 30 + 30 + 15 + 5)


def test_crash_and_restart_of_the_processors_changes_no_result(
    stack: Stack, api: httpx.Client
) -> None:
    creator = unique("creator")
    post = publish(api, creator, "Long-form: why funding rates matter")
    consumers = [unique("consumer") for _ in range(30)]
    for i, consumer in enumerate(consumers[:15]):
        views(api, consumer, post, [10 + i])
    stack.kill("aggregator")
    stack.kill("incentive")
    for i, consumer in enumerate(consumers[15:], start=15):
        views(api, consumer, post, [10 + i], likes=1)
    stack.start("incentive")
    stack.start("aggregator")
    expected_dwell = sum(10 + i for i in range(30))
    final = eventually(lambda: estimate(api, creator),
                       lambda e: e["views"] >= 30 and e["interactions"] >= 15, timeout_s=120)
    assert (final["views"], final["dwell_seconds"], final["interactions"]) == (
        30, expected_dwell, 15)
    assert final["engaged_consumers"] == 30


def test_bad_input_gets_a_clear_4xx(stack: Stack, api: httpx.Client) -> None:
    creator = unique("creator")
    no_auth = api.post("/v1/posts", json={"body": "x"}, headers={"Idempotency-Key": "k"})
    assert no_auth.status_code == 401 and no_auth.json()["error"]
    malformed = api.post("/v1/posts", content=b"{not json",
                         headers={**mint(api, creator), "Idempotency-Key": "k",
                                  "Content-Type": "application/json"})
    assert malformed.status_code == 422 and malformed.json()["error"]
    def view_of(item_id: str) -> httpx.Response:
        return api.post("/v1/telemetry/batches", headers=mint(api, unique("consumer")),
                        json={"batch_id": "b", "events": [{
                            "event_id": "e", "item_id": item_id,
                            "occurred_at_ms": int(time.time() * 1000), "type": "view",
                            "dwell_seconds": 3}]})

    # An id Planet could have issued but did not, and one it never could issue.
    unknown_item = view_of("post_" + "0" * 24)
    assert unknown_item.status_code == 422
    assert "post_" + "0" * 24 in unknown_item.json()["error"]
    impossible_item = view_of("post_does_not_exist")
    assert impossible_item.status_code == 422
    assert "item_id" in impossible_item.json()["error"]
    huge = api.post("/v1/posts", content=b"x" * (2 * 1024 * 1024),
                    headers={**mint(api, creator), "Idempotency-Key": "k",
                             "Content-Type": "application/json"})
    assert huge.status_code == 413


def test_websocket_pushes_the_estimate_when_it_changes(stack: Stack, api: httpx.Client) -> None:
    from websockets.sync.client import connect

    creator, consumer = unique("creator"), unique("consumer")
    post = publish(api, creator, "Live later today")
    token = mint(api, creator)["Authorization"].split()[1]
    url = stack.gateway_url.replace("http", "ws") + (
        f"/v1/ws/creators/{creator}/estimate?token={token}")
    with connect(url, open_timeout=10) as ws:
        first = json.loads(ws.recv(timeout=20))
        assert first["creator_id"] == creator
        views(api, consumer, post, [25])
        deadline = time.monotonic() + 60
        while True:
            update = json.loads(ws.recv(timeout=max(1.0, deadline - time.monotonic())))
            if update["views"] == 1:
                break
        assert update["dwell_seconds"] == 25

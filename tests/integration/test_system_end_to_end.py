"""What users rely on, over HTTP against the running stack."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from system_helpers import become_creator, eventually, kyc, mint, open_identity, unique

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


def publish(stack: Stack, api: httpx.Client, creator: str, body: str) -> str:
    """A post by ``creator``, who first passes KYC and opens an identity (once)."""
    become_creator(stack, api, creator)
    resp = api.post("/v1/posts", json={"body": body, "hashtags": ["btc"]},
                    headers={**mint(api, creator), "Idempotency-Key": unique("req")})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["post_id"])


def views(api: httpx.Client, consumer: str, item: str, dwell: list[int],
          batch_id: str | None = None, ids: list[str] | None = None) -> None:
    now = int(time.time() * 1000)
    events: list[dict[str, Any]] = [
        {"event_id": f"{consumer}-v{i}", "item_id": item, "occurred_at_ms": now - 1000 + i,
         "type": "view", "dwell_seconds": d} for i, d in enumerate(dwell)]
    if ids is not None:
        for ev, eid in zip(events, ids, strict=False):
            ev["event_id"] = eid
    resp = api.post("/v1/telemetry/batches", headers=mint(api, consumer),
                    json={"batch_id": batch_id or unique("batch"), "events": events})
    assert resp.status_code == 202, resp.text


def estimate(api: httpx.Client, creator: str) -> dict[str, Any]:
    """The creator's running estimate, with its raw activity flattened in (views, dwell,
    unique viewers) next to the model's score and amount."""
    resp = api.get(f"/v1/creators/{creator}/estimate", headers=mint(api, creator))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    activity = body.get("activity") or {}
    return {**body, "views": activity.get("views", 0),
            "dwell_seconds": activity.get("dwell_seconds", 0),
            "unique_viewers": activity.get("unique_viewers", 0)}


def test_post_view_interaction_and_fee_move_the_creators_week(
    stack: Stack, api: httpx.Client
) -> None:
    creator, consumer = unique("creator"), unique("consumer")
    post = publish(stack, api, creator, "ETH range, watching 3.2k")

    # Telemetry carries views only; likes and comments are content's facts (issue 13).
    views(api, consumer, post, [40, 20])
    # An unverified consumer has no value weight (policy v1): seen, counted, not scored. (The
    # creator's KYC and identity reach the pool's statuses a moment after they happen: until
    # then the same views show as creator_ineligible.)
    engaged = eventually(lambda: estimate(api, creator), lambda e: e["views"] == 2 and
                         "no_value_weight" in {d["reason"] for d in e["breakdown"]["discounts"]})
    assert engaged["dwell_seconds"] == 60 and engaged["unique_viewers"] == 1
    assert engaged["score"] == 0

    # The consumer passes KYC and trades: their weight now scores the creator.
    exchange_facts(stack, [consumer], [(consumer, 500_000, unique("fee"))])
    weighted = eventually(lambda: estimate(api, creator), lambda e: e["score"] > 0)
    assert weighted["views"] == 2 and weighted["dwell_seconds"] == 60


def test_retried_batch_and_duplicate_event_ids_count_once(stack: Stack, api: httpx.Client) -> None:
    creator, consumer = unique("creator"), unique("consumer")
    post = publish(stack, api, creator, "Macro note")
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
    post = publish(stack, api, creator, "Long-form: why funding rates matter")
    consumers = [unique("consumer") for _ in range(30)]
    for i, consumer in enumerate(consumers[:15]):
        views(api, consumer, post, [10 + i])
    stack.kill("aggregator")
    stack.kill("incentive")
    for i, consumer in enumerate(consumers[15:], start=15):
        views(api, consumer, post, [10 + i])
    stack.start("incentive")
    stack.start("aggregator")
    expected_dwell = sum(10 + i for i in range(30))
    final = eventually(lambda: estimate(api, creator),
                       lambda e: e["views"] >= 30, timeout_s=120)
    assert (final["views"], final["dwell_seconds"]) == (30, expected_dwell)
    assert final["unique_viewers"] == 30


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
    post = publish(stack, api, creator, "Live later today")
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
            if (update.get("activity") or {}).get("views") == 1:
                break
        assert update["activity"]["dwell_seconds"] == 25


def test_only_a_kyc_verified_creator_with_an_open_identity_publishes(
    stack: Stack, api: httpx.Client
) -> None:
    creator = unique("gated")
    post = {"body": "gm", "hashtags": []}

    def publish_once() -> httpx.Response:
        return api.post("/v1/posts", json=post,
                        headers={**mint(api, creator), "Idempotency-Key": unique("req")})

    # No identity yet: refused, naming what to do.
    refused = publish_once()
    assert refused.status_code == 403 and "open a creator identity first" in refused.text
    # No KYC: opening an identity is refused, naming the reason.
    no_kyc = api.post("/v1/creators/me/identity", headers=mint(api, creator),
                      json={"handle": f"g_{creator[-8:]}", "display_name": "Gated"})
    assert no_kyc.status_code == 403 and "KYC verification required" in no_kyc.text

    kyc(stack, creator)
    opened = open_identity(api, creator, f"g_{creator[-8:]}")
    assert opened.status_code == 201, opened.text
    assert opened.json()["status"] == "open"
    assert publish_once().status_code == 201
    page = api.get(f"/v1/creators/g_{creator[-8:]}", headers=mint(api, unique("visitor")))
    assert page.status_code == 200 and page.json()["user_id"] == creator
    # A visitor follows the creator (twice: counted once); the home page shows it at once.
    fan = mint(api, unique("fan"))
    for _ in range(2):
        followed = api.put(f"/v1/creators/{creator}/follow", headers=fan)
        assert followed.status_code == 200, followed.text
        assert followed.json()["creator_follower_count"] == 1
    page = api.get(f"/v1/creators/g_{creator[-8:]}", headers=fan)
    assert page.json()["follower_count"] == 1 and page.json()["following_count"] == 0
    followers = api.get(f"/v1/creators/{creator}/followers", headers=fan)
    assert followers.status_code == 200 and len(followers.json()["user_ids"]) == 1
    taken = api.post("/v1/creators/me/identity", headers=mint(api, unique("other")),
                     json={"handle": "x", "display_name": "X"})
    assert taken.status_code == 422  # too short a handle, refused before any backend

    # An operator suspends the identity: publishing is refused until reinstated.
    operator = mint(api, unique("op"), ["operator"])
    suspended = api.post(f"/v1/operator/identities/{creator}/suspend",
                         json={"reason": "spam"}, headers=operator)
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    blocked = publish_once()
    assert blocked.status_code == 403 and "identity suspended" in blocked.text
    assert api.post(f"/v1/operator/identities/{creator}/reinstate", json={"reason": "ok"},
                    headers=operator).status_code == 200
    assert publish_once().status_code == 201


def test_a_sanctioned_account_sees_why_and_appeals_once(stack: Stack, api: httpx.Client) -> None:
    user = unique("sanctioned")
    operator = mint(api, unique("op"), ["operator"])
    made = api.post(f"/v1/operator/accounts/{user}/sanctions", headers=operator,
                    json={"reason": "spam in comments"})
    assert made.status_code == 201, made.text
    sanction_id = made.json()["sanction_id"]
    mine = api.get("/v1/me/sanctions", headers=mint(api, user)).json()["sanctions"]
    assert [(s["reason"], s["status"], s["operator_id"] != "") for s in mine] == [
        ("spam in comments", "active", True)]
    first = api.post(f"/v1/me/sanctions/{sanction_id}/appeal", headers=mint(api, user),
                     json={"text": "it was a quote"})
    assert first.status_code == 200 and first.json()["appealed"]
    again = api.post(f"/v1/me/sanctions/{sanction_id}/appeal", headers=mint(api, user),
                     json={"text": "please"})
    assert again.status_code == 409
    # Nobody else sees or appeals it.
    assert api.get("/v1/me/sanctions", headers=mint(api, unique("x"))).json() == {
        "sanctions": []}
    lifted = api.delete(f"/v1/operator/accounts/{user}/sanctions/{sanction_id}",
                        params={"reason": "appeal granted"}, headers=operator)
    assert lifted.status_code == 200 and lifted.json()["status"] == "lifted"

"""A small demo data set, entered the way real clients and the exchange would."""

from __future__ import annotations

import time
import uuid

import httpx

from planetkit.kafka.producer import make_producer
from planetkit.service_identities import EXCHANGE
from simulators.exchange.facts import ExchangeTopics, publish_fee, publish_kyc


def token(client: httpx.Client, user_id: str, roles: list[str]) -> str:
    """A dev-mode token for ``user_id``."""
    resp = client.post("/v1/dev/tokens", json={"user_id": user_id, "roles": roles})
    resp.raise_for_status()
    return str(resp.json()["token"])


def auth(tok: str) -> dict[str, str]:
    """Bearer header."""
    return {"Authorization": f"Bearer {tok}"}


async def seed_exchange(bootstrap: str, topic_suffix: str) -> None:
    """KYC for every demo user and some trading fees for two consumers."""
    topics = ExchangeTopics.with_suffix(topic_suffix)
    producer = make_producer(bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        for user in ("alice", "bob", "carol", "dave"):
            await publish_kyc(producer, topics, user)
        await publish_fee(producer, topics, "carol", 125_000, fee_id="seed-fee-carol-1")
        await publish_fee(producer, topics, "dave", 4_000, fee_id="seed-fee-dave-1")
    finally:
        await producer.stop()


CREATORS: dict[str, dict[str, object]] = {
    "alice": {"handle": "alice_charts", "display_name": "Alice Charts",
              "bio": "BTC structure, weekly.", "topics": ["btc", "ta"]},
    "bob": {"handle": "bob_macro", "display_name": "Bob Macro",
            "bio": "Rates, liquidity, patience.", "topics": ["macro"]},
}


def open_identity(client: httpx.Client, tok: str, body: dict[str, object],
                  timeout_s: float = 30) -> None:
    """Open a creator identity once social has read the user's KYC fact (it reads the
    exchange's topic a moment after the fact is logged); an identity already open is fine."""
    deadline = time.monotonic() + timeout_s
    while True:
        resp = client.post("/v1/creators/me/identity", json=body, headers=auth(tok))
        if resp.status_code in (201, 409):
            return
        if resp.status_code != 403 or time.monotonic() > deadline:
            resp.raise_for_status()
            raise RuntimeError(f"opening an identity answered {resp.status_code}: {resp.text}")
        time.sleep(0.2)


def seed_content(base_url: str) -> dict[str, str]:
    """Two creators' identities and posts; views, a like, a comment, a reply and a share.

    The exchange's KYC facts (seed_exchange) come first: only a verified user opens an
    identity, and only an identity publishes.
    """
    now = int(time.time() * 1000)
    with httpx.Client(base_url=base_url, timeout=10) as client:
        alice, bob = token(client, "alice", ["creator"]), token(client, "bob", ["creator"])
        for user, tok in (("alice", alice), ("bob", bob)):
            open_identity(client, tok, CREATORS[user])
        posts = {}
        samples: list[tuple[str, str, dict[str, object]]] = [
            (alice, alice, {"kind": "article", "title": "BTC weekly structure",
                            "body": "Range high rejected twice; watching 92k for a retest.",
                            "hashtags": ["btc", "ta"], "components": [{"trade_idea": {
                                "pair": "BTC/USDT", "side": "long", "entry": "92000",
                                "target": "99000", "stop": "89500"}}]}),
            (bob, bob, {"body": "Macro: rate cut odds moved again. Stay patient.",
                        "hashtags": ["macro"]}),
        ]
        for n, (author, tok, body) in enumerate(samples):
            resp = client.post("/v1/posts", json=body,
                               headers={**auth(tok), "Idempotency-Key": f"seed-post-{n}"})
            resp.raise_for_status()
            posts[author] = resp.json()["post_id"]
        a_post, b_post = posts[alice], posts[bob]
        # Views (with dwell) are telemetry; comments, likes and shares are actions taken
        # through the interaction routes and recorded by content.
        for consumer, views in [("carol", [(a_post, 95), (b_post, 30)]),
                                ("dave", [(b_post, 240)])]:
            tok = token(client, consumer, [])
            batch = [{"event_id": f"seed-{consumer}-{i}", "item_id": item,
                      "occurred_at_ms": now - 60_000 + i, "type": "view", "dwell_seconds": dwell}
                     for i, (item, dwell) in enumerate(views)]
            resp = client.post("/v1/telemetry/batches", headers=auth(tok),
                               json={"batch_id": f"seed-{consumer}-{uuid.uuid4().hex[:6]}",
                                     "events": batch})
            resp.raise_for_status()
        carol, dave = token(client, "carol", []), token(client, "dave", [])
        client.put(f"/v1/posts/{a_post}/like", headers=auth(carol)).raise_for_status()
        comment = client.post(f"/v1/posts/{a_post}/comments",
                              json={"text": "Clean levels. Where would you add on a retest?"},
                              headers={**auth(carol), "Idempotency-Key": "seed-comment-0"})
        comment.raise_for_status()
        client.post(f"/v1/posts/{a_post}/comments",
                    json={"text": "Only above 92k on a daily close.",
                          "parent_comment_id": comment.json()["comment_id"]},
                    headers={**auth(alice), "Idempotency-Key": "seed-reply-0"}
                    ).raise_for_status()
        client.post(f"/v1/posts/{b_post}/shares", json={"quote": "Worth a read"},
                    headers={**auth(dave), "Idempotency-Key": "seed-share-0"}
                    ).raise_for_status()
    return {"alice_post": a_post, "bob_post": b_post}

"""Helpers for the system tests: tokens, polling to a deadline, unique ids."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import httpx

from devstack.stack import Stack

T = TypeVar("T")


def mint(api: httpx.Client, user_id: str, roles: list[str] | None = None) -> dict[str, str]:
    """Authorization header for ``user_id`` (dev-mode token endpoint)."""
    resp = api.post("/v1/dev/tokens", json={"user_id": user_id, "roles": roles or []})
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def eventually(probe: Callable[[], T], accept: Callable[[T], bool], timeout_s: float = 60) -> T:
    """Poll ``probe`` until ``accept`` holds (no fixed sleeps); fail with the last value."""
    deadline = time.monotonic() + timeout_s
    last = probe()
    while not accept(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout_s}s; last value: {last!r}")
        time.sleep(0.3)
        last = probe()
    return last


def unique(prefix: str) -> str:
    """An id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def kyc(stack: Stack, *users: str) -> None:
    """The exchange (its simulator) reports that ``users`` passed KYC."""
    import asyncio

    from planetkit.kafka.producer import make_producer
    from planetkit.service_identities import EXCHANGE
    from simulators.exchange.facts import ExchangeTopics, publish_kyc

    async def go() -> None:
        producer = make_producer(stack.bootstrap, writer=EXCHANGE)
        await producer.start()
        try:
            for user in users:
                await publish_kyc(producer, ExchangeTopics.with_suffix(stack.topic_suffix), user)
        finally:
            await producer.stop()

    asyncio.run(go())


def handle_for(user_id: str) -> str:
    """A valid, unique handle for a test user."""
    import hashlib

    return "h_" + hashlib.sha256(user_id.encode()).hexdigest()[:16]


def open_identity(api: httpx.Client, user_id: str, handle: str | None = None,
                  timeout_s: float = 30) -> httpx.Response:
    """Open ``user_id``'s creator identity once social has read their KYC fact."""
    body = {"handle": handle or handle_for(user_id), "display_name": f"{user_id[:40]}",
            "bio": "trades", "links": ["https://example.com/me"], "topics": ["btc"]}
    return eventually(
        lambda: api.post("/v1/creators/me/identity", json=body, headers=mint(api, user_id)),
        lambda r: r.status_code != 403, timeout_s)


_CREATORS: set[tuple[str, str]] = set()


def become_creator(stack: Stack, api: httpx.Client, user_id: str) -> None:
    """KYC then an open identity, as a creator must have before publishing (once per user)."""
    if (stack.topic_suffix, user_id) in _CREATORS:
        return
    kyc(stack, user_id)
    opened = open_identity(api, user_id)
    assert opened.status_code in (201, 409), opened.text
    _CREATORS.add((stack.topic_suffix, user_id))

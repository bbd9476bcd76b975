"""The real social service for tests of it and of what needs creators (content, auth).

A test that publishes needs creators the way production has them: the exchange's KYC fact
(as the exchange simulator writes it) and an identity opened through SocialService.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable
from pathlib import Path

import grpc

from planet.social.v1 import events_pb2 as ev
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import EXCHANGE, GATEWAY, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import (
    FILLS,
    GROUP_EVENTS,
    INTERACTIONS,
    KYC,
    MODERATION,
    POSTS,
    SOCIAL_BLOCKS,
    SOCIAL_GRAPH,
    SOCIAL_HANDLES,
    SOCIAL_IDENTITIES,
    SOCIAL_NOTIFICATIONS,
    with_suffix,
)
from services.social.bootstrap import RunningSocial, start
from services.social.settings import SocialSettings
from simulators.exchange.facts import ExchangeTopics, publish_kyc


def signed(auth: DevServiceAuth, user: str, roles: tuple[str, ...] = (),
           service: str = GATEWAY) -> tuple[tuple[str, str]]:
    """Metadata of a call to social made by ``service`` for ``user``."""
    return auth.metadata(SOCIAL, user, list(roles), as_=service)


def handle_for(user_id: str) -> str:
    """A valid handle for any user id (tests' creators)."""
    return "h_" + hashlib.sha256(user_id.encode()).hexdigest()[:16]


async def ensure_social_topics(bootstrap: str, suffix: str) -> None:
    """The topics social reads and writes, created as the topics tool would."""
    topics = (SOCIAL_IDENTITIES, SOCIAL_HANDLES, KYC, SOCIAL_GRAPH, SOCIAL_BLOCKS, FILLS,
              POSTS, SOCIAL_NOTIFICATIONS, INTERACTIONS, MODERATION, GROUP_EVENTS)
    await ensure_topics(bootstrap, [with_suffix(t, suffix) for t in topics])


async def start_social(bootstrap: str, suffix: str, auth: DevServiceAuth,
                       data_dir: Path | None) -> RunningSocial:
    """Social on a free port over this test's topics."""
    await ensure_social_topics(bootstrap, suffix)
    return await start(SocialSettings(
        grpc_port=0, shutdown_grace_s=0, data_dir=data_dir, auth=auth.settings(SOCIAL),
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        topics=TopicSettings(topic_suffix=suffix)))


async def publish_kyc_for(bootstrap: str, suffix: str, users: Iterable[str]) -> None:
    """The exchange reports that ``users`` passed KYC."""
    producer = make_producer(bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        for user in users:
            await publish_kyc(producer, ExchangeTopics.with_suffix(suffix), user)
    finally:
        await producer.stop()


def open_request(user: str, handle: str) -> rpc.OpenIdentityRequest:
    """An identity with a full profile."""
    return rpc.OpenIdentityRequest(user_id=user, handle=handle, profile=ev.Profile(
        display_name=f"{user} trades", bio="swing trades",
        avatar_url="https://cdn.example/a.png", links=["https://example.com/me"],
        topics=["BTC", "macro"]))


async def open_when_verified(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth,
                             user: str, handle: str, timeout_s: float = 30) -> rpc.Identity:
    """Open once social has read the user's KYC fact (its tail reads it a moment later)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            identity: rpc.Identity = await stub.OpenIdentity(
                open_request(user, handle), metadata=signed(auth, user), timeout=10)
            return identity
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.FAILED_PRECONDITION or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.1)


async def open_creators(social: RunningSocial, auth: DevServiceAuth, bootstrap: str,
                        suffix: str, users: Iterable[str]) -> None:
    """KYC then an open identity for each user."""
    users = list(users)
    await publish_kyc_for(bootstrap, suffix, users)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        for user in users:
            await open_when_verified(stub, auth, user, handle_for(user))

"""The real social service on a free loopback port, against the real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import EXCHANGE, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import KYC, SOCIAL_HANDLES, SOCIAL_IDENTITIES, with_suffix
from services.social.bootstrap import RunningSocial, start
from services.social.settings import SocialSettings
from simulators.exchange.facts import ExchangeTopics, publish_kyc

StartSocial = Callable[[], Awaitable[RunningSocial]]
Kyc = Callable[[str], Awaitable[None]]


@pytest.fixture
def service_auth(tmp_path: Path) -> DevServiceAuth:
    """Fresh service keys: social trusts them, the test signs as the gateway or content."""
    return DevServiceAuth.create(tmp_path / "service-auth")


@pytest.fixture
async def social_topics(kafka_bootstrap: str, topic_suffix: str) -> None:
    """This test's topics, created as the topics tool would (services create none)."""
    await ensure_topics(kafka_bootstrap, [with_suffix(t, topic_suffix)
                                          for t in (SOCIAL_IDENTITIES, SOCIAL_HANDLES, KYC)])


@pytest.fixture
async def start_social(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth, social_topics: None,
    tmp_path: Path,
) -> AsyncIterator[StartSocial]:
    """Starts social on this test's topics with stores in this test's directory (a second
    start is a restart); stops whatever still runs."""
    running: list[RunningSocial] = []

    async def _start() -> RunningSocial:
        service = await start(SocialSettings(
            grpc_port=0, shutdown_grace_s=0, data_dir=tmp_path / "social-data",
            auth=service_auth.settings(SOCIAL),
            kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
            topics=TopicSettings(topic_suffix=topic_suffix)))
        running.append(service)
        return service

    yield _start
    for service in running:
        if not service.task.done():
            await service.stop()


@pytest.fixture
async def kyc(kafka_bootstrap: str, topic_suffix: str,
              social_topics: None) -> AsyncIterator[Kyc]:
    """Publishes the exchange's KycVerified for a user (as the exchange simulator does)."""
    producer = make_producer(kafka_bootstrap, writer=EXCHANGE)
    await producer.start()
    topics = ExchangeTopics.with_suffix(topic_suffix)

    async def _kyc(user_id: str) -> None:
        await publish_kyc(producer, topics, user_id)

    yield _kyc
    await producer.stop()

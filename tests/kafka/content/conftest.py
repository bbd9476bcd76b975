"""Real content replicas on free loopback ports, against the real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from content_harness import CREATORS, StartContent
from topics_harness import topic_side

from planetkit.kafka.admin import ensure_topics
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import AUTHOR_POSTS, DRAFTS, INTERACTIONS, MODERATION, POSTS, with_suffix
from services.content.bootstrap import RunningContent, start
from services.content.settings import ContentSettings
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import open_creators, start_social


@pytest.fixture
def service_auth(tmp_path: Path) -> DevServiceAuth:
    """Fresh service keys: the content service trusts them, the test signs with the gateway's."""
    return DevServiceAuth.create(tmp_path / "service-auth")


@pytest.fixture
async def posts_topic(kafka_bootstrap: str, topic_suffix: str) -> str:
    """This test's posts topic (and its per-author copy), created as the topics tool would
    (services create none)."""
    topic = with_suffix(POSTS, topic_suffix)
    await ensure_topics(kafka_bootstrap, [topic, with_suffix(AUTHOR_POSTS, topic_suffix),
                                          with_suffix(INTERACTIONS, topic_suffix),
                                          with_suffix(DRAFTS, topic_suffix),
                                          with_suffix(MODERATION, topic_suffix)])
    # Topics, arenas, instruments (the demo list: trade ideas name listed pairs), sanctions.
    await topic_side(kafka_bootstrap, topic_suffix)
    return topic.name


@pytest.fixture
async def social(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth,
) -> AsyncIterator[RunningSocial]:
    """The real social service, asked before every publish; the test's creators have passed
    KYC and opened their identities."""
    service = await start_social(kafka_bootstrap, topic_suffix, service_auth, None)
    try:
        await open_creators(service, service_auth, kafka_bootstrap, topic_suffix, CREATORS)
        yield service
    finally:
        await service.stop()


def content_settings(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth, data_dir: Path | None,
    social_port: int,
) -> ContentSettings:
    """A replica's settings for this test: free port, this test's topics and group."""
    return ContentSettings(
        grpc_host="127.0.0.1",
        grpc_port=0,
        shutdown_grace_s=0,
        data_dir=data_dir,
        session_timeout_ms=6_000,
        social_addr=f"127.0.0.1:{social_port}",
        auth=service_auth.settings(CONTENT),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        topics=TopicSettings(topic_suffix=topic_suffix),
    )


@pytest.fixture
async def start_content(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth, posts_topic: str,
    tmp_path: Path, social: RunningSocial,
) -> AsyncIterator[StartContent]:
    """Starts content replicas on this test's topics; stops whatever is still running.

    ``start_content()`` keeps its stores in this test's ``content-data`` directory, so a
    second start is a restart; ``start_content(data_dir=None)`` uses temporary stores.
    """
    running: list[RunningContent] = []
    default = tmp_path / "content-data"

    async def _start(data_dir: Path | None = default) -> RunningContent:
        service = await start(content_settings(kafka_bootstrap, topic_suffix, service_auth,
                                               data_dir, social.port))
        running.append(service)
        return service

    yield _start
    for service in running:
        if not service.task.done():
            await service.stop()

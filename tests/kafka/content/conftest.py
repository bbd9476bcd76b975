"""A real content service on a free loopback port, against the real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from planetkit.settings import KafkaSettings, TopicSettings
from services.content.bootstrap import RunningContent, start
from services.content.settings import ContentSettings

StartContent = Callable[[], Awaitable[RunningContent]]


@pytest.fixture
def service_auth(tmp_path: Path) -> DevServiceAuth:
    """Fresh service keys: the content service trusts them, the test signs with the gateway's."""
    return DevServiceAuth.create(tmp_path / "service-auth")


@pytest.fixture
async def start_content(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth
) -> AsyncIterator[StartContent]:
    """Starts content services on this test's topics; stops whatever is still running."""
    running: list[RunningContent] = []

    async def _start() -> RunningContent:
        settings = ContentSettings(
            grpc_host="127.0.0.1",
            grpc_port=0,
            shutdown_grace_s=0,
            auth=service_auth.settings(CONTENT),
            kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
            topics=TopicSettings(topic_suffix=topic_suffix),
        )
        service = await start(settings)
        running.append(service)
        return service

    yield _start
    for service in running:
        await service.stop()

"""The real social service on a free loopback port, against the real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from planetkit.service_auth_dev import DevServiceAuth
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import publish_kyc_for, start_social


@pytest.fixture
def service_auth(tmp_path: Path) -> DevServiceAuth:
    """Fresh service keys: social trusts them, the test signs as the gateway or content."""
    return DevServiceAuth.create(tmp_path / "service-auth")


@pytest.fixture
async def social_service(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth, tmp_path: Path,
) -> AsyncIterator[Callable[[], Awaitable[RunningSocial]]]:
    """Starts social with stores in this test's directory (a second start is a restart)."""
    running: list[RunningSocial] = []

    async def _start() -> RunningSocial:
        service = await start_social(kafka_bootstrap, topic_suffix, service_auth,
                                     tmp_path / "social-data")
        running.append(service)
        return service

    yield _start
    for service in running:
        if not service.task.done():
            await service.stop()


@pytest.fixture
def kyc(kafka_bootstrap: str, topic_suffix: str) -> Callable[[str], Awaitable[None]]:
    """Publishes the exchange's KycVerified for a user (as the exchange simulator does)."""
    async def _kyc(user_id: str) -> None:
        await publish_kyc_for(kafka_bootstrap, topic_suffix, [user_id])
    return _kyc

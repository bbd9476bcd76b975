"""The real groups and social services on free loopback ports, against the real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from planetkit.service_auth_dev import DevServiceAuth
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import start_groups
from tests.kafka.social.social_harness import start_social


@pytest.fixture
def service_auth(tmp_path: Path) -> DevServiceAuth:
    """Fresh service keys for every identity (groups included)."""
    return DevServiceAuth.create(tmp_path / "service-auth")


@pytest.fixture
async def social(kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth,
                 tmp_path: Path) -> AsyncIterator[RunningSocial]:
    """Social, which groups asks whether a creator holds an open identity."""
    running = await start_social(kafka_bootstrap, topic_suffix, service_auth,
                                 tmp_path / "social-data")
    yield running
    await running.stop()


@pytest.fixture
async def groups_service(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth, tmp_path: Path,
    social: RunningSocial,
) -> AsyncIterator[Callable[..., Awaitable[RunningGroups]]]:
    """Starts groups (stores in this test's directory: a second start is a restart; pass
    another directory for a rebuild from the log)."""
    running: list[RunningGroups] = []

    async def _start(data_dir: Path | None = None) -> RunningGroups:
        service = await start_groups(kafka_bootstrap, topic_suffix, service_auth,
                                     data_dir or tmp_path / "groups-data", social.port)
        running.append(service)
        return service

    yield _start
    for service in running:
        if not service.task.done():
            await service.stop()

"""Fixtures shared by every test layer."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The real broker: KAFKA_BOOTSTRAP_SERVERS, else the one scripts/kafka.sh starts."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    from planetkit.kafka.admin import wait_for_broker

    try:
        asyncio.run(wait_for_broker(bootstrap, timeout_s=30))
    except TimeoutError as exc:
        pytest.fail(f"{exc} (start it with: scripts/kafka.sh start)")
    return bootstrap


@pytest.fixture
def topic_suffix() -> str:
    """A suffix unique to this test, so it gets topics and group ids of its own."""
    return f"t{uuid.uuid4().hex[:10]}"

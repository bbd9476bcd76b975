"""Topic creation and broker readiness."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from planetkit.topics import Topic


async def wait_for_broker(bootstrap: str, timeout_s: float = 60.0) -> None:
    """Return once the cluster answers a metadata request; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaConnectionError, OSError) as exc:
            last = exc
        finally:
            await admin.close()
        await asyncio.sleep(0.5)
    raise TimeoutError(f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s: {last}")


async def ensure_topics(bootstrap: str, topics: Iterable[Topic]) -> None:
    """Create the registered topics that do not exist yet (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if not missing:
            return
        new = []
        for t in missing:
            config = {"retention.ms": str(t.retention_ms)}
            if t.compacted:
                config["cleanup.policy"] = "compact"
            new.append(NewTopic(t.name, t.partitions, 1, topic_configs=config))
        # Another process may create a topic between our list and create.
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new)
        # Metadata propagates asynchronously; wait until every topic is visible.
        for _ in range(100):
            if {t.name for t in missing} <= set(await admin.list_topics()):
                return
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def topic_partition_count(bootstrap: str, topic: str) -> int:
    """How many partitions the cluster says ``topic`` has (0 if it does not exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return len(described.get("partitions", []))

"""Fixtures shared by every test layer."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from planetkit.kafka.admin import wait_for_broker
from planetkit.kafka.topics_tool import create
from planetkit.topics import DEV

LOCAL_BROKER = "127.0.0.1:9092"
# The Kafka image testcontainers starts where a Docker engine is reachable (KRaft mode).
CONTAINER_IMAGE = "confluentinc/cp-kafka:7.6.0"


def _answers(bootstrap: str, timeout_s: float) -> bool:
    try:
        asyncio.run(wait_for_broker(bootstrap, timeout_s=timeout_s))
    except TimeoutError:
        return False
    return True


def _docker_reachable() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:  # no SDK, no socket, no daemon: all mean "no Docker here"
        return False
    return True


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The real broker, never a stand-in.

    KAFKA_BOOTSTRAP_SERVERS when set; else the local broker that scripts/kafka.sh starts
    (what `make test` and CI use on these Docker-less machines); else, where a Docker
    engine is reachable, a Kafka container started by testcontainers.
    """
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        if not _answers(configured, 30):
            pytest.fail(f"Kafka at KAFKA_BOOTSTRAP_SERVERS={configured} does not answer")
        yield configured
        return
    if _answers(LOCAL_BROKER, 10):
        yield LOCAL_BROKER
        return
    if not _docker_reachable():
        pytest.fail(f"no Kafka at {LOCAL_BROKER} and no Docker engine: run scripts/kafka.sh start")
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer(CONTAINER_IMAGE).with_kraft() as kafka:
        bootstrap = kafka.get_bootstrap_server()
        if not _answers(bootstrap, 60):
            pytest.fail(f"the Kafka container at {bootstrap} does not answer")
        yield bootstrap


@pytest.fixture
def topic_suffix() -> str:
    """A suffix unique to this test, so it gets topics and group ids of its own."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def registered_topics(kafka_bootstrap: str, topic_suffix: str) -> str:
    """Every registered topic under this test's suffix, made by the topics tool's own
    function (dev profile) as `make topics` and devstack do before services start: services
    only check that their topics exist. Returns the suffix."""
    asyncio.run(create(kafka_bootstrap, topic_suffix, DEV))
    return topic_suffix


async def _topics(bootstrap: str, delete: set[str] | None = None) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        if delete:
            await admin.delete_topics(sorted(delete), timeout_ms=30_000)
            return set()
        return {t for t in await admin.list_topics() if not t.startswith("__")}
    finally:
        await admin.close()


def _on_own_loop(bootstrap: str, delete: set[str] | None = None) -> set[str]:
    # On a thread of its own: an async test may hold the event loop of this thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _topics(bootstrap, delete)).result()


@pytest.fixture(autouse=True)
def _drop_the_tests_topics(request: pytest.FixtureRequest) -> Iterator[None]:
    """Delete the topics a Kafka test made under its own suffix once it is done.

    Every test gets topics of its own, and a whole suite makes thousands of partitions: a
    broker keeps a file open per partition segment and the machine's open-file limit is
    20 000, so without this the broker dies in the middle of a long run. Only names holding
    this test's unique suffix go (its topics, groups' changelogs), never another run's on a
    shared broker.
    """
    if "topic_suffix" not in request.fixturenames or "kafka_bootstrap" not in request.fixturenames:
        yield
        return
    suffix: str = request.getfixturevalue("topic_suffix")
    bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    yield
    mine = {t for t in _on_own_loop(bootstrap) if suffix in t}
    if mine:
        _on_own_loop(bootstrap, mine)

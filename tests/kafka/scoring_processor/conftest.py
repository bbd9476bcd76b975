"""The incentive service as a real subprocess, with its own topics, app id, ports and state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from intake_harness import SourceEvents
from scoring_harness import ProcessorProcess


@pytest.fixture
def processor(kafka_bootstrap: str, registered_topics: str,
              tmp_path: Path) -> Iterator[ProcessorProcess]:
    """The service on topics of its own (every registered topic, created up front as the
    deployment scripts do)."""
    p = ProcessorProcess(kafka_bootstrap, registered_topics, tmp_path)
    p.start()
    yield p
    p.stop()


@pytest.fixture
async def events(kafka_bootstrap: str, topic_suffix: str) -> AsyncIterator[SourceEvents]:
    # The test stands in for every writer of the intake's sources (content, social, exchange),
    # so it uses a producer bound to none of them.
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True,
                                acks="all", linger_ms=0)
    await producer.start()
    yield SourceEvents(producer, topic_suffix)
    await producer.stop()

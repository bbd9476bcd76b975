"""The scoring processor as a real subprocess, with its own topics, app id, ports and state dir."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from scoring_harness import ProcessorProcess

from planetkit.kafka.admin import ensure_topics
from services.incentive.adapters.faust_topics import registry_topics


@pytest.fixture
def processor(
    kafka_bootstrap: str, topic_suffix: str, tmp_path: Path
) -> Iterator[ProcessorProcess]:
    """A processor on topics of its own (created up front, as the deployment scripts do)."""
    asyncio.run(ensure_topics(kafka_bootstrap, registry_topics(topic_suffix)))
    p = ProcessorProcess(kafka_bootstrap, topic_suffix, tmp_path)
    p.start()
    yield p
    p.stop()

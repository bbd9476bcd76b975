"""A running analytics sink subprocess per test, on the test's own topics and directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from analytics_sink_process import SinkProcess

from planetkit.service_auth_dev import DevServiceAuth


@pytest.fixture
def sink(kafka_bootstrap: str, registered_topics: str, tmp_path: Path) -> Iterator[SinkProcess]:
    """A started sink; stopped (and its log shown on failure) after the test."""
    topic_suffix = registered_topics
    process = SinkProcess(kafka_bootstrap, topic_suffix, tmp_path / "chdb",
                          tmp_path / "sink.log", group_id=f"analytics-{topic_suffix}",
                          auth=DevServiceAuth.create(tmp_path / "service-auth"))
    process.start()
    try:
        yield process
    finally:
        code = process.stop()
    # SIGTERM must end it cleanly: the fetch in hand finishes and the store closes.
    assert code == 0, f"sink exited with {code}:\n{process.log()}"

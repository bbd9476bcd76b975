"""The incentive service (read side + API) as a real subprocess on topics of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from incentive_api_harness import IncentiveProcess


@pytest.fixture
def incentive(kafka_bootstrap: str, registered_topics: str,
              tmp_path: Path) -> Iterator[IncentiveProcess]:
    """Every registered topic under the test's suffix; the service NOT started yet (a test
    produces first when it checks what SERVING promises)."""
    process = IncentiveProcess(kafka_bootstrap, registered_topics, tmp_path)
    yield process
    process.stop()

"""The running stack, black-box: every service as a real process on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.stack import Ports, Stack


@pytest.fixture(scope="session")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A whole stack of our own: own topic suffix, own free ports, own data dirs."""
    suffix = f"sys{uuid.uuid4().hex[:8]}"
    run_dir: Path = tmp_path_factory.mktemp("stack")
    s = Stack(bootstrap=kafka_bootstrap, run_dir=run_dir, ports=Ports.free(), topic_suffix=suffix)
    try:
        s.up()
        yield s
    finally:
        s.down()


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    """An HTTP client for the gateway."""
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        yield client

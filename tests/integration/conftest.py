"""The running stack, black-box: every service as a real process on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.stack import Ports, Stack

# The whole system suite is one client on one address minting thousands of tokens and
# writes a minute; the limits themselves are proven in tests/security/test_gateway_rate_limits.
SUITE_RATE_LIMITS = {
    f"PLANET_GATEWAY_RATE_{name}_PER_MINUTE": "1000000"
    for name in ("USER_WRITES", "IP_WRITES", "IP_TOKEN_USES", "IP_TOKEN_MINTS")
}

# The suite cannot wait for an ISO week to end: the launch policy ("1") may close a week early
# here (production lists none), and the estimate refreshes every 2 s instead of 15 s.
SUITE_SCORING = {"PLANET_SCORING_EARLY_CLOSE_POLICIES": "1",
                 "PLANET_SCORING_ESTIMATE_INTERVAL_S": "2"}


@pytest.fixture(scope="session")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A whole stack of our own: own topic suffix, own free ports, own data dirs."""
    suffix = f"sys{uuid.uuid4().hex[:8]}"
    run_dir: Path = tmp_path_factory.mktemp("stack")
    s = Stack(bootstrap=kafka_bootstrap, run_dir=run_dir, ports=Ports.free(), topic_suffix=suffix,
              overrides={"gateway": SUITE_RATE_LIMITS, "gateway2": SUITE_RATE_LIMITS,
                         "scoring": SUITE_SCORING})
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

"""Rate limits and abuse: per-user and per-address limits on writes and on token use.

Before: nothing limited writes, analyst queries or token minting, and uvicorn's
``proxy_headers=True`` believed any sender's X-Forwarded-For, so a client could pick the
address it was limited by.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.auth import issue_token
from gateway.client_ip import client_ip, parse_networks
from gateway.ratelimit import Limit, TokenBuckets
from gateway.settings import GatewaySettings
from tests.security.gateway_apps import POST, app_client, bearer, dev_settings, dev_token
from tests.security.gateway_process import SECRET, gateway_process


def _batch(n: int) -> dict[str, Any]:
    return {"batch_id": f"b{n}", "events": [{
        "event_id": f"e{n}", "item_id": POST, "occurred_at_ms": int(time.time() * 1000),
        "type": "view", "dwell_seconds": 3}]}


def _send(client: TestClient, user: str, n: int) -> Any:
    return client.post("/v1/telemetry/batches", json=_batch(n), headers=bearer(dev_token(user)))


def test_writes_are_limited_per_user_with_429_and_retry_after() -> None:
    with app_client(dev_settings(rate_user_writes_per_minute=3)) as client:
        assert [_send(client, "carol", n).status_code for n in range(3)] == [202] * 3
        limited = _send(client, "carol", 3)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.json() == {"error": f"too many writes by this user; retry after "
                                           f"{limited.headers['retry-after']} s"}
        assert _send(client, "dave", 0).status_code == 202  # someone else is unaffected
        # Posts and analyst queries draw on the same budget.
        post = client.post("/v1/posts", json={"body": "gm"},
                           headers={**bearer(dev_token("carol")), "Idempotency-Key": "k"})
        assert post.status_code == 429


def test_writes_are_limited_per_address_across_users() -> None:
    with app_client(dev_settings(rate_ip_writes_per_minute=4)) as client:
        codes = [_send(client, f"user-{n}", n).status_code for n in range(6)]
    assert codes == [202] * 4 + [429] * 2


def test_token_minting_and_token_use_are_limited_per_address() -> None:
    with app_client(dev_settings(rate_ip_token_mints_per_minute=2,
                                 rate_ip_token_uses_per_minute=3)) as client:
        mints = [client.post("/v1/dev/tokens", json={"user_id": "x"}).status_code
                 for _ in range(3)]
        assert mints == [200, 200, 429]
        # Forged tokens count too: guessing is limited, not only succeeding.
        uses = [client.get(f"/v1/posts/{POST}", headers=bearer("x.y.z")).status_code
                for _ in range(4)]
        assert uses == [401, 401, 401, 429]


def test_two_replicas_each_enforce_half_so_together_they_hold_the_limit() -> None:
    settings = dev_settings(rate_user_writes_per_minute=4, rate_limit_replicas=2)
    with app_client(settings) as one, app_client(settings) as two:
        codes = [_send(replica, "erin", n).status_code
                 for n, replica in enumerate([one, two, one, two, one, two])]
    assert codes.count(202) == 4 and codes[-2:] == [429, 429]


def test_buckets_live_in_bounded_memory() -> None:
    buckets = TokenBuckets(Limit("t", 60, 60), replicas=1, max_keys=100)
    for n in range(10_000):
        buckets.take(f"key-{n}")
    assert len(buckets) == 100


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    proxies = parse_networks(["10.0.0.0/8"])
    assert client_ip("203.0.113.9", ["198.51.100.1"], proxies) == "203.0.113.9"
    assert client_ip("10.1.2.3", ["198.51.100.1"], proxies) == "198.51.100.1"
    # The client prepends a lie; the proxy appends the truth: the rightmost untrusted wins.
    assert client_ip("10.1.2.3", ["6.6.6.6, 198.51.100.1"], proxies) == "198.51.100.1"
    assert client_ip("10.1.2.3", ["garbage"], proxies) == "10.1.2.3"
    assert GatewaySettings(dev_mode=True, jwt_secret="s" * 32).host == "127.0.0.1"


@pytest.mark.kafka
def test_a_spoofed_forwarded_for_does_not_change_the_limited_address(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    token = bearer(issue_token(SECRET, "mallory", [], now_s=int(time.time()), ttl_s=600))
    path = "/v1/creators/someone-else/estimate"  # 403 without touching a backend
    with gateway_process(tmp_path / "a", kafka_bootstrap,
                         PLANET_GATEWAY_RATE_IP_TOKEN_USES_PER_MINUTE="5") as gw:
        codes = [httpx.get(f"{gw.base}{path}", timeout=5,
                           headers={**token, "X-Forwarded-For": f"198.51.100.{n}"}).status_code
                 for n in range(7)]
        assert codes == [403] * 5 + [429] * 2
    # Behind a configured proxy (here: loopback), the forwarded address is the one limited.
    with gateway_process(tmp_path / "b", kafka_bootstrap,
                         PLANET_GATEWAY_RATE_IP_TOKEN_USES_PER_MINUTE="5",
                         PLANET_GATEWAY_TRUSTED_PROXIES='["127.0.0.1"]') as gw:
        codes = [httpx.get(f"{gw.base}{path}", timeout=5,
                           headers={**token, "X-Forwarded-For": f"198.51.100.{n}"}).status_code
                 for n in range(7)]
        assert codes == [403] * 7

"""Finding 5: production tokens are the identity provider's asymmetric JWTs, checked fully.

Before: the gateway accepted only HS256 tokens signed with its own secret, minted any role
for anyone at /v1/dev/tokens, and nothing stopped dev mode from running in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from gateway.jwks import JwksKeys, file_source
from gateway.settings import GatewaySettings
from tests.security.gateway_apps import POST, app_client, bearer, dev_settings, dev_token
from tests.security.gateway_idp import AUDIENCE, ISSUER, IdP

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def idp(tmp_path: Path) -> IdP:
    return IdP(tmp_path / "jwks.json")


@pytest.fixture
def client(idp: IdP) -> Iterator[TestClient]:
    settings = GatewaySettings(**idp.settings(), jwks_min_refresh_interval_s=0,
                               jwt_max_lifetime_s=3600)  # type: ignore[arg-type]
    with app_client(settings) as c:
        yield c


def _get(client: TestClient, token: str) -> tuple[int, str]:
    response = client.get(f"/v1/posts/{POST}", headers=bearer(token))
    return response.status_code, response.json().get("error", "")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_with(secret: bytes, header: dict[str, object], claims: dict[str, object]) -> str:
    """What an attacker builds by hand: PyJWT itself refuses to HMAC with a PEM key."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def test_tokens_from_the_identity_provider_are_accepted(client: TestClient, idp: IdP) -> None:
    assert _get(client, idp.token("bob", kid="rsa-1"))[0] == 200
    assert _get(client, idp.token("bob", kid="ec-1"))[0] == 200


def test_every_bad_token_is_401_with_a_clear_reason(client: TestClient, idp: IdP) -> None:
    now = int(time.time())
    claims = {"sub": "mallory", "roles": ["operator"], "iss": ISSUER, "aud": AUDIENCE,
              "iat": now, "exp": now + 600}
    cases = {
        "wrong issuer": idp.token("bob", iss="https://evil.example/"),
        "wrong audience": idp.token("bob", aud="another-api"),
        "token has expired": idp.token("bob", iat=now - 4000, lifetime_s=3000),
        "exceeds the 3600 s limit": idp.token("bob", lifetime_s=86_400),
        "algorithm 'none' is not accepted": jwt.encode(claims, None, algorithm="none",
                                                       headers={"kid": "rsa-1"}),
        # Algorithm confusion: HS256 keyed with the provider's public key.
        "algorithm 'HS256' is not accepted": _hs256_with(
            idp.public_pem(), {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, claims),
        "no key id": jwt.encode(claims, idp.keys["rsa-1"][1], algorithm="RS256"),
        "dev-mode HS256": dev_token("mallory", ["operator"]),
    }
    # A token whose header names a kid the provider never published.
    other = IdP(idp.jwks_path.with_name("other.json"))
    other.keys = {"rsa-9": other.keys["rsa-1"]}
    cases["unknown signing key"] = other.token("bob", kid="rsa-9")
    for reason, token in cases.items():
        status, error = _get(client, token)
        assert status == 401, reason
        expected = "algorithm 'HS256' is not accepted" if reason == "dev-mode HS256" else reason
        assert expected in error, (reason, error)
    missing = {k: v for k, v in claims.items() if k != "exp"}
    no_exp = jwt.encode(missing, idp.keys["rsa-1"][1], algorithm="RS256",
                        headers={"kid": "rsa-1"})
    assert _get(client, no_exp) == (401, 'invalid token: Token is missing the "exp" claim')


def test_a_rotated_key_is_picked_up_on_its_first_token(client: TestClient, idp: IdP) -> None:
    assert _get(client, idp.token("bob"))[0] == 200  # keys loaded and cached
    idp.add_key("rsa-2", "RS256")  # the provider rotates
    assert _get(client, idp.token("bob", kid="rsa-2"))[0] == 200


async def test_unknown_kids_cost_at_most_one_fetch_per_interval(idp: IdP) -> None:
    now = [1000.0]
    keys = JwksKeys(file_source(str(idp.jwks_path)), cache_s=300,
                    min_refresh_interval_s=30, clock=lambda: now[0])
    for i in range(200):
        assert await keys.get(f"invented-{i}") is None
    assert keys.fetches == 1
    now[0] += 31
    assert await keys.get("invented-x") is None and keys.fetches == 2
    assert await keys.get("rsa-1") is not None and keys.fetches == 2


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLANET_GATEWAY_")}
    return subprocess.run([sys.executable, "-m", "gateway"], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_dev_mode_cannot_start_with_a_production_issuer(idp: IdP) -> None:
    done = _start({"PLANET_GATEWAY_DEV_MODE": "true", "PLANET_GATEWAY_JWT_SECRET": "s" * 40,
                   "PLANET_GATEWAY_JWKS_FILE": str(idp.jwks_path),
                   "PLANET_GATEWAY_JWT_ISSUER": ISSUER})
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "dev mode mints tokens for anyone" in line
    assert "PLANET_GATEWAY_JWKS_FILE" in line and "PLANET_GATEWAY_JWT_ISSUER" in line


def test_production_cannot_start_without_issuer_and_audience(idp: IdP) -> None:
    done = _start({"PLANET_GATEWAY_JWKS_FILE": str(idp.jwks_path)})
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "PLANET_GATEWAY_JWT_ISSUER and PLANET_GATEWAY_JWT_AUDIENCE are required" in line


def test_dev_mode_says_so_loudly_and_mints_only_there(idp: IdP,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), app_client(dev_settings()) as dev:
        assert dev.post("/v1/dev/tokens", json={"user_id": "x"}).status_code == 200
    assert any("DEV MODE" in r.getMessage() and "ANY user" in r.getMessage()
               for r in caplog.records)
    production = GatewaySettings(**idp.settings())  # type: ignore[arg-type]
    with app_client(production) as prod:
        assert prod.post("/v1/dev/tokens", json={"user_id": "x"}).status_code == 404
        assert "/v1/dev/tokens" not in prod.get("/openapi.json").json()["paths"]


def test_keys_unavailable_is_503_not_401(tmp_path: Path) -> None:
    missing = GatewaySettings(jwks_file=str(tmp_path / "absent.json"), jwt_issuer=ISSUER,
                              jwt_audience=AUDIENCE)
    idp = IdP(tmp_path / "jwks.json")
    with app_client(missing) as client:
        response = client.get(f"/v1/posts/{POST}", headers=bearer(idp.token("bob")))
    assert response.status_code == 503 and response.headers["retry-after"]
    assert "cannot check tokens" in response.json()["error"]

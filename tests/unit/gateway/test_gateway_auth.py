"""Tokens: issued and verified with HS256; every protected route needs one."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from gateway_fakes import NOW_MS, SECRET, Fakes, bearer, client_for, settings

from gateway.auth import InvalidToken, issue_token, verify_token
from gateway.settings import GatewaySettings
from planetkit.settings import load_settings
from services.content.domain.ids import post_id_for
from tests.security.gateway_idp import IdP

MISSING_POST = post_id_for("nobody", "nothing")


def test_a_token_round_trips_subject_and_roles() -> None:
    token = issue_token(SECRET, "user_1", ["creator", "creator"], now_s=int(time.time()), ttl_s=60)
    principal = verify_token(SECRET, token)
    assert principal.user_id == "user_1" and principal.roles == {"creator"}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (issue_token(SECRET, "u", [], now_s=1_000, ttl_s=60), "token has expired"),
        (issue_token("another-secret-of-at-least-32-bytes!!", "u", [], now_s=NOW_MS // 1000,
                     ttl_s=86_400), "Signature verification failed"),
        (jwt.encode({"sub": "u"}, SECRET, algorithm="HS256"), "exp"),
        ("not.a.jwt", "invalid token"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(token: str, reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verify_token(SECRET, token)


def test_the_none_algorithm_is_refused() -> None:
    token = jwt.encode({"sub": "u", "exp": 2_000_000_000}, None, algorithm="none")
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/posts"), ("GET", f"/v1/posts/{MISSING_POST}"),
     ("POST", "/v1/telemetry/batches"),
     ("GET", "/v1/creators/c/estimate")],
)
def test_protected_routes_answer_401_without_a_token(client: TestClient, method: str,
                                                     path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 401
    assert "bearer token" in response.json()["error"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_forged_token_gets_401(client: TestClient) -> None:
    response = client.get(f"/v1/posts/{MISSING_POST}", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401 and response.json()["error"].startswith("invalid token")


def test_dev_tokens_exist_only_in_dev_mode(fakes: Fakes, tmp_path: Path) -> None:
    idp = IdP(tmp_path / "jwks.json")
    production = settings(dev_mode=False, jwt_secret=None, **idp.settings())
    with client_for(production, fakes) as prod:
        assert prod.post("/v1/dev/tokens", json={"user_id": "u"}).status_code == 404
        # ... and an HS256 token signed with a secret is refused there.
        assert prod.get(f"/v1/posts/{MISSING_POST}", headers=bearer("u1")).status_code == 401
    with client_for(settings(dev_mode=True), fakes) as dev:
        response = dev.post("/v1/dev/tokens", json={"user_id": "u1", "roles": ["creator"]})
        assert response.status_code == 200
        token = response.json()["token"]
        assert verify_token(SECRET, token).user_id == "u1"
        assert dev.get(f"/v1/posts/{MISSING_POST}", headers={"Authorization": f"Bearer {token}"}
                       ).status_code == 404


def test_production_needs_a_jwks_issuer_and_audience(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("DEV_MODE", "JWT_SECRET", "JWKS_URL", "JWKS_FILE", "JWT_ISSUER",
                 "JWT_AUDIENCE"):
        monkeypatch.delenv(f"PLANET_GATEWAY_{name}", raising=False)
    with pytest.raises(SystemExit):
        load_settings(GatewaySettings)
    assert "PLANET_GATEWAY_JWKS_URL or PLANET_GATEWAY_JWKS_FILE" in capsys.readouterr().err
    monkeypatch.setenv("PLANET_GATEWAY_DEV_MODE", "true")
    with pytest.raises(SystemExit):
        load_settings(GatewaySettings)
    assert "PLANET_GATEWAY_JWT_SECRET" in capsys.readouterr().err


def test_healthz_and_docs_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    assert "/v1/telemetry/batches" in client.get("/openapi.json").json()["paths"]


def test_estimates_are_for_the_creator_or_an_operator(client: TestClient) -> None:
    path = "/v1/creators/alice/estimate?week=2025-W48"
    assert client.get(path, headers=bearer("alice")).json()["estimated_minor"] == 1500
    assert client.get(path, headers=bearer("ops", ["operator"])).status_code == 200
    forbidden = client.get(path, headers=bearer("mallory"))
    assert forbidden.status_code == 403 and "only the creator" in forbidden.json()["error"]
    bad_week = client.get("/v1/creators/alice/estimate?week=2025-48", headers=bearer("alice"))
    assert bad_week.status_code == 422 and "ISO week" in bad_week.json()["error"]

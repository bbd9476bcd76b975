"""The gateway takes traffic only when it can answer: backends open and tokens checkable."""

from __future__ import annotations

from pathlib import Path

from gateway.settings import GatewaySettings
from tests.security.gateway_apps import app_client, dev_settings
from tests.security.gateway_idp import AUDIENCE, ISSUER, IdP


def test_not_ready_before_the_backends_are_open() -> None:
    client = app_client(dev_settings())  # not entered: the lifespan has not run
    response = client.get("/readyz")
    assert response.status_code == 503 and response.headers["retry-after"]
    assert "starting" in response.json()["error"]
    with client:
        assert client.get("/readyz").json() == {"status": "ready"}


def test_not_ready_until_the_identity_providers_keys_are_loaded(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    settings = GatewaySettings(jwks_file=str(jwks), jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
                               jwks_min_refresh_interval_s=0)
    with app_client(settings) as client:
        waiting = client.get("/readyz")
        assert waiting.status_code == 503 and waiting.headers["retry-after"]
        assert "signing keys" in waiting.json()["error"]
        assert client.get("/healthz").status_code == 200  # alive all the same
        IdP(jwks)  # the provider publishes its keys
        assert client.get("/readyz").status_code == 200

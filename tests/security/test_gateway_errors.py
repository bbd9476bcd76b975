"""Finding 7: no client input produces a 5xx, and the OpenAPI document tells the truth.

Before: a 16 KB post id reached the content service, whose NOT_FOUND message echoed it past
gRPC's metadata limit (502); 422 was documented as FastAPI's ``{"detail": [...]}``, which
is never sent; most error statuses were not documented at all.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.adapters.grpc_errors import translate
from gateway.app import create_app
from gateway.ports import Backends
from gateway.settings import GatewaySettings
from tests.security.gateway_apps import (
    Analytics,
    Calls,
    Content,
    Events,
    Incentive,
    Interactions,
    Lifecycle,
    Social,
    Topics,
    app_client,
    bearer,
    dev_settings,
    dev_token,
)
from tests.security.gateway_drafts_standin import Drafts
from tests.security.gateway_groups_standin import Groups
from tests.security.gateway_reports_standin import Reports


def test_a_16kb_post_id_is_a_4xx_and_never_reaches_a_backend() -> None:
    calls = Calls()
    with app_client(dev_settings(), calls=calls) as client:
        for post_id in ("post_" + "a" * 16_000, "x" * 16_000, "post_../../etc"):
            response = client.get(f"/v1/posts/{post_id}", headers=bearer(dev_token("bob")))
            assert response.status_code == 422, post_id
            assert len(response.text) < 1000  # the id is not echoed back
    assert calls.names == []


CLIENT_MISTAKES = {
    grpc.StatusCode.INVALID_ARGUMENT: 422, grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409, grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.FAILED_PRECONDITION: 403, grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 422, grpc.StatusCode.RESOURCE_EXHAUSTED: 422,
    grpc.StatusCode.UNAVAILABLE: 503, grpc.StatusCode.DEADLINE_EXCEEDED: 503,
    grpc.StatusCode.CANCELLED: 503,
}


@pytest.mark.parametrize(("code", "status"), CLIENT_MISTAKES.items())
def test_backend_statuses_a_client_can_cause_are_4xx_or_503(code: grpc.StatusCode,
                                                             status: int) -> None:
    error = grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="d")
    assert translate(error, "content service").status == status


def _openapi() -> dict[str, Any]:
    with app_client(dev_settings()) as client:
        document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def test_openapi_documents_the_real_error_body_and_every_status() -> None:
    document = _openapi()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorBody"]["required"] == ["error"]
    expected = {
        ("post", "/v1/posts"): {400, 401, 403, 409, 413, 422, 429, 503},
        ("get", "/v1/posts/{post_id}"): {401, 403, 404, 422, 429, 503},
        ("post", "/v1/telemetry/batches"): {400, 401, 403, 413, 422, 429, 503},
        ("get", "/v1/creators/{creator_id}/estimate"): {401, 403, 404, 409, 422, 429, 503},
        ("post", "/v1/analytics/query"): {400, 401, 403, 413, 422, 429, 503},
        ("post", "/v1/dev/tokens"): {400, 413, 422, 429},
    }
    for (method, path), statuses in expected.items():
        responses = document["paths"][path][method]["responses"]
        errors = {int(s) for s in responses if int(s) >= 400}
        assert errors == statuses, (method, path)
        for status in errors:
            body = responses[str(status)]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
            if status in (429, 503):
                assert "Retry-After" in responses[str(status)]["headers"]
    assert "outcome unknown" in document["paths"]["/v1/telemetry/batches"]["post"][
        "responses"]["503"]["description"]
    # Limits are part of the contract.
    assert "request bodies up to" in document["info"]["description"]
    post_id = document["paths"]["/v1/posts/{post_id}"]["get"]["parameters"][0]["schema"]
    assert post_id["pattern"] == "^post_[0-9a-f]{24}$"


def test_every_503_carries_retry_after() -> None:
    with app_client(dev_settings(retry_after_s=7)) as client:
        response = client.post("/v1/analytics/query", json={"sql": "SELECT 1"},
                               headers=bearer(dev_token("ann", ["analyst"])))
    assert response.status_code == 503 and response.headers["retry-after"] == "7"


def _fuzzed_app() -> Any:
    calls = Calls()

    @asynccontextmanager
    async def factory(_: GatewaySettings) -> AsyncIterator[Backends]:
        yield Backends(Content(calls), Incentive(calls), Events(),
                       lambda: time.time_ns() // 1_000_000, Analytics(calls), Social(calls),
                       topics=Topics(calls), lifecycle=Lifecycle(calls),
                       interactions=Interactions(calls), drafts=Drafts(calls),
                       reports=Reports(calls), groups=Groups())

    limits = {"rate_ip_token_uses_per_minute": 100_000, "rate_ip_writes_per_minute": 100_000,
              "rate_user_writes_per_minute": 100_000, "rate_ip_token_mints_per_minute": 100_000}
    return create_app(dev_settings(**limits), factory)


schema = schemathesis.openapi.from_asgi("/openapi.json", _fuzzed_app())
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_fuzzed_requests_never_get_a_5xx_or_an_undocumented_answer(case: Case) -> None:
    for headers in ({}, bearer(dev_token("fuzz", ["analyst"])), bearer("x.y.z")):
        case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)

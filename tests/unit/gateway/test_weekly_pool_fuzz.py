"""Schemathesis on the weekly pool's operations with the callers who get past the role
checks (the creator alice, an operator), which the whole-API fuzz in
tests/security/test_gateway_errors.py (anonymous, analyst, forged) never is: whatever the
body, path or query, no 5xx and only documented answers with their documented shapes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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

from gateway.app import create_app
from gateway.ports import Backends
from gateway.settings import GatewaySettings
from tests.security.gateway_apps import (
    Calls,
    Content,
    Events,
    Incentive,
    bearer,
    dev_settings,
    dev_token,
    idle_estimate_hub,
)


def _app() -> Any:
    calls = Calls()

    @asynccontextmanager
    async def factory(_: GatewaySettings) -> AsyncIterator[Backends]:
        yield Backends(Content(calls), Incentive(calls), Events(),
                       lambda: time.time_ns() // 1_000_000, estimates=idle_estimate_hub())

    limits = {"rate_ip_token_uses_per_minute": 100_000, "rate_ip_writes_per_minute": 100_000,
              "rate_user_writes_per_minute": 100_000}
    return create_app(dev_settings(**limits), factory)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app()).include(
    path_regex=r"^/v1/(pool/|operator/pool/|creators/\{creator_id\}/(pool/|center|estimate))")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_the_pool_routes_never_5xx_nor_answer_undocumented(case: Case) -> None:
    for headers in (bearer(dev_token("alice")), bearer(dev_token("ops", ["operator"]))):
        case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)

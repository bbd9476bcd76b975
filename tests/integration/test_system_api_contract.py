"""Schemathesis against the running gateway: every operation, with and without tokens.

Every documented operation gets property-based requests (valid and invalid shapes, bounded
in number so the suite stays fast) from four callers: nobody, an ordinary user, an analyst,
and a forged token. Whatever is sent, the gateway must never answer 5xx, and every answer
must be one the OpenAPI document declares, with the declared body schema and content type.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from system_helpers import mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka, pytest.mark.slow]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CALLERS = ("anonymous", "user", "analyst", "forged")
# Per operation and generation mode; every example is sent once per caller.
MAX_EXAMPLES = 15


@pytest.fixture(scope="module")
def gateway_schema(stack: Stack) -> schemathesis.BaseSchema:
    """The OpenAPI document the running gateway serves, as schemathesis reads it."""
    return schemathesis.openapi.from_url(f"{stack.gateway_url}/openapi.json", wait_for_schema=30)


@pytest.fixture(scope="module")
def caller_headers(stack: Stack) -> Iterator[dict[str, dict[str, str]]]:
    """Authorization headers of each kind of caller."""
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        forged = jwt.encode({"sub": "mallory", "roles": ["operator"], "exp": 4_102_444_800},
                            "not-the-gateway-secret-" * 3, algorithm="HS256")
        yield {
            "anonymous": {},
            "user": mint(api, unique("fuzz-user")),
            "analyst": mint(api, unique("fuzz-analyst"), ["analyst"]),
            "forged": {"Authorization": f"Bearer {forged}"},
        }


def _operations(schema: schemathesis.BaseSchema) -> list[APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


def _has_inputs(operation: APIOperation) -> bool:
    return bool(list(operation.iter_parameters())) or bool(operation.body)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_no_input_gets_a_5xx_or_an_undocumented_answer(
    gateway_schema: schemathesis.BaseSchema,
    caller_headers: dict[str, dict[str, str]],
    mode: GenerationMode,
) -> None:
    operations = _operations(gateway_schema)
    assert len(operations) >= 5, [op.label for op in operations]
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
            continue  # nothing to get wrong: no parameters and no body

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        def answers_within_contract(case: Case) -> None:
            # The same input goes out once per kind of caller: whoever sends it, the answer
            # stays within the contract.
            for caller in CALLERS:
                headers = dict(case.headers or {})
                headers.update(caller_headers[caller])
                case.call_and_validate(headers=headers, checks=CHECKS)

        answers_within_contract()

"""An analytics Query service on a real engine and real gRPC, for the security tests.

The verified caller is what the service-authentication interceptor binds in production
(planetkit.service_auth.bind_caller); here ``BindCaller`` binds one named by test metadata,
so each test can call as an analyst, an operator, a user without those roles, or nobody.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from planet.analytics.v1 import audit_pb2
from planetkit.service_auth import Caller, bind_caller, reset_caller
from services.analytics.adapters.audit import AuditUnavailableError
from services.analytics.domain.sql_guard import Audience

ROLES_HEADER = "x-test-roles"
USER_HEADER = "x-test-user"


def as_user(user: str, *roles: str) -> tuple[tuple[str, str], ...]:
    """Call metadata that makes BindCaller bind ``user`` with ``roles``."""
    return ((USER_HEADER, user), (ROLES_HEADER, ",".join(roles)))


class BindCaller(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Binds the caller named in the metadata around the handler, as the auth interceptor does."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        metadata = dict(details.invocation_metadata or ())
        if handler is None or USER_HEADER not in metadata or handler.unary_unary is None:
            return handler
        roles = frozenset(r for r in str(metadata.get(ROLES_HEADER, "")).split(",") if r)
        caller = Caller("gateway", str(metadata[USER_HEADER]), roles)
        inner = handler.unary_unary

        async def bound(request: Any, context: Any) -> Any:
            token = bind_caller(caller)
            try:
                return await inner(request, context)
            finally:
                reset_caller(token)

        return grpc.unary_unary_rpc_method_handler(
            bound,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


@dataclass
class RecordingAuditLog:
    """The AuditLog contract kept in memory; ``failing`` makes every write fail."""

    accepted_records: list[tuple[Caller, Audience, str]] = field(default_factory=list)
    finished_records: list[tuple[str, int, int]] = field(default_factory=list)
    failing: bool = False

    async def accepted(
        self, caller: Caller, audience: Audience, canonical_sql: str, at_ms: int
    ) -> str:
        if self.failing:
            raise AuditUnavailableError("the audit log is down (test)")
        self.accepted_records.append((caller, audience, canonical_sql))
        return f"q{len(self.accepted_records)}"

    async def finished(
        self,
        caller: Caller,
        query_id: str,
        outcome: audit_pb2.Outcome.ValueType,
        row_count: int,
        error: str,
        at_ms: int,
        elapsed_ms: int,
    ) -> None:
        if self.failing:
            raise AuditUnavailableError("the audit log is down (test)")
        self.finished_records.append((query_id, outcome, row_count))

"""AnalyticsService over grpc.aio, plus the standard health service."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2_grpc

from planet.analytics.v1 import analytics_service_pb2 as rpc
from planet.analytics.v1 import analytics_service_pb2_grpc as rpc_grpc
from planet.analytics.v1 import audit_pb2
from planetkit.clock import now_ms
from planetkit.grpc_health import Health
from planetkit.grpc_health import abort as _abort
from planetkit.service_auth import Caller, current_caller
from services.analytics.adapters.audit import AuditLog, AuditUnavailableError
from services.analytics.adapters.engine import Engine
from services.analytics.domain.results import rows_json
from services.analytics.domain.sql_guard import Audience
from services.analytics.domain.store import (
    AnalyticsStoreError,
    QueryFailedError,
    QueryLimitError,
    QueryLimits,
    QueryResult,
)

SERVICE_NAME = rpc.DESCRIPTOR.services_by_name["AnalyticsService"].full_name
# Room for the response envelope around rows_json.
_MESSAGE_SLACK = 64 * 1024

Context = grpc.aio.ServicerContext[Any, Any]
log = logging.getLogger(__name__)


# Roles that may query, and the audience each gets; operator wins when a user holds both.
ROLE_AUDIENCES: tuple[tuple[str, Audience], ...] = (
    ("operator", Audience.OPERATOR),
    ("analyst", Audience.ANALYST),
)


def audience_of(caller: Caller) -> Audience | None:
    """The audience the caller's end user queries as, or None if no role allows querying."""
    return next((aud for role, aud in ROLE_AUDIENCES if role in caller.roles), None)


class AnalyticsServicer(rpc_grpc.AnalyticsServiceServicer):
    """Authorizes Query calls, audits them, runs them within limits, maps errors to codes."""

    def __init__(
        self,
        engine: Engine,
        *,
        audit: AuditLog,
        max_query_bytes: int,
        max_rows: int,
        max_response_bytes: int,
        limits: QueryLimits | None = None,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._engine = engine
        self._audit = audit
        self._max_query_bytes = max_query_bytes
        self._max_rows = max_rows
        self._max_response_bytes = max_response_bytes
        self._limits = limits or QueryLimits()
        self._clock_ms = clock_ms
        self.ready = False

    async def _authorize(self, context: Context) -> tuple[Caller, Audience]:
        try:
            caller = current_caller()
        except RuntimeError:
            # No verified caller: the authentication interceptor is not installed.
            await _abort(context, grpc.StatusCode.UNAUTHENTICATED, "no verified caller")
        audience = audience_of(caller)
        if audience is None:
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED,
                         "querying analytics needs the analyst or operator role")
        return caller, audience

    async def Query(self, request: rpc.QueryRequest, context: Context) -> rpc.QueryResponse:
        """Run one SELECT/DESCRIBE for an analyst or operator; at most ``max_rows`` rows."""
        caller, audience = await self._authorize(context)
        if not self.ready:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, "the analytics store is starting")
        size = len(request.sql.encode())
        if size > self._max_query_bytes:
            await _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"query is {size} bytes; the limit is {self._max_query_bytes}",
            )
        # The caller's deadline bounds the engine's time limit (none set: the configured one).
        remaining = context.time_remaining()
        deadline = time.monotonic() + remaining if remaining is not None else None
        try:
            canonical = await self._engine.check(request.sql, audience=audience)
            started_ms = self._clock_ms()
            query_id = await self._audit.accepted(caller, audience, canonical, started_ms)
        except ValueError as exc:
            # The guard's refusal: its message tells the analyst what is allowed.
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except AuditUnavailableError as exc:
            log.warning("analytics query refused: %s", exc)
            await _abort(context, grpc.StatusCode.UNAVAILABLE,
                         "the query audit log is unavailable; the query did not run")
        except (AnalyticsStoreError, RuntimeError) as exc:
            log.warning("analytics query check failed: %s", exc)
            await _abort(context, grpc.StatusCode.UNAVAILABLE, "the analytics store is unavailable")
        outcome, code, message, result = await self._run(canonical, audience, deadline)
        try:
            finished_ms = self._clock_ms()
            await self._audit.finished(
                caller, query_id, outcome, len(result.rows) if result else 0,
                message if result is None else "", finished_ms, finished_ms - started_ms,
            )
        except AuditUnavailableError as exc:
            log.warning("analytics result withheld: %s", exc)
            await _abort(context, grpc.StatusCode.UNAVAILABLE,
                         "the query audit log is unavailable; the result is withheld")
        if result is None:
            await _abort(context, code, message)
        encoded = rows_json(result.rows, self._max_rows)
        if len(encoded.text) > self._max_response_bytes:
            await _abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"the result is {len(encoded.text)} bytes of JSON; the limit is "
                f"{self._max_response_bytes}: select fewer columns or rows",
            )
        return rpc.QueryResponse(
            columns=list(result.columns),
            rows_json=encoded.text,
            row_count=encoded.row_count,
            truncated=encoded.truncated,
        )

    async def _run(
        self, canonical: str, audience: Audience, deadline: float | None
    ) -> tuple[audit_pb2.Outcome.ValueType, grpc.StatusCode, str, QueryResult | None]:
        try:
            result = await self._engine.query(
                canonical, audience=audience, limits=self._limits, deadline=deadline
            )
        except QueryLimitError as exc:
            # A limit (time, memory, rows read, result size) or the caller's deadline.
            return (audit_pb2.OUTCOME_LIMIT_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED,
                    str(exc), None)
        except ValueError as exc:
            return audit_pb2.OUTCOME_FAILED, grpc.StatusCode.INVALID_ARGUMENT, str(exc), None
        except QueryFailedError as exc:
            # The engine refused the statement (syntax, unknown column, types).
            return audit_pb2.OUTCOME_FAILED, grpc.StatusCode.INVALID_ARGUMENT, str(exc), None
        except (AnalyticsStoreError, RuntimeError) as exc:
            log.warning("analytics query failed: %s", exc)
            return (audit_pb2.OUTCOME_UNAVAILABLE, grpc.StatusCode.UNAVAILABLE,
                    "the analytics store is unavailable", None)
        return audit_pb2.OUTCOME_SUCCEEDED, grpc.StatusCode.OK, "", result


def new_health() -> Health:
    """grpc.health.v1 for this service: NOT_SERVING until the store is migrated and consuming."""
    return Health(SERVICE_NAME)


def make_server(
    servicer: AnalyticsServicer,
    health_: Health,
    max_response_bytes: int,
    interceptors: Sequence[grpc.aio.ServerInterceptor[Any, Any]] = (),
) -> grpc.aio.Server:
    """A grpc.aio server carrying both services (ports are added by the caller)."""
    server = grpc.aio.server(
        interceptors=list(interceptors),
        options=[("grpc.max_send_message_length", max_response_bytes + _MESSAGE_SLACK)],
    )
    rpc_grpc.add_AnalyticsServiceServicer_to_server(servicer, server)
    health_pb2_grpc.add_HealthServicer_to_server(health_.servicer, server)
    return server

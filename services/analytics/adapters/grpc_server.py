"""AnalyticsService over grpc.aio, plus the standard health service."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2_grpc

from planet.analytics.v1 import analytics_service_pb2 as rpc
from planet.analytics.v1 import analytics_service_pb2_grpc as rpc_grpc
from planetkit.analytics import AnalyticsStoreError, QueryFailedError
from planetkit.grpc_health import Health
from planetkit.grpc_health import abort as _abort
from services.analytics.adapters.engine import Engine
from services.analytics.domain.results import rows_json

SERVICE_NAME = rpc.DESCRIPTOR.services_by_name["AnalyticsService"].full_name
# Room for the response envelope around rows_json.
_MESSAGE_SLACK = 64 * 1024

Context = grpc.aio.ServicerContext[Any, Any]
log = logging.getLogger(__name__)


class AnalyticsServicer(rpc_grpc.AnalyticsServiceServicer):
    """Translates Query calls to the engine and its errors to status codes."""

    def __init__(
        self, engine: Engine, *, max_query_bytes: int, max_rows: int, max_response_bytes: int
    ) -> None:
        self._engine = engine
        self._max_query_bytes = max_query_bytes
        self._max_rows = max_rows
        self._max_response_bytes = max_response_bytes
        self.ready = False

    async def Query(self, request: rpc.QueryRequest, context: Context) -> rpc.QueryResponse:
        """Run one read-only statement; at most ``max_rows`` rows come back."""
        if not self.ready:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, "the analytics store is starting")
        size = len(request.sql.encode())
        if size > self._max_query_bytes:
            await _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"query is {size} bytes; the limit is {self._max_query_bytes}",
            )
        try:
            result = await self._engine.query(request.sql)
        except ValueError as exc:
            # The store's read-only gate: its message tells the analyst what is allowed.
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except QueryFailedError as exc:
            # The engine refused the statement (syntax, unknown column, readonly, limits).
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except (AnalyticsStoreError, RuntimeError) as exc:
            log.warning("analytics query failed: %s", exc)
            await _abort(context, grpc.StatusCode.UNAVAILABLE, "the analytics store is unavailable")
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

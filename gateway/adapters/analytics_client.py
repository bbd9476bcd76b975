"""The analytics sink's query service over gRPC."""

from __future__ import annotations

import json

import grpc

from gateway.adapters.grpc_errors import translate
from gateway.adapters.service_calls import CallSigner
from gateway.auth import Principal
from gateway.errors import GatewayError
from gateway.ports import QueryAnswer
from planet.analytics.v1 import analytics_service_pb2 as rpc
from planet.analytics.v1 import analytics_service_pb2_grpc as rpc_grpc


class QueryRejected(GatewayError):
    """The statement is not allowed, not valid, or asks for too much; the message says which."""

    status = 400


# The analyst's own mistakes: the service's message is written for them.
_REJECTIONS = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED})


class GrpcAnalytics:
    """AnalyticsPort over one grpc.aio channel; every call is signed for the user it serves."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rpc_grpc.AnalyticsServiceStub(channel)
        self._timeout_s = timeout_s
        self._signer = signer

    async def query(self, caller: Principal, sql: str) -> QueryAnswer:
        """Run one read-only statement as ``caller`` (the service checks their role too)."""
        try:
            response = await self._stub.Query(
                rpc.QueryRequest(sql=sql), timeout=self._timeout_s,
                metadata=self._signer.metadata(caller),
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in _REJECTIONS:
                raise QueryRejected(exc.details() or exc.code().name) from None
            raise translate(exc, "analytics service") from None
        rows: list[list[object]] = json.loads(response.rows_json) if response.rows_json else []
        return QueryAnswer(list(response.columns), rows, response.truncated)

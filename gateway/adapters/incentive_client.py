"""The incentive service over gRPC."""

from __future__ import annotations

import grpc

from gateway.adapters.grpc_errors import translate
from planet.incentive.v1 import incentive_service_pb2 as rpc
from planet.incentive.v1 import incentive_service_pb2_grpc as rpc_grpc


class GrpcIncentive:
    """IncentivePort over one grpc.aio channel."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self._stub = rpc_grpc.IncentiveServiceStub(channel)
        self._timeout_s = timeout_s

    async def weekly_estimate(self, creator_id: str, week: str) -> rpc.WeeklyEstimate:
        """The running estimate of a creator's week ("" = current week)."""
        try:
            return await self._stub.GetWeeklyEstimate(
                rpc.GetWeeklyEstimateRequest(creator_id=creator_id, week=week),
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "incentive service") from None

"""The incentive service over gRPC."""

from __future__ import annotations

import grpc

from gateway.adapters.service_calls import CallSigner, SignedCalls
from gateway.auth import Principal
from planet.incentive.v1 import incentive_service_pb2 as rpc
from planet.incentive.v1 import incentive_service_pb2_grpc as rpc_grpc


class GrpcIncentive:
    """IncentivePort over one grpc.aio channel; every call is signed for the user it serves."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rpc_grpc.IncentiveServiceStub(channel)
        self._call = SignedCalls(signer, timeout_s, "incentive service")

    async def weekly_estimate(
        self, caller: Principal, creator_id: str, week: str
    ) -> rpc.WeeklyEstimate:
        """The running estimate of a creator's week ("" = current week)."""
        return await self._call(caller, self._stub.GetWeeklyEstimate,
                                rpc.GetWeeklyEstimateRequest(creator_id=creator_id, week=week))

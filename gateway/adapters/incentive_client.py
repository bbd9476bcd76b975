"""The incentive service over gRPC: estimates, the weekly pool's results, its operations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from gateway.adapters.grpc_errors import translate
from gateway.adapters.service_calls import CallSigner
from gateway.auth import Principal
from gateway.errors import Conflict
from planet.incentive.v1 import incentive_service_pb2 as rpc
from planet.incentive.v1 import incentive_service_pb2_grpc as rpc_grpc
from planet.incentive.v1 import weekly_pool_pb2 as pool

T = TypeVar("T")
SERVICE = "incentive service"


class GrpcIncentive:
    """IncentivePort over one grpc.aio channel; every call is signed for the user it serves."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rpc_grpc.IncentiveServiceStub(channel)
        self._signer = signer
        self._timeout_s = timeout_s

    async def _call(self, caller: Principal, method: Callable[..., Awaitable[T]],
                    request: object) -> T:
        """SignedCalls' translation, except FAILED_PRECONDITION: for the incentive service it
        is the pool's state (a week not settled or not closable yet, a held amount decided
        already), so 409 with the service's reason, not the 403 of "not this user yet"."""
        try:
            return await method(request, timeout=self._timeout_s,
                                metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
                raise Conflict(exc.details() or "the pool is not in a state for this") from None
            raise translate(exc, SERVICE) from None

    async def creator_estimate(self, caller: Principal, request: rpc.CreatorWeekRequest
                               ) -> pool.CreatorEstimate:
        """The running estimate of a creator's current week."""
        return await self._call(caller, self._stub.GetCreatorEstimate, request)

    async def creator_weeks(self, caller: Principal, request: rpc.ListCreatorWeeksRequest
                            ) -> rpc.CreatorWeeks:
        """A creator's settled weeks, newest first."""
        return await self._call(caller, self._stub.ListCreatorWeeks, request)

    async def creator_week(self, caller: Principal, request: rpc.CreatorWeekRequest
                           ) -> pool.CreatorWeekResult:
        """One settled week of a creator."""
        return await self._call(caller, self._stub.GetCreatorWeek, request)

    async def item_ledger(self, caller: Principal, request: rpc.ListItemLedgerRequest
                          ) -> rpc.ItemLedgerPage:
        """A page of a creator's per-item ledger."""
        return await self._call(caller, self._stub.ListItemLedger, request)

    async def creator_center(self, caller: Principal, request: rpc.CreatorCenterRequest
                             ) -> rpc.CreatorCenter:
        """A creator's center data."""
        return await self._call(caller, self._stub.GetCreatorCenter, request)

    async def settled_weeks(self, caller: Principal, request: rpc.ListSettledWeeksRequest
                            ) -> rpc.SettledWeeks:
        """Settled weeks, newest first."""
        return await self._call(caller, self._stub.ListSettledWeeks, request)

    async def fund_pool(self, caller: Principal, request: rpc.FundPoolRequest
                        ) -> rpc.PoolFunding:
        """Fund a week's pool."""
        return await self._call(caller, self._stub.FundPool, request)

    async def publish_policy(self, caller: Principal, request: rpc.PublishPolicyRequest
                             ) -> pool.PolicyPublished:
        """Publish a scoring policy."""
        return await self._call(caller, self._stub.PublishPolicy, request)

    async def shadow_compare(self, caller: Principal, request: rpc.ShadowCompareRequest
                             ) -> rpc.ShadowComparison:
        """Compare a candidate policy with the current one on a week."""
        return await self._call(caller, self._stub.ShadowCompare, request)

    async def close_week(self, caller: Principal, request: rpc.CloseWeekRequest
                         ) -> rpc.CloseWeekAnswer:
        """Ask to close a week early."""
        return await self._call(caller, self._stub.CloseWeek, request)

    async def decide_held(self, caller: Principal, request: rpc.DecideHeldRequest
                          ) -> pool.HeldDecided:
        """Release or forfeit a held amount."""
        return await self._call(caller, self._stub.DecideHeld, request)

    async def late_facts(self, caller: Principal, request: rpc.ListLateFactsRequest
                         ) -> rpc.LateFactsPage:
        """A page of a closed week's late facts."""
        return await self._call(caller, self._stub.ListLateFacts, request)

"""IncentiveService over gRPC: authorizes the end user, validates the request, asks the model.

The calling service is authenticated by ``planetkit.service_auth_server`` before this runs; a
creator's estimate is then shown only to that creator or to an operator/admin, whoever the
calling service is (defence in depth: the gateway checks the same). While the service is not
ready (its tables are recovering, or it does not hold every partition) a call answers
UNAVAILABLE: an estimate from half-recovered tables would be wrong, not just late.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import grpc

from planet.incentive.v1 import incentive_service_pb2_grpc
from planet.incentive.v1.incentive_service_pb2 import GetWeeklyEstimateRequest, WeeklyEstimate
from planetkit.service_auth import current_caller
from planetkit.weeks import iso_week_of_ms, parse_iso_week

# Who may see any creator's estimate; everyone else sees only their own.
OVERSEERS = frozenset({"operator", "admin"})


class EstimateSource(Protocol):
    """Where estimates come from."""

    def estimate(self, creator_id: str, week: str) -> WeeklyEstimate:
        """The running estimate of a creator's week."""
        ...


class IncentiveServicer(incentive_service_pb2_grpc.IncentiveServiceServicer):
    """GetWeeklyEstimate; an empty week means the current UTC ISO week."""

    def __init__(
        self, source: EstimateSource, now_ms: Callable[[], int], *, ready: Callable[[], bool]
    ) -> None:
        self._source = source
        self._now_ms = now_ms
        self._ready = ready

    async def GetWeeklyEstimate(
        self, request: GetWeeklyEstimateRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> WeeklyEstimate:
        """The running estimate of the creator's week so far."""
        caller = current_caller()
        own = bool(caller.user_id) and caller.user_id == request.creator_id
        if not own and not caller.has_any_role(OVERSEERS):
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                "only the creator (or an operator or admin) may see this estimate")
        if not request.creator_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "creator_id is required")
        # Asked at every call, not cached: readiness can drop (a rebalance) between probes.
        if not self._ready():
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                "the incentive tables are recovering; retry shortly")
        week = request.week or iso_week_of_ms(self._now_ms())
        try:
            parse_iso_week(week)
        except ValueError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return self._source.estimate(request.creator_id, week)

"""Content's ReportService over gRPC (reports, the operators' queues, removals, appeals), on
the content channel."""

from __future__ import annotations

import grpc

from gateway.adapters.service_calls import CallSigner, SignedCalls
from gateway.auth import Principal
from planet.content.v1 import reports_pb2 as rp
from planet.content.v1 import reports_pb2_grpc as rp_grpc


class GrpcReports:
    """ReportsPort over one grpc.aio channel; every call is signed for its user."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rp_grpc.ReportServiceStub(channel)
        self._call = SignedCalls(signer, timeout_s, "content service")

    async def report(self, caller: Principal, request: rp.ReportItemRequest
                     ) -> rp.ReportItemResponse:
        """File a report (a repeat answers the first)."""
        return await self._call(caller, self._stub.ReportItem, request)

    async def queue(self, caller: Principal, request: rp.ListQueueRequest
                    ) -> rp.ListQueueResponse:
        """A page of the reports or appeals queue (operators)."""
        return await self._call(caller, self._stub.ListQueue, request)

    async def decide_reports(self, caller: Principal, request: rp.DecideReportsRequest
                             ) -> rp.ItemModeration:
        """Confirm or dismiss an item's open reports (operators)."""
        return await self._call(caller, self._stub.DecideReports, request)

    async def appeal(self, caller: Principal, request: rp.AppealRemovalRequest
                     ) -> rp.ItemModeration:
        """Appeal the removal of the caller's item."""
        return await self._call(caller, self._stub.AppealRemoval, request)

    async def decide_appeal(self, caller: Principal, request: rp.DecideAppealRequest
                            ) -> rp.ItemModeration:
        """Uphold or deny an appeal (operators)."""
        return await self._call(caller, self._stub.DecideAppeal, request)

    async def get(self, caller: Principal, item_id: str) -> rp.ItemModeration:
        """An item's moderation (its author and operators)."""
        return await self._call(caller, self._stub.GetModeration,
                                rp.GetModerationRequest(item_id=item_id))

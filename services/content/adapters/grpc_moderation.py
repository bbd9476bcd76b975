"""ReportService over grpc.aio (served beside ContentService on the same port), its part of
the method policy, and the client that forwards a call to the owner replica.

A report and an appeal are made for the end user the call is made for (``reporter_id``,
``author_id`` must be that user). Queues and decisions are the operators' (the end user's
roles travel in the signed assertion; the use cases check them). Status codes:
INVALID_ARGUMENT for a request that breaks a rule, NOT_FOUND for an item the caller cannot
see, PERMISSION_DENIED for one's own item or a non-operator, ABORTED for a state
the request does not apply to (the gateway's 409), UNAVAILABLE while partitions move.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import grpc

from planet.content.v1 import reports_pb2 as rp
from planet.content.v1 import reports_pb2_grpc as rp_grpc
from planetkit.grpc_health import abort as _abort
from planetkit.service_auth import Caller, current_caller
from planetkit.service_auth_assertion import AssertionSigner
from planetkit.service_auth_server import MethodPolicy, method_name
from planetkit.service_identities import CONTENT, GATEWAY
from services.content.adapters.forwarding import ForwardingPeers
from services.content.adapters.peers import PeerFailed
from services.content.domain.errors import EventLogUnavailable, NotServing
from services.content.domain.interactions import InvalidInteraction
from services.content.domain.moderation import (
    ModerationConflict,
    ModerationNotFound,
    ModerationRefused,
)

SERVICE_NAME = rp.DESCRIPTOR.services_by_name["ReportService"].full_name
METHODS = ("ReportItem", "ListQueue", "DecideReports", "AppealRemoval", "DecideAppeal",
           "GetModeration")
# Every method is the gateway's (for its end user) or a replica's forwarding it.
REPORT_POLICY: MethodPolicy = {
    method_name(SERVICE_NAME, m): frozenset({GATEWAY, CONTENT}) for m in METHODS}

Context = grpc.aio.ServicerContext[Any, Any]
T = TypeVar("T")


class ModerationUseCases(Protocol):
    """What the servicer calls (services.content.moderation.Moderation)."""

    async def report(self, request: rp.ReportItemRequest, caller: Caller
                     ) -> rp.ReportItemResponse:
        """File a report."""

    async def queue(self, request: rp.ListQueueRequest, caller: Caller
                    ) -> rp.ListQueueResponse:
        """A queue page."""

    async def decide_reports(self, request: rp.DecideReportsRequest, caller: Caller
                             ) -> rp.ItemModeration:
        """Confirm or dismiss."""

    async def appeal(self, request: rp.AppealRemovalRequest, caller: Caller
                     ) -> rp.ItemModeration:
        """Appeal a removal."""

    async def decide_appeal(self, request: rp.DecideAppealRequest, caller: Caller
                            ) -> rp.ItemModeration:
        """Uphold or deny."""

    async def get(self, item_id: str, caller: Caller) -> rp.ItemModeration:
        """An item's moderation."""


async def _run(context: Context, call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except InvalidInteraction as exc:
        await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    except ModerationNotFound as exc:
        await _abort(context, grpc.StatusCode.NOT_FOUND, str(exc))
    except ModerationRefused as exc:
        await _abort(context, grpc.StatusCode.PERMISSION_DENIED, str(exc))
    except ModerationConflict as exc:
        await _abort(context, grpc.StatusCode.ABORTED, str(exc))
    except (EventLogUnavailable, NotServing) as exc:
        await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
    except PeerFailed as exc:
        await _abort(context, exc.code, exc.details)
    raise AssertionError("unreachable: abort raises")


def _for_user(user_id: str, what: str) -> Caller:
    caller = current_caller()
    if not caller.user_id or caller.user_id != user_id:
        raise ModerationRefused(f"{what} must be the end user the call is made for")
    return caller


class ReportServicer(rp_grpc.ReportServiceServicer):
    """Translates RPCs to use-case calls and refusals to status codes."""

    def __init__(self, moderation: ModerationUseCases) -> None:
        self._moderation = moderation

    async def ReportItem(self, request: rp.ReportItemRequest, context: Context
                         ) -> rp.ReportItemResponse:
        """Report an item."""
        return await _run(context, lambda: self._moderation.report(
            request, _for_user(request.reporter_id, "reporter_id")))

    async def ListQueue(self, request: rp.ListQueueRequest, context: Context
                        ) -> rp.ListQueueResponse:
        """A page of the reports (or appeals) queue."""
        return await _run(context, lambda: self._moderation.queue(request, current_caller()))

    async def DecideReports(self, request: rp.DecideReportsRequest, context: Context
                            ) -> rp.ItemModeration:
        """Confirm or dismiss an item's open reports."""
        async def call() -> rp.ItemModeration:
            caller = current_caller()
            if request.operator_id != caller.user_id:
                raise ModerationRefused("operator_id must be the end user the call is made for")
            return await self._moderation.decide_reports(request, caller)
        return await _run(context, call)

    async def AppealRemoval(self, request: rp.AppealRemovalRequest, context: Context
                            ) -> rp.ItemModeration:
        """Appeal the removal of one's item."""
        return await _run(context, lambda: self._moderation.appeal(
            request, _for_user(request.author_id, "author_id")))

    async def DecideAppeal(self, request: rp.DecideAppealRequest, context: Context
                           ) -> rp.ItemModeration:
        """Uphold or deny an appeal."""
        async def call() -> rp.ItemModeration:
            caller = current_caller()
            if request.operator_id != caller.user_id:
                raise ModerationRefused("operator_id must be the end user the call is made for")
            return await self._moderation.decide_appeal(request, caller)
        return await _run(context, call)

    async def GetModeration(self, request: rp.GetModerationRequest, context: Context
                            ) -> rp.ItemModeration:
        """An item's moderation (its author and operators)."""
        return await _run(context, lambda: self._moderation.get(request.item_id,
                                                                current_caller()))


def add_reports(server: grpc.aio.Server, moderation: ModerationUseCases) -> None:
    """Serve ReportService on ``server`` (its methods are in REPORT_POLICY)."""
    rp_grpc.add_ReportServiceServicer_to_server(ReportServicer(moderation), server)


# What the owner said about the request itself passes through; anything about reaching it
# (down, slow, moving) is UNAVAILABLE, which callers retry.
_PASSED_THROUGH = frozenset({
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ABORTED,
})


class ReportPeersClient(ForwardingPeers):
    """Forwards ReportService calls to the replica owning the post (adapters/forwarding.py)."""

    def __init__(self, signer: AssertionSigner | None, audience: str, timeout_s: float) -> None:
        super().__init__(signer, audience, timeout_s, rp_grpc.ReportServiceStub, _PASSED_THROUGH)
